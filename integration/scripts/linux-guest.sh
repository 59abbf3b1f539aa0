#!/usr/bin/env bash
# The Linux-guest rig: Debian trixie's stock 6.12 kernel and static busybox,
# fetched with apt into a cache outside the repository, unpacked, and turned
# into what the VMM boots.
#
#   linux-guest.sh fetch                  download and unpack (reused when present)
#   linux-guest.sh initramfs INIT OUT [OVERLAY]
#                                         a newc initramfs: busybox + INIT as /init,
#                                         plus OVERLAY's tree (e.g. lib/firmware/...)
#   linux-guest.sh path NAME              print the path of vmlinux|vmlinuz|busybox|modules
#
# The archive is the one this machine's apt already uses (its URI is read
# from /etc/apt at run time); only the suite differs. Set VMM_CACHE_DIR to
# move the cache, VMM_LINUX_REFRESH=1 to fetch again.
set -euo pipefail

CACHE="${VMM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmm}/linux-guest"
OUT="$CACHE/out"
APT="$CACHE/apt"
KERNEL_PACKAGES='^linux-image-6\.12\.[0-9]+\+deb13-amd64-unsigned$'

die() { echo "linux-guest: $*" >&2; exit 1; }
log() { echo "linux-guest: $*" >&2; }

# archive_uri, apt_opts, trixie_apt_setup, KEYRING (private apt config for trixie)
# shellcheck source-path=SCRIPTDIR source=apt-trixie.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-trixie.sh"

ensure_tools() {
    local missing=()
    command -v zstd >/dev/null || missing+=(zstd)
    command -v cpio >/dev/null || missing+=(cpio)
    command -v dpkg-deb >/dev/null || missing+=(dpkg)
    [ -f "$KEYRING" ] || missing+=(debian-archive-keyring)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# The bzImage's compressed payload, decompressed: the kernel's ELF vmlinux.
extract_vmlinux() {
    local bzimage=$1 out=$2 setup_sects payload_offset payload_length start
    setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bzimage" | tr -d ' ')
    payload_offset=$(od -An -tu4 -j $((0x248)) -N4 "$bzimage" | tr -d ' ')
    payload_length=$(od -An -tu4 -j $((0x24c)) -N4 "$bzimage" | tr -d ' ')
    [ "${setup_sects:-0}" -eq 0 ] && setup_sects=4
    start=$(( (setup_sects + 1) * 512 + payload_offset ))
    # The payload ends with the 4-byte decompressed size Linux's build appends.
    # (head first: a tail cut short by head would die of SIGPIPE under pipefail)
    head -c $((start + payload_length - 4)) "$bzimage" | tail -c $((payload_length - 4)) \
        | zstd -dcq > "$out.tmp" \
        || die "cannot decompress the payload of $bzimage (not zstd?)"
    [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] \
        || die "the payload of $bzimage is not an ELF file"
    mv "$out.tmp" "$out"
}

fetch() {
    if [ -f "$OUT/complete" ] && [ "${VMM_LINUX_REFRESH:-0}" != 1 ]; then
        log "using $(cat "$OUT/complete") from $OUT"
        return
    fi
    ensure_tools
    mkdir -p "$CACHE/debs"
    trixie_apt_setup
    # shellcheck disable=SC2046
    apt-get $(apt_opts) update -qq
    local kernel
    # shellcheck disable=SC2046
    kernel=$(apt-cache $(apt_opts) pkgnames linux-image-6.12 | grep -E "$KERNEL_PACKAGES" | sort -V | tail -n 1)
    [ -n "$kernel" ] || die "no package matching $KERNEL_PACKAGES in $APT_SUITE"
    log "fetching $kernel and busybox-static"
    rm -rf "$CACHE/debs" && mkdir -p "$CACHE/debs"
    # shellcheck disable=SC2046
    (cd "$CACHE/debs" && apt-get $(apt_opts) download -qq "$kernel" busybox-static)
    rm -rf "$CACHE/root" "$OUT" && mkdir -p "$CACHE/root" "$OUT"
    for deb in "$CACHE"/debs/*.deb; do dpkg-deb -x "$deb" "$CACHE/root"; done
    local vmlinuz
    vmlinuz=$(ls "$CACHE"/root/boot/vmlinuz-* | head -n 1)
    cp "$vmlinuz" "$OUT/vmlinuz"
    extract_vmlinux "$OUT/vmlinuz" "$OUT/vmlinux"
    cp "$CACHE/root/usr/bin/busybox" "$OUT/busybox"
    ln -sfn "$(ls -d "$CACHE"/root/usr/lib/modules/* | head -n 1)" "$OUT/modules"
    echo "$kernel" > "$OUT/complete"
    log "ready: $OUT (vmlinuz, vmlinux, busybox, modules)"
}

# A newc initramfs holding busybox (with its applet links), INIT as /init,
# and the files under OVERLAY (a directory) at the same paths.
initramfs() {
    local init=$1 out=$2 overlay=${3:-} dir
    [ -f "$OUT/complete" ] || fetch
    [ -f "$init" ] || die "no such init script: $init"
    dir=$(mktemp -d)
    mkdir -p "$dir"/{bin,sbin,proc,sys,dev,tmp,etc}
    cp "$OUT/busybox" "$dir/bin/busybox"
    for applet in $("$OUT/busybox" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
    done
    install -m 0755 "$init" "$dir/init"
    if [ -n "$overlay" ]; then
        [ -d "$overlay" ] || die "no such overlay directory: $overlay"
        cp -a "$overlay/." "$dir/"
    fi
    (cd "$dir" && find . | sort | cpio -o -H newc --quiet) > "$out"
    rm -rf "$dir"
}

case "${1:-}" in
    fetch) fetch ;;
    initramfs)
        [ $# -eq 3 ] || [ $# -eq 4 ] || die "usage: $0 initramfs INIT OUT [OVERLAY]"
        initramfs "$2" "$3" "${4:-}" ;;
    path)
        [ $# -eq 2 ] || die "usage: $0 path vmlinux|vmlinuz|busybox|modules"
        [ -e "$OUT/$2" ] || die "$OUT/$2 is missing: run '$0 fetch' (make linux-guest)"
        echo "$OUT/$2" ;;
    *) die "usage: $0 fetch | initramfs INIT OUT [OVERLAY] | path NAME" ;;
esac
