//! The MADT has an enabled Local APIC entry with the boot CPU's APIC ID (read
//! from the xAPIC ID register), and its usable CPU count is what the banner
//! printed. Without ACPI (`acpi=off`, or no tables) the banner says
//! `cpus 1 (no ACPI)` and a fresh lookup finds nothing either.

use alloc::format;

use super::{TestResult, ensure};
use crate::acpi::{self, LAPIC_ENABLED, LAPIC_USABLE};
use crate::banner::Banner;
use crate::{apic, boot};

/// The `cpus ...` part of a banner line: from `cpus ` to the next comma.
fn banner_cpus(line: &str) -> Option<&str> {
    let rest = &line[line.find(", cpus ")? + ", cpus ".len()..];
    rest.split(',').next()
}

pub fn run() -> TestResult {
    let info = boot::info();
    let line = format!("{}", Banner::of(info));
    let shown = banner_cpus(&line).ok_or_else(|| format!("no cpus in banner {line:?}"))?;
    let rsdp = info.acpi_mode.rsdp(info.start_info.rsdp_paddr);
    let madt = rsdp.and_then(acpi::cpu_info);
    if info.cpu_info.is_none() {
        ensure!(
            madt.is_none(),
            "boot found no MADT, a fresh lookup did: {madt:?}"
        );
        ensure!(
            shown == "1 (no ACPI)",
            "banner says cpus {shown:?} without ACPI"
        );
        return Ok(());
    }
    let rsdp = rsdp.ok_or("acpi=off, yet boot found a MADT")?;
    let bsp = apic::id();
    let (mut usable, mut bsp_enabled) = (0usize, false);
    acpi::for_each_lapic(rsdp, |lapic| {
        if lapic.flags & LAPIC_USABLE != 0 {
            usable += 1;
        }
        bsp_enabled |= lapic.id == bsp && lapic.flags & LAPIC_ENABLED != 0;
    })
    .ok_or("boot found a MADT, a fresh lookup did not")?;
    ensure!(
        bsp_enabled,
        "no enabled MADT Local APIC entry for the boot CPU's APIC ID {bsp}"
    );
    ensure!(
        shown == format!("{usable}"),
        "banner says cpus {shown:?}, the MADT has {usable} usable"
    );
    Ok(())
}
