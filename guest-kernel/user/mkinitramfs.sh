#!/usr/bin/env bash
# Packs the user programs into a cpio "newc" initramfs for our kernel:
#   /init -> bin/hello-musl (symlink), /bin/{hello,efault,segv,thp,syscalls,bpf} (no_std
#   Rust), /bin/hello-musl (musl-gcc -static) and /bin/hello-pie (static-pie).
# Usage: mkinitramfs.sh <dir with the Rust programs> <output.cpio>
set -euo pipefail
rust_dir=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
musl=/usr/lib/x86_64-linux-musl
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin"
for prog in hello efault segv thp syscalls bpf; do
    cp "$rust_dir/$prog" "$stage/bin/$prog"
done
musl-gcc -static -O2 -Wall -o "$stage/bin/hello-musl" "$here/c/hello.c"
# Debian's musl-gcc has no static-pie spec: rcrt1.o relocates the program.
musl-gcc -fPIE -static-pie -Wl,--no-dynamic-linker -Wl,-Bstatic -nostartfiles -O2 -Wall \
    -o "$stage/bin/hello-pie" "$musl/rcrt1.o" "$musl/crti.o" "$here/c/hello.c" "$musl/crtn.o"
strip "$stage"/bin/*
ln -s bin/hello-musl "$stage/init"
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
