#!/usr/bin/env bash
# The QAT 420xx firmware Linux's qat_420xx driver loads at probe
# (qat_420xx.bin and qat_420xx_mmp.bin), from Debian trixie's
# firmware-intel-misc package (non-free-firmware, redistributable under
# LICENCE.qat_firmware), fetched with apt into a cache outside the
# repository. Nothing fetched is committed.
#
#   qat-firmware.sh fetch     download and unpack (reused when present)
#   qat-firmware.sh overlay   print a directory holding lib/firmware/qat_420xx*.bin,
#                             for linux-guest.sh initramfs INIT OUT OVERLAY
#
# Set VMM_CACHE_DIR to move the cache, VMM_QAT_FIRMWARE_REFRESH=1 to fetch again.
set -euo pipefail

CACHE="${VMM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmm}/qat-firmware"
OUT="$CACHE/overlay"
APT="$CACHE/apt"
FILES=(qat_420xx.bin qat_420xx_mmp.bin)

die() { echo "qat-firmware: $*" >&2; exit 1; }
log() { echo "qat-firmware: $*" >&2; }

# archive_uri, apt_opts, trixie_apt_setup, KEYRING (private apt config for trixie)
# shellcheck source-path=SCRIPTDIR source=apt-trixie.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-trixie.sh"

fetch() {
    if [ -f "$OUT/complete" ] && [ "${VMM_QAT_FIRMWARE_REFRESH:-0}" != 1 ]; then
        return
    fi
    command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (apt-get install dpkg)"
    trixie_apt_setup non-free-firmware
    # shellcheck disable=SC2046
    apt-get $(apt_opts) update -qq
    rm -rf "$CACHE/debs" "$CACHE/root" "$OUT"
    mkdir -p "$CACHE/debs" "$CACHE/root" "$OUT/lib/firmware"
    log "fetching firmware-intel-misc"
    # shellcheck disable=SC2046
    (cd "$CACHE/debs" && apt-get $(apt_opts) download -qq firmware-intel-misc)
    dpkg-deb -x "$CACHE"/debs/firmware-intel-misc_*.deb "$CACHE/root"
    for file in "${FILES[@]}"; do
        local found
        found=$(find "$CACHE/root" -name "$file" -print -quit)
        [ -n "$found" ] || die "firmware-intel-misc has no $file"
        cp "$found" "$OUT/lib/firmware/$file"
    done
    cat "$CACHE"/debs/firmware-intel-misc_*.deb | sha256sum | cut -c1-16 > "$OUT/complete"
    rm -rf "$CACHE/root"
    log "ready: $OUT/lib/firmware (${FILES[*]})"
}

case "${1:-}" in
    fetch) fetch ;;
    overlay)
        [ -f "$OUT/complete" ] || fetch
        echo "$OUT" ;;
    *) die "usage: $0 fetch | overlay" ;;
esac
