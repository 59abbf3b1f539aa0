//! Debian's stock 6.12 kernel (its uncompressed vmlinux, PVH entry) boots
//! under our VMM with 2 vCPUs: Linux lists our ACPI tables without errors,
//! gets past the int3 self-test in `alternative_instructions()` (where other
//! VMMs stop on kvm-pvm: our fallback delivers #BP), brings up both CPUs,
//! and loads our DSDT, finding soft-off (`_S5`).

use std::time::Duration;

use integration::{is_kvm_pvm, kvm_available, linux_guest_file, run_vmm_until};

/// kvm-pvm passes the host's CPUID through: hide what its emulator cannot
/// run (cmpxchg16b, SSSE3, AES-NI, PCLMULQDQ, SMAP, POPCNT) and XSAVE.
const CMDLINE: &str = "console=ttyS0 clearcpuid=cx16,ssse3,aes,pclmulqdq,smap,popcnt noxsave";
const BROUGHT_UP: &str = "smp: Brought up 1 node, 2 CPUs";
/// Printed once ACPICA has loaded the DSDT and evaluated the sleep states.
const SLEEP_STATES: &str = "ACPI: PM: (supports";

#[test]
fn test_debian_6_12_boots_to_smp_and_acpi_with_our_tables() {
    if !kvm_available() {
        return;
    }
    let vmlinux = linux_guest_file("vmlinux");
    let args = [
        "--kernel",
        vmlinux.to_str().unwrap(),
        "--cpus",
        "2",
        "--memory",
        "256M",
        "--cmdline",
        CMDLINE,
        "--timeout",
        "600",
    ];
    let (run, at) = run_vmm_until(&args, SLEEP_STATES, Duration::from_secs(600));
    let at = at.unwrap_or_else(|| panic!("Linux stopped before ACPI's sleep states:\n{run}"));
    eprintln!("linux: '{SLEEP_STATES}' after {:.1} s", at.as_secs_f64());

    let out = &run.stdout;
    assert!(out.contains("Linux version 6.12."), "{run}");
    for table in ["RSDP", "XSDT", "FACP", "DSDT", "APIC"] {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("ACPI: {table} 0x")) && l.contains("RVMMKV")),
            "Linux did not list our {table}:\n{run}"
        );
    }
    for bad in [
        "ACPI Error",
        "ACPI BIOS Error",
        "ACPI Warning",
        "Kernel panic",
    ] {
        assert!(!out.contains(bad), "Linux reported {bad:?}:\n{run}");
    }
    assert!(out.contains("Freeing SMP alternatives memory"), "{run}");
    assert!(out.contains(BROUGHT_UP), "{run}");
    assert!(
        out.contains("ACPI: PM: (supports S0 S5)"),
        "Linux found our _S5:\n{run}"
    );
    if is_kvm_pvm() {
        assert!(
            run.stderr.contains("fallback: completed int3"),
            "int3 went through the fallback:\n{run}"
        );
    }
}
