//! The referee kernel's real PCI, virtio-pci, virtio-blk, virtio-rng and
//! virtio-net drivers against our PCIe platform and device models: the
//! topology in /sys/bus/pci, a clean PCI/ACPI log, a 16 MiB round trip
//! through virtio-blk that the host checks byte for byte, a readonly disk
//! that refuses writes, MSI-X interrupts, /dev/hwrng, and two VMs linked
//! by the socket backend pinging each other.

use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use integration::kvm_available;
use integration::linux::{
    referee_vmlinux, run_linux_script, run_linux_script_with_cmdline, LinuxRun, REFEREE_CMDLINE,
};

const MIB: usize = 1 << 20;

/// Deterministic pseudo-random bytes (xorshift64*).
fn pseudo_random(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A fresh disk image in the scratch directory.
fn disk(name: &str, contents: &[u8]) -> PathBuf {
    integration::scratch_file(name, contents)
}

/// Lists the PCI functions, checks the log, finds the disks by serial,
/// copies 16 MiB from `src` to `dst` with direct I/O, tries to write the
/// readonly disk, counts MSI-X interrupts and reads /dev/hwrng.
const CHECKS: &str = r#"
# Shell builtins where possible: every fork costs emulated kernel time.
for d in /sys/bus/pci/devices/*; do
  read -r vendor < $d/vendor; read -r device < $d/device; read -r class < $d/class
  driver=; [ -e $d/driver ] && driver=$(readlink $d/driver) && driver=${driver##*/}
  echo "pcidev ${d##*/} $vendor $device $class driver=$driver"
done
# Linux always prints the pci=nocrs hint; it is advice, not a complaint.
dmesg | grep -iE 'pci|acpi|ecam|virtio' | grep -v 'pci=nocrs' \
  | grep -iE "error|fail|can't|cannot|not reserved|not using|no compatible|conflict|warn|bug|invalid|ignor" > /tmp/complaints
if [ -s /tmp/complaints ]; then
  while read -r line; do echo "complaint: $line"; done < /tmp/complaints
  result pci_dmesg_clean fail
else
  result pci_dmesg_clean pass
