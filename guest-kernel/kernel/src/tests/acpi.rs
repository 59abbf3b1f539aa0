//! The MADT lists at least one usable CPU, and a fresh parse agrees with the banner.

use super::{TestResult, ensure};
use crate::boot;

pub fn run() -> TestResult {
    let info = boot::info();
    let fresh = info.acpi_mode.cpu_info(info.start_info.rsdp_paddr);
    ensure!(
        fresh == info.cpu_info,
        "re-parse gave {fresh:?}, boot saw {:?}",
        info.cpu_info
    );
    match fresh {
        Some(cpu) => {
            ensure!(cpu.cpus >= 1, "MADT lists {} usable CPUs", cpu.cpus);
            ensure!(cpu.cpus == info.cpus(), "banner says {} CPUs", info.cpus());
        }
        None => ensure!(
            info.cpus() == 1,
            "no ACPI, yet banner says {} CPUs",
            info.cpus()
        ),
    }
    Ok(())
}
