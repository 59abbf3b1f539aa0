#!/usr/bin/env bash
# The referee kernel: a minimal Linux built from Debian trixie's own 6.12
# source (linux-source-6.12), so the real 6.8 drivers, built in, probe our
# device models at boot. See integration/referee/README.md.
#
#   referee.sh build                      fetch, unpack, patch, configure, build (reused when present)
#   referee.sh path vmlinux|bzImage|config print the current build's output path
#   referee.sh source                     fetch and unpack only; print the source tree's path
#
# Inputs: integration/referee/referee.config (a Kconfig fragment merged over
# tinyconfig) and integration/referee/referee.patch (two kvm-pvm entry
# changes, applied with patch -p1). Everything else lives in the cache:
#   $VMM_CACHE_DIR (default ~/.cache/vmm)/referee/
#     apt/ debs/            private apt configuration and the downloaded package
#     version               the source package version in use
#     src/<version>/        the unpacked source tree (patched in place)
#     build/<version>/      the kbuild output directory (O=), reused across keys
#     out/<version>-<hash>/ vmlinux, bzImage, config: hash covers fragment + patch
# A warm build with nothing changed does no apt call and no make. A changed
# fragment or patch rebuilds incrementally; the tree is returned to pristine
# (the old patch reversed) before a new patch is applied. The archive is the
# one this machine's apt already uses; only the suite (trixie) differs. Set
# VMM_REFEREE_REFRESH=1 to ask the archive for a newer source package.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REFEREE_DIR=$(cd "$here/../referee" && pwd)
FRAGMENT="$REFEREE_DIR/referee.config"
PATCH="$REFEREE_DIR/referee.patch"

CACHE="${VMM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vmm}/referee"
APT="$CACHE/apt"
SOURCE_PACKAGE=linux-source-6.12
TARBALL=usr/src/linux-source-6.12.tar.xz
# Kconfig symbols the fragment asks for that may legitimately not stick.
# DEBUG_KERNEL: tinyconfig sets EXPERT, which selects it (harmless).
ALLOWED_MISMATCH=' DEBUG_KERNEL '

die() { echo "referee: $*" >&2; exit 1; }
log() { echo "referee: $*" >&2; }

# archive_uri, apt_opts, trixie_apt_setup, KEYRING (private apt config for trixie)
# shellcheck source-path=SCRIPTDIR source=apt-trixie.sh
. "$here/apt-trixie.sh"

# CPU-heavy work yields to the benchmarks that share this machine.
heavy() { nice -n 19 "$@"; }

sha256() { sha256sum "$1" | cut -c1-64; }

# The output key: source version + fragment + patch.
key_hash() {
    printf '%s\n%s\n' "$(sha256 "$FRAGMENT")" "$(sha256 "$PATCH")" | sha256sum | cut -c1-12
}

current_version() {
    [ -s "$CACHE/version" ] && cat "$CACHE/version"
}

out_dir() { echo "$CACHE/out/$1-$(key_hash)"; }

