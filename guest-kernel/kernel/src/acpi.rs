//! CPU count from the ACPI MADT (RSDP -> XSDT/RSDT -> MADT), via the `acpi` crate.

use core::ptr::NonNull;

use acpi::madt::{Madt, MadtEntry};
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

/// Calls `f` with each Local APIC and Local x2APIC entry of the MADT.
/// `rsdp_paddr` 0 means: search the BIOS area. Returns `None` if no valid
/// RSDP or MADT is found.
pub fn for_each_lapic(rsdp_paddr: u64, mut f: impl FnMut(Lapic)) -> Option<()> {
    let tables = if rsdp_paddr != 0 {
        // SAFETY: the VMM says an RSDP lives at `rsdp_paddr`; the crate checks
        // its signature and checksum, and our handler only maps identity-mapped memory.
        unsafe { AcpiTables::from_rsdp(IdentityMapped, rsdp_paddr as usize) }
    } else {
        // SAFETY: this is a PVH guest with BIOS-style low memory: the search
        // only reads the BDA word at 0x40e, the EBDA and 0xe0000..0xfffff.
        unsafe { AcpiTables::search_for_rsdp_bios(IdentityMapped) }
    }
    .ok()?;
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

/// Counts the usable CPUs in the MADT. `rsdp_paddr` 0 means: search the
/// BIOS area. Returns `None` if no valid RSDP or MADT is found.
pub fn cpu_info(rsdp_paddr: u64) -> Option<CpuInfo> {
    let mut cpus = 0;
    for_each_lapic(rsdp_paddr, |lapic| {
        if lapic.flags & LAPIC_USABLE != 0 {
            cpus += 1;
        }
    })?;
    Some(CpuInfo { cpus })
}
