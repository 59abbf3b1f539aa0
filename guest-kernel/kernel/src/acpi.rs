//! What the ACPI tables tell the kernel, via the `acpi` crate (RSDP ->
//! XSDT/RSDT -> tables): the CPU count from the MADT, and the PCI Express
//! configuration window (ECAM) from the MCFG.

use core::ptr::NonNull;

use acpi::madt::{Madt, MadtEntry};
use acpi::mcfg::Mcfg;
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};

use crate::arch::paging;

/// MADT Local APIC flag: the processor is enabled.
pub const LAPIC_ENABLED: u32 = 1 << 0;
/// MADT Local APIC flags: enabled, or online-capable.
pub const LAPIC_USABLE: u32 = 0b11;

/// What the MADT says about the processors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuInfo {
    /// Usable (enabled or online-capable) Local APIC / x2APIC entries.
    pub cpus: usize,
}

/// A Local APIC or Local x2APIC entry of the MADT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lapic {
    /// The processor's (x2)APIC ID.
    pub id: u32,
    /// Its flags ([`LAPIC_ENABLED`], online-capable).
    pub flags: u32,
}

/// The MCFG's ECAM window for PCI segment 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcamRegion {
    /// The MCFG's base address: where bus 0's configuration space would
    /// be (the PCI Firmware specification's convention, as Linux reads it).
    pub base: u64,
    /// First bus the window covers.
    pub bus_start: u8,
    /// Last bus the window covers.
    pub bus_end: u8,
}

/// ACPI tables are read in place through the identity map.
#[derive(Debug, Clone, Copy)]
struct IdentityMapped;

impl AcpiHandler for IdentityMapped {
    unsafe fn map_physical_region<T>(&self, paddr: usize, size: usize) -> PhysicalMapping<Self, T> {
        assert!(
            paging::is_identity_mapped(paddr as u64, size as u64),
            "ACPI table at {paddr:#x} is outside the identity map"
        );
        let virt = NonNull::new(paddr as *mut T).expect("ACPI table at physical address 0");
        // SAFETY: the range is identity-mapped (checked above), so the
        // virtual address equals the physical one for all `size` bytes.
        unsafe { PhysicalMapping::new(paddr, virt, size, size, *self) }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {}
}

/// The tables reachable from the RSDP at `rsdp_paddr` (0: search the BIOS
/// area), or `None` if there is no valid RSDP.
fn tables(rsdp_paddr: u64) -> Option<AcpiTables<IdentityMapped>> {
    if rsdp_paddr != 0 {
        // SAFETY: the VMM says an RSDP lives at `rsdp_paddr`; the crate checks
        // its signature and checksum, and our handler only maps identity-mapped memory.
        unsafe { AcpiTables::from_rsdp(IdentityMapped, rsdp_paddr as usize) }
    } else {
        // SAFETY: this is a PVH guest with BIOS-style low memory: the search
        // only reads the BDA word at 0x40e, the EBDA and 0xe0000..0xfffff.
        unsafe { AcpiTables::search_for_rsdp_bios(IdentityMapped) }
    }
    .ok()
}

/// Calls `f` with each Local APIC and Local x2APIC entry of the MADT in
/// `tables`; `None` if there is no valid MADT.
fn lapics(tables: &AcpiTables<IdentityMapped>, mut f: impl FnMut(Lapic)) -> Option<()> {
    let madt = tables.find_table::<Madt>().ok()?;
    for entry in madt.get().entries() {
        match entry {
            MadtEntry::LocalApic(e) => f(Lapic {
                id: u32::from(e.apic_id),
                flags: e.flags,
            }),
            MadtEntry::LocalX2Apic(e) => f(Lapic {
                id: e.x2apic_id,
                flags: e.flags,
            }),
            _ => {}
        }
    }
    Some(())
}

fn count_cpus(tables: &AcpiTables<IdentityMapped>) -> Option<CpuInfo> {
    let mut cpus = 0;
    lapics(tables, |lapic| {
        if lapic.flags & LAPIC_USABLE != 0 {
            cpus += 1;
        }
    })?;
    Some(CpuInfo { cpus })
}

/// Segment 0's ECAM window from the MCFG in `tables`, if any.
fn ecam(tables: &AcpiTables<IdentityMapped>) -> Option<EcamRegion> {
    let mcfg = tables.find_table::<Mcfg>().ok()?;
    mcfg.get()
        .entries()
        .iter()
        .map(|e| {
            (
                e.pci_segment_group,
                e.base_address,
                e.bus_number_start,
                e.bus_number_end,
            )
        })
        .find(|&(segment, base, start, end)| segment == 0 && base != 0 && start <= end)
        .map(|(_, base, bus_start, bus_end)| EcamRegion {
            base,
            bus_start,
            bus_end,
        })
}

/// Calls `f` with each Local APIC and Local x2APIC entry of the MADT.
/// `rsdp_paddr` 0 means: search the BIOS area. Returns `None` if no valid
/// RSDP or MADT is found.
pub fn for_each_lapic(rsdp_paddr: u64, f: impl FnMut(Lapic)) -> Option<()> {
    lapics(&tables(rsdp_paddr)?, f)
}

/// Counts the usable CPUs in the MADT. `rsdp_paddr` 0 means: search the
/// BIOS area. Returns `None` if no valid RSDP or MADT is found.
pub fn cpu_info(rsdp_paddr: u64) -> Option<CpuInfo> {
    count_cpus(&tables(rsdp_paddr)?)
}

/// Segment 0's ECAM window from the MCFG. `rsdp_paddr` 0 means: search
/// the BIOS area. `None` without a valid RSDP or MCFG entry.
pub fn pci_ecam(rsdp_paddr: u64) -> Option<EcamRegion> {
    ecam(&tables(rsdp_paddr)?)
}

/// The CPUs ([`cpu_info`]) and the ECAM window ([`pci_ecam`]) from one
/// walk of the tables.
pub fn boot_facts(rsdp_paddr: u64) -> (Option<CpuInfo>, Option<EcamRegion>) {
    match tables(rsdp_paddr) {
        Some(tables) => (count_cpus(&tables), ecam(&tables)),
        None => (None, None),
    }
}
