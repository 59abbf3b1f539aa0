//! CPU count from the ACPI MADT (RSDP -> XSDT/RSDT -> MADT), via the `acpi` crate.

use core::ptr::NonNull;

use acpi::madt::{Madt, MadtEntry};
use acpi::{AcpiHandler, AcpiTables, PhysicalMapping};

use crate::arch::paging;

/// MADT Local APIC flags: enabled, or online-capable.
const LAPIC_USABLE: u32 = 0b11;

/// Where the RSDP came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RsdpSource {
    /// `hvm_start_info.rsdp_paddr`.
    StartInfo,
    /// The BIOS-area search (EBDA, 0xe0000..0xfffff).
    BiosSearch,
}

/// What the MADT says about the processors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuInfo {
    /// Usable (enabled or online-capable) Local APIC / x2APIC entries.
    pub cpus: usize,
    /// Where the RSDP was found.
    pub source: RsdpSource,
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

/// Counts the CPUs in the MADT. `rsdp_paddr` 0 means: search the BIOS area.
/// Returns `None` if no valid RSDP or MADT is found.
pub fn cpu_info(rsdp_paddr: u64) -> Option<CpuInfo> {
    let (tables, source) = if rsdp_paddr != 0 {
        // SAFETY: the VMM says an RSDP lives at `rsdp_paddr`; the crate checks
        // its signature and checksum, and our handler only maps identity-mapped memory.
        let tables = unsafe { AcpiTables::from_rsdp(IdentityMapped, rsdp_paddr as usize) };
        (tables.ok()?, RsdpSource::StartInfo)
    } else {
        // SAFETY: this is a PVH guest with BIOS-style low memory: the search
        // only reads the BDA word at 0x40e, the EBDA and 0xe0000..0xfffff.
        let tables = unsafe { AcpiTables::search_for_rsdp_bios(IdentityMapped) };
        (tables.ok()?, RsdpSource::BiosSearch)
    };
    let madt = tables.find_table::<Madt>().ok()?;
    let cpus = madt
        .get()
        .entries()
        .filter(|entry| match entry {
            MadtEntry::LocalApic(e) => e.flags & LAPIC_USABLE != 0,
            MadtEntry::LocalX2Apic(e) => e.flags & LAPIC_USABLE != 0,
            _ => false,
        })
        .count();
    Some(CpuInfo { cpus, source })
}
