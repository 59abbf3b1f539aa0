//! The referee kernel's real PCI and virtio drivers against our PCIe
//! platform: the topology in /sys/bus/pci, a clean dmesg, and (with
//! devices) virtio-blk, virtio-rng and virtio-net through MSI-X.

use std::time::Duration;

use integration::kvm_available;
use integration::linux::{referee_vmlinux, run_linux_script};

/// Lists every PCI function (`pcidev BDF VENDOR DEVICE CLASS`) and any
/// PCI/ACPI complaint in the kernel log.
const TOPOLOGY: &str = r#"
for d in /sys/bus/pci/devices/*; do
  echo "pcidev ${d##*/} $(cat $d/vendor) $(cat $d/device) $(cat $d/class)"
done
# Linux always prints the pci=nocrs hint; it is advice, not a complaint.
dmesg | grep -iE 'pci|acpi|mmconfig|ecam' | grep -v 'pci=nocrs' \
  | grep -iE "error|fail|can't|cannot|not reserved|not using|no compatible|conflict|warn|bug|invalid|ignor" > /tmp/complaints
if [ -s /tmp/complaints ]; then
  while read -r line; do echo "complaint: $line"; done < /tmp/complaints
  result pci_dmesg_clean fail
else
  result pci_dmesg_clean pass
fi
dmesg | grep -iE 'pci|acpi' | head -80 | sed 's/^/dmesg: /'
"#;

#[test]
fn test_referee_sees_host_bridge_and_clean_pci_log() {
    if !kvm_available() {
        return;
    }
    let run = run_linux_script(
        "referee-pci",
        &referee_vmlinux(),
        TOPOLOGY,
        &["--memory", "128M"],
        Duration::from_secs(300),
    );
    println!("{}", run.run.stdout);
    assert!(
        run.run
            .stdout
            .contains("pcidev 0000:00:00.0 0x1b36 0x0008 0x060000"),
        "host bridge missing"
    );
    run.expect_pass("pci_dmesg_clean");
    run.run.expect_code(0);
}
