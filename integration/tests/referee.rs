//! The referee kernel (Debian's 6.12 source, our config fragment and patch,
//! the 6.8 drivers built in) boots under our VMM with our ACPI tables, runs
//! busybox user space, checks what the issue asks from user space, and
//! powers off through our ACPI sleep registers (exit code 0).

use std::time::Duration;

use integration::kvm_available;
use integration::linux::{referee_vmlinux, run_linux_script};

/// Checks from user space; each prints one RESULT line.
const CHECKS: &str = r#"
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then result "$name" pass; else result "$name" fail "$*"; fi; }
cpus=$(grep -c ^processor /proc/cpuinfo)
[ "$cpus" = "$EXPECT_CPUS" ] && result cpus pass "$cpus" || result cpus fail "$cpus"
mem=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
[ "$mem" -gt 100000 ] && [ "$mem" -lt 131072 ] && result memtotal pass "$mem kB" || result memtotal fail "$mem kB"
for t in DSDT FACP APIC; do check "acpi_$t" test -e /sys/firmware/acpi/tables/$t; done
check idxd_driver test -d /sys/bus/pci/drivers/idxd
check qat_420xx_driver test -d /sys/bus/pci/drivers/420xx
check dsa_bus test -d /sys/bus/dsa
check iaa_crypto_driver test -d /sys/bus/dsa/drivers/crypto
check dwc_pcie_pmu_driver test -d /sys/bus/platform/drivers/dwc_pcie_pmu
check fork_exec_pipe sh -c 'echo piped | grep -q piped'
"#;

fn referee_boot(cpus: u8) {
    let vmlinux = referee_vmlinux();
    let script = format!("EXPECT_CPUS={cpus}\n{CHECKS}");
    let cpus_arg = cpus.to_string();
    let run = run_linux_script(
        &format!("referee-{cpus}cpu"),
        &vmlinux,
        &script,
        &["--memory", "128M", "--cpus", &cpus_arg],
        Duration::from_secs(300),
    );
    for name in [
        "cpus",
        "memtotal",
        "acpi_DSDT",
        "acpi_FACP",
        "acpi_APIC",
        "idxd_driver",
        "qat_420xx_driver",
        "dsa_bus",
        "iaa_crypto_driver",
        "dwc_pcie_pmu_driver",
        "fork_exec_pipe",
    ] {
        run.expect_pass(name);
    }
    run.run
        .expect_code(0)
        .expect_stderr("vmm: guest powered off");
}

#[test]
fn test_referee_user_space_checks_and_powers_off_1_cpu() {
    if !kvm_available() {
        return;
    }
    referee_boot(1);
}

#[test]
fn test_referee_user_space_checks_and_powers_off_2_cpus() {
    if !kvm_available() {
        return;
    }
    referee_boot(2);
}

/// `panic=-1`: when /init dies, Linux's emergency restart reaches our reset
/// registers and the VMM exits with the reset code (66), on 2 vCPUs too.
#[test]
fn test_referee_panic_resets_the_machine_with_66() {
    if !kvm_available() {
        return;
    }
    let vmlinux = referee_vmlinux();
    let run = run_linux_script(
        "referee-panic",
        &vmlinux,
        "exit 1",
        &["--memory", "128M", "--cpus", "2"],
        Duration::from_secs(300),
    );
    assert!(
        run.run
            .stdout
            .contains("Kernel panic - not syncing: Attempted to kill init!"),
        "{}",
        run.run
    );
    run.run
        .expect_code(66)
        .expect_stderr("vmm: guest requested a reset");
}
