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
log=$(mktemp)
trap 'rm -f "$initrd" "$log"' EXIT
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
        "init: "*|*"Kernel panic"*|*"vmm"*|"  rip:"*|"  instruction:"*|"  bytes:"*|"  cr0="*|"  rsp="*)
            printf '%8s s  %s\n' "$(elapsed)" "$line" ;;
    esac
done | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "linux-stock-check: vmm exit code $status after $(elapsed) s"
# Hardware KVM: /init reports and powers off (exit 0). kvm-pvm: 64-bit user
# space cannot run (SYSCALL), so reaching Run /init is as far as it goes.
if grep -q "init: cpus" "$log" && [ "$status" -eq 0 ]; then
    echo "linux-stock-check: passed: /init ran and powered off"
elif [ -e /sys/module/kvm_pvm ] && grep -q "Run /init" "$log"; then
    echo "linux-stock-check: passed: reached Run /init (kvm-pvm cannot run 64-bit user space)"
else
    echo "linux-stock-check: FAILED: neither /init's report nor (on kvm-pvm) Run /init" >&2
    exit 1
fi
