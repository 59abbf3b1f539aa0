//! The first line the kernel prints:
//! `guest-kernel 0.1.0: memory <MiB> MiB, cpus <N>, cmdline "<cmdline>"`,
//! with ` (no ACPI)` after the CPU count when no MADT was found.

use core::fmt;

use crate::boot::BootInfo;

/// Kernel name and version, first words of the banner.
pub const NAME: &str = concat!("guest-kernel ", env!("CARGO_PKG_VERSION"));

/// What the banner shows; its [`fmt::Display`] writes the line (no `\n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Banner<'a> {
    /// Sum of the memory map's RAM entries, in bytes (shown in MiB, rounded down).
    pub ram_bytes: u64,
    /// CPUs in the MADT, or `None` without ACPI (shown as 1).
    pub madt_cpus: Option<usize>,
    /// The command line.
    pub cmdline: &'a str,
}

impl Banner<'_> {
    /// The banner for what the kernel learnt at boot.
    pub fn of(info: &BootInfo) -> Banner<'static> {
        Banner {
            ram_bytes: info.memory.ram_bytes(),
            madt_cpus: info.cpu_info.map(|c| c.cpus),
            cmdline: info.cmdline,
        }
    }
}

impl fmt::Display for Banner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (cpus, no_acpi) = match self.madt_cpus {
            Some(n) => (n, ""),
            None => (1, " (no ACPI)"),
        };
        write!(
            f,
            "{NAME}: memory {} MiB, cpus {cpus}{no_acpi}, cmdline \"{}\"",
            self.ram_bytes >> 20,
            self.cmdline
        )
    }
}