ensure_build_deps() {
    local missing=() pkg
    for pkg in bison flex cpio bc libelf-dev libssl-dev make gcc xz-utils patch dpkg debian-archive-keyring; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Download linux-source-6.12 from trixie (only when no version is known yet,
# or on VMM_REFEREE_REFRESH=1); records the version in $CACHE/version.
fetch_source() {
    local version
    if version=$(current_version) && [ -f "$CACHE/debs/$version.deb" ] \
        && [ "${VMM_REFEREE_REFRESH:-0}" != 1 ]; then
        return
    fi
    trixie_apt_setup
    # shellcheck disable=SC2046
    apt-get $(apt_opts) update -qq
    # shellcheck disable=SC2046
    version=$(apt-cache $(apt_opts) show "$SOURCE_PACKAGE" 2>/dev/null \
        | awk '/^Version:/ { print $2 }' | sort -V | tail -n 1)
    [ -n "$version" ] || die "no package $SOURCE_PACKAGE in $APT_SUITE"
    if [ ! -f "$CACHE/debs/$version.deb" ]; then
        log "fetching $SOURCE_PACKAGE $version"
        local tmp="$CACHE/debs/tmp"
        rm -rf "$tmp" && mkdir -p "$tmp"
        # shellcheck disable=SC2046
        (cd "$tmp" && apt-get $(apt_opts) download -qq "$SOURCE_PACKAGE=$version")
        mv "$tmp"/*.deb "$CACHE/debs/$version.deb"
        rm -rf "$tmp"
    fi
    echo "$version" > "$CACHE/version"
}

# The unpacked tree for VERSION: $CACHE/src/VERSION/linux-source-6.12.
unpack_source() {
    local version=$1 src="$CACHE/src/$1"
    [ -f "$src/.unpacked" ] && return
    log "unpacking $SOURCE_PACKAGE $version"
    rm -rf "$src" && mkdir -p "$src"
    dpkg-deb --fsys-tarfile "$CACHE/debs/$version.deb" | tar -xf - -C "$src" "./$TARBALL"
    heavy tar -xJf "$src/$TARBALL" -C "$src"
    rm -rf "${src:?}/usr"
    [ -f "$src/linux-source-6.12/Makefile" ] || die "unexpected layout in $SOURCE_PACKAGE $version"
    touch "$src/.unpacked"
}

# Bring the tree to pristine + referee.patch. The applied patch is kept as
# .referee.patch in the tree; a different patch is first reversed with it.
apply_patch() {
    local version=$1 tree="$CACHE/src/$1/linux-source-6.12"
    local applied="$tree/.referee.patch"
    if [ -f "$applied" ] && cmp -s "$applied" "$PATCH"; then
        return
    fi
    if [ -f "$applied" ]; then
        log "patch changed: reversing the previous one"
        if ! patch -d "$tree" -p1 -R -s --no-backup-if-mismatch < "$applied"; then
            log "cannot reverse the previous patch: unpacking a pristine tree"
            rm -rf "$CACHE/src/$version"
            unpack_source "$version"
        fi
        rm -f "$applied"
    fi
    patch -d "$tree" -p1 --dry-run -s < "$PATCH" >/dev/null \
        || die "$PATCH does not apply to $SOURCE_PACKAGE $version"
    patch -d "$tree" -p1 -s --no-backup-if-mismatch < "$PATCH"
    cp "$PATCH" "$applied"
}

# Every CONFIG_X=value the fragment asks for must be in the final .config
# (=n: absent or "is not set").
verify_config() {
    local config=$1 bad=() line sym val
    while IFS= read -r line; do
        case "$line" in CONFIG_*=*) ;; *) continue ;; esac
        sym=${line%%=*} val=${line#*=}
        case "$ALLOWED_MISMATCH" in *" ${sym#CONFIG_} "*) continue ;; esac
        if [ "$val" = n ]; then
            grep -q "^$sym=" "$config" && bad+=("$sym=n (got $(grep "^$sym=" "$config" | cut -d= -f2-))")
        else
            grep -qxF "$sym=$val" "$config" \
                || bad+=("$sym=$val (got $(grep "^$sym=" "$config" | cut -d= -f2- || echo 'not set'))")
        fi
    done < "$FRAGMENT"
    if [ ${#bad[@]} -gt 0 ]; then
        echo "referee: these fragment settings did not stick after olddefconfig:" >&2
        printf '  %s\n' "${bad[@]}" >&2
        return 1
    fi
}

build() {
    [ -f "$FRAGMENT" ] || die "missing $FRAGMENT"
    [ -f "$PATCH" ] || die "missing $PATCH"
    mkdir -p "$CACHE/debs"
    exec 9> "$CACHE/lock"
    flock 9
    local version out
    if version=$(current_version) && [ "${VMM_REFEREE_REFRESH:-0}" != 1 ] \
        && [ -f "$(out_dir "$version")/complete" ]; then
        log "using $(out_dir "$version")"
        return
    fi
    local start=$SECONDS
    ensure_build_deps
    fetch_source
    version=$(current_version)
    out=$(out_dir "$version")
    if [ -f "$out/complete" ]; then
        log "using $out"
        return
    fi
    unpack_source "$version"
    apply_patch "$version"

    local tree="$CACHE/src/$version/linux-source-6.12" obj="$CACHE/build/$version"
    local logfile="$CACHE/build/$version.log"
    mkdir -p "$obj"
    log "configuring (tinyconfig + $(basename "$FRAGMENT"))"
    : > "$logfile"
    {
        heavy make -C "$tree" O="$obj" tinyconfig
        (cd "$obj" && heavy "$tree/scripts/kconfig/merge_config.sh" -m .config "$FRAGMENT")
        heavy make -C "$tree" O="$obj" olddefconfig
    } >> "$logfile" 2>&1 || die "configuration failed: see $logfile"
    verify_config "$obj/.config" || die "fix $FRAGMENT (full .config: $obj/.config)"

    log "building vmlinux and bzImage (make -j2; log: $logfile)"
    heavy make -C "$tree" O="$obj" -j2 vmlinux bzImage >> "$logfile" 2>&1 \
        || { tail -n 40 "$logfile" >&2; die "build failed: see $logfile"; }

    rm -rf "$out" && mkdir -p "$out"
    cp "$obj/vmlinux" "$out/vmlinux"
    cp "$obj/arch/x86/boot/bzImage" "$out/bzImage"
    cp "$obj/.config" "$out/config"
    cp "$FRAGMENT" "$out/referee.config"
    cp "$PATCH" "$out/referee.patch"
    echo "$SOURCE_PACKAGE $version" > "$out/complete"
    log "ready: $out (vmlinux $(du -h "$out/vmlinux" | cut -f1), bzImage $(du -h "$out/bzImage" | cut -f1))"
    log "build time: $((SECONDS - start)) s"
}

source_tree() {
    mkdir -p "$CACHE/debs"
    exec 9> "$CACHE/lock"
    flock 9
    ensure_build_deps
    fetch_source
    local version
    version=$(current_version)
    unpack_source "$version"
    echo "$CACHE/src/$version/linux-source-6.12"
}

case "${1:-}" in
    build) [ $# -eq 1 ] || die "usage: $0 build"; build ;;
    source) [ $# -eq 1 ] || die "usage: $0 source"; source_tree ;;
    path)
        [ $# -eq 2 ] || die "usage: $0 path vmlinux|bzImage|config"
        case "$2" in vmlinux|bzImage|config) ;; *) die "usage: $0 path vmlinux|bzImage|config" ;; esac
        version=$(current_version) || die "the referee kernel is not built: run '$0 build'"
        out=$(out_dir "$version")
        if [ ! -f "$out/complete" ] || [ ! -f "$out/$2" ]; then
            die "no $2 for the current fragment and patch ($out): run '$0 build'"
        fi
        echo "$out/$2" ;;
    *) die "usage: $0 build | path vmlinux|bzImage|config | source" ;;
esac
