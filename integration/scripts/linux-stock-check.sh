#!/usr/bin/env bash
# make linux-stock-check: Debian's stock 6.12 vmlinux plus a busybox
# initramfs whose /init reports CPUs and memory and powers off, booted under
# our VMM; prints the time to each boot milestone. On hardware KVM it ends
# with /init's report and exit code 0. On kvm-pvm the kernel reaches
# `Run /init` but 64-bit user space dies on SYSCALL (see platform.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vmm="$root/target/release/vmm"
rig="$here/linux-guest.sh"
limit=${LINUX_CHECK_TIMEOUT:-1800}

bash "$rig" fetch
initrd=$(mktemp)
trap 'rm -f "$initrd"' EXIT
bash "$rig" initramfs "$here/../linux/init.sh" "$initrd"
cmdline="console=ttyS0 clearcpuid=cx16,ssse3,aes,pclmulqdq,smap,popcnt noxsave panic=-1"

echo "linux-stock-check: booting $(cat "$(dirname "$(bash "$rig" path vmlinux)")/complete") (limit ${limit} s)"
start=$(date +%s.%N)
elapsed() { awk -v now="$(date +%s.%N)" -v start="$start" 'BEGIN { printf "%.1f", now - start }'; }
set +e
"$vmm" --kernel "$(bash "$rig" path vmlinux)" --initramfs "$initrd" --cpus 2 --memory 256M \
    --cmdline "$cmdline" --timeout "$limit" --timings 2>&1 |
while IFS= read -r line; do
    case "$line" in
        *"Linux version"*|*"Freeing SMP alternatives"*|*"smp: Brought up"*|*"Run /init"*|\
        "init: "*|*"Kernel panic"*|*"vmm"*)
            printf '%8s s  %s\n' "$(elapsed)" "$line" ;;
    esac
done
status=${PIPESTATUS[0]}
set -e
echo "linux-stock-check: vmm exit code $status after $(elapsed) s"
exit 0