fi
for b in /sys/block/vd*; do
  name=${b##*/}; read -r serial < $b/serial; read -r ro < $b/ro; read -r size < $b/size
  echo "disk $name serial=$serial ro=$ro sectors=$size"
  eval "dev_$serial=/dev/$name; ro_$serial=$ro"
done
# Read the source and write the destination with direct I/O (no page
# cache, no copies in the guest kernel); the host compares the files.
if dd if=$dev_src of=$dev_dst bs=1M count=16 iflag=direct oflag=direct 2>/dev/null && sync; then
  result blk_copy pass
else
  result blk_copy fail "dd failed"
fi
[ "$ro_ro" = 1 ] && result blk_readonly_flag pass || result blk_readonly_flag fail "ro=$ro_ro"
if dd if=/dev/zero of=$dev_ro bs=512 count=1 oflag=direct 2>/dev/null; then
  result blk_readonly_refuses fail "write succeeded"
else
  result blk_readonly_refuses pass
fi
grep -E 'virtio' /proc/interrupts | sed 's/^/irq: /'
req=$(grep -E 'PCI-MSIX.*virtio[0-9]+-req' /proc/interrupts | awk '{ s += $2 } END { print s + 0 }')
[ "$req" -gt 0 ] && result blk_msix pass "$req" || result blk_msix fail "$req"
read -r rng < /sys/class/misc/hw_random/rng_current
one=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
two=$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
zeros=0000000000000000000000000000000000000000000000000000000000000000
if [ "${#one}" = 64 ] && [ "$one" != "$two" ] && [ "$one" != "$zeros" ]; then
  result hwrng pass "$rng $one"
else
  result hwrng fail "$rng '$one' '$two'"
fi
"#;

#[test]
fn test_referee_drives_virtio_blk_and_rng_over_msix() {
    if !kvm_available() {
        return;
    }
    let source = pseudo_random(16 * MIB, 0x5eed_1234_abcd_0001);
    let readonly = pseudo_random(MIB, 7);
    let src = disk("referee-src.img", &source);
    let dst = disk("referee-dst.img", &vec![0; 16 * MIB]);
    let ro = disk("referee-ro.img", &readonly);
    let args = [
        format!("path={},serial=src", src.display()),
        format!("path={},serial=dst", dst.display()),
        format!("path={},readonly=on,serial=ro", ro.display()),
    ];
    let run = run_linux_script(
        "referee-virtio",
        &referee_vmlinux(),
        CHECKS,
        &[
            "--memory", "256M", "--disk", &args[0], "--disk", &args[1], "--disk", &args[2], "--rng",
        ],
        Duration::from_secs(300),
    );
    let console = &run.run.stdout;
    for expected in [
        "pcidev 0000:00:00.0 0x1b36 0x0008 0x060000",
        "pcidev 0000:00:01.0 0x1b36 0x000c 0x060400 driver=pcieport",
        "pcidev 0000:01:00.0 0x1af4 0x1042 0x018000 driver=virtio-pci",
        "pcidev 0000:00:04.0 0x1b36 0x000c 0x060400 driver=pcieport",
        "pcidev 0000:04:00.0 0x1af4 0x1044 0x00ff00 driver=virtio-pci",
    ] {
        assert!(
            console.contains(expected),
            "missing `{expected}`:\n{console}"
        );
    }
    for name in [
        "pci_dmesg_clean",
        "blk_copy",
        "blk_readonly_flag",
        "blk_readonly_refuses",
        "blk_msix",
        "hwrng",
    ] {
        run.expect_pass(name);
    }
    run.run.expect_code(0);
    let written = std::fs::read(&dst).unwrap();
    assert!(
        written == source,
        "the destination disk differs from the source"
    );
    assert_eq!(
        std::fs::read(&ro).unwrap(),
        readonly,
        "readonly disk changed"
    );
}

/// With `pci=nomsi` the virtio drivers fall back to INTx: the disk's
/// interrupts arrive through the IOAPIC input `_PRT` routes its slot to.
#[test]
fn test_referee_virtio_blk_works_over_intx_without_msi() {
    if !kvm_available() {
        return;
    }
    let source = pseudo_random(MIB, 11);
    let src = disk("referee-intx-src.img", &source);
    let dst = disk("referee-intx-dst.img", &vec![0; MIB]);
    let args = [
        format!("path={},serial=src", src.display()),
        format!("path={},serial=dst", dst.display()),
    ];
    let script = r#"
for b in /sys/block/vd*; do read -r serial < $b/serial; eval "dev_$serial=/dev/${b##*/}"; done
if dd if=$dev_src of=$dev_dst bs=64k count=16 iflag=direct oflag=direct 2>/dev/null; then
  result blk_copy pass
else
  result blk_copy fail
fi
grep -E 'virtio' /proc/interrupts | sed 's/^/irq: /'
n=$(grep -E 'IO-APIC.*virtio' /proc/interrupts | awk '{ s += $2 } END { print s + 0 }')
m=$(grep -c 'PCI-MSI' /proc/interrupts)
[ "$n" -gt 0 ] && [ "$m" = 0 ] && result intx pass "$n" || result intx fail "ioapic=$n msi lines=$m"
"#;
    let cmdline = format!("{REFEREE_CMDLINE} pci=nomsi");
    let run = run_linux_script_with_cmdline(
        "referee-intx",
        &referee_vmlinux(),
        script,
        &cmdline,
        &["--memory", "128M", "--disk", &args[0], "--disk", &args[1]],
        Duration::from_secs(300),
    );
    run.expect_pass("blk_copy");
    run.expect_pass("intx");
    run.run.expect_code(0);
    assert!(
        run.run.stdout.contains("IO-APIC  17-fasteoi   virtio0"),
        "slot 1 INTA is GSI 17:\n{}",
        run.run.stdout
    );
    assert!(std::fs::read(&dst).unwrap() == source, "copy differs");
}

/// Brings eth0 up as 10.0.2.ME and pings 10.0.2.PEER once the peer answers.
fn ping_script(me: u8, peer: u8) -> String {
    format!(
        r#"
ip link set eth0 up && ip addr add 10.0.2.{me}/24 dev eth0
cat /sys/class/net/eth0/address | sed 's/^/mac: /'
i=0
while [ $i -lt 90 ]; do ping -c 1 -W 1 10.0.2.{peer} >/dev/null 2>&1 && break; i=$((i+1)); done
if ping -c 3 -W 2 10.0.2.{peer}; then result ping pass; else result ping fail; fi
grep -E 'virtio' /proc/interrupts | sed 's/^/irq: /'
# Keep answering while the peer finishes its own pings.
sleep 8
"#
    )
}

fn net_vm(name: &str, me: u8, peer: u8, mac: &str) -> thread::JoinHandle<LinuxRun> {
    let dir = integration::scratch_file(&format!("{name}.keep"), b"");
    let dir = dir.parent().unwrap().to_path_buf();
    let socket = dir.join(format!("net-{me}.sock"));
    let peer_socket = dir.join(format!("net-{peer}.sock"));
    let net = format!(
        "socket={},peer={},mac={mac}",
        socket.display(),
        peer_socket.display()
    );
    let name = name.to_owned();
    thread::spawn(move || {
        run_linux_script(
            &name,
            &referee_vmlinux(),
            &ping_script(me, peer),
            &["--memory", "128M", "--net", &net],
            Duration::from_secs(300),
        )
    })
}

#[test]
fn test_two_referee_vms_linked_by_sockets_ping_each_other() {
    if !kvm_available() {
        return;
    }
    let a = net_vm("referee-net-a", 1, 2, "52:54:00:00:00:01");
    let b = net_vm("referee-net-b", 2, 1, "52:54:00:00:00:02");
    for run in [a.join().unwrap(), b.join().unwrap()] {
        run.expect_pass("ping");
        run.run.expect_code(0);
    }
}
