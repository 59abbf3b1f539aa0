//! The guest-physical address map of our x86_64 machine.
//!
//! ```text
//! 0x0000_0500  boot GDT                 0x0010_0000  kernel image (1 MiB)
//! 0x0000_6000  PVH start info           ...          RAM up to 3 GiB
//! 0x0000_7000  PVH memory map           0xc000_0000  32-bit MMIO hole:
//! 0x0000_8000  Linux zero page                        0xc000_0000 PCI 32-bit BAR aperture
//! 0x0002_0000  kernel command line                    0xe000_0000 PCIe ECAM (buses 0-255)
//! 0x0009_fc00  EBDA (reserved to 1 MiB)               0xfec0_0000 IOAPIC, 0xfee0_0000 LAPIC
//! 0x000e_0000  ACPI tables, RSDP first  0x1_0000_0000 RAM above 3 GiB, if any, then the
//!                                                     PCI 64-bit BAR aperture (1 GiB aligned)
//! ```
//! PCI I/O BARs take ports 0xc000-0xffff.

use vm_memory::GuestAddress;

/// Boot GDT, loaded by the VMM for the PVH 32-bit entry.
pub const BOOT_GDT_ADDR: u64 = 0x500;
/// `struct hvm_start_info`.
pub const PVH_START_INFO_ADDR: u64 = 0x6000;
/// Module list (the initramfs), right after the start info.
pub const PVH_MODLIST_ADDR: u64 = 0x6040;
/// PVH memory map entries.
pub const PVH_MEMMAP_ADDR: u64 = 0x7000;
/// Linux's zero page (`struct boot_params`) for bzImage boot.
pub const BOOT_PARAMS_ADDR: u64 = 0x8000;
/// Most memory-map entries the reserved page holds.
pub const PVH_MEMMAP_MAX_ENTRIES: usize = 0x1000 / 24;
/// The NUL-terminated kernel command line.
pub const CMDLINE_ADDR: u64 = 0x20000;
/// Longest command line, terminator included (Linux x86's COMMAND_LINE_SIZE).
pub const CMDLINE_MAX_SIZE: usize = 2048;
/// Start of the Extended BIOS Data Area; reserved up to 1 MiB.
pub const EBDA_START: u64 = 0x9fc00;
/// ACPI tables (RSDP first) in the reserved BIOS area.
pub const ACPI_TABLES_START: u64 = 0xe_0000;
/// End of the ACPI tables' area.
pub const ACPI_TABLES_END: u64 = 0x10_0000;
/// Where RAM above the legacy area starts, and where kernels load.
pub const HIGH_RAM_START: u64 = 0x10_0000;
/// Start of the 32-bit MMIO hole: RAM below 4 GiB stops here.
pub const MMIO_GAP_START: u64 = 0xc000_0000;
/// End of the 32-bit MMIO hole: RAM beyond 3 GiB continues here.
pub const MMIO_GAP_END: u64 = 0x1_0000_0000;
/// The PCI 32-bit memory aperture, where BARs below 4 GiB go.
pub const PCI_MMIO32_START: u64 = 0xc000_0000;
/// Size of the 32-bit aperture.
pub const PCI_MMIO32_SIZE: u64 = 0x2000_0000;
/// The PCIe ECAM (MMCONFIG) window: 1 MiB per bus.
pub const PCI_ECAM_START: u64 = 0xe000_0000;
/// Last bus the ECAM window covers.
pub const PCI_ECAM_LAST_BUS: u8 = 0xff;
/// Size of the ECAM window.
pub const PCI_ECAM_SIZE: u64 = (PCI_ECAM_LAST_BUS as u64 + 1) << 20;
/// Size of the 64-bit memory aperture above RAM.
pub const PCI_MMIO64_SIZE: u64 = 16 << 30;
/// First I/O port for PCI I/O BARs.
pub const PCI_IO_START: u64 = 0xc000;
/// Ports for PCI I/O BARs.
pub const PCI_IO_SIZE: u64 = 0x4000;
/// The IOAPIC's MMIO base.
pub const IOAPIC_ADDR: u64 = 0xfec0_0000;
/// The local APICs' MMIO base.
pub const LAPIC_ADDR: u64 = 0xfee0_0000;
/// KVM's VMX TSS needs three pages in the MMIO hole.
pub const KVM_TSS_ADDR: u64 = 0xfffb_d000;

/// How a guest's RAM is laid out around the MMIO hole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestLayout {
    ram_size: u64,
}

impl GuestLayout {
    /// The layout for `ram_size` bytes of guest RAM.
    pub fn new(ram_size: u64) -> Self {
        Self { ram_size }
    }

    /// Total RAM in bytes.
    pub fn ram_size(&self) -> u64 {
        self.ram_size
    }

    /// The RAM regions, as (start, length): below the hole, then above 4 GiB.
    pub fn ram_regions(&self) -> Vec<(GuestAddress, u64)> {
        let low = self.ram_size.min(MMIO_GAP_START);
        let mut regions = vec![(GuestAddress(0), low)];
        if self.ram_size > low {
            regions.push((GuestAddress(MMIO_GAP_END), self.ram_size - low));
        }
        regions
    }

    /// The PCI 64-bit aperture: (base, size), 1 GiB aligned above all RAM
    /// and above 4 GiB.
    pub fn pci_mmio64(&self) -> (u64, u64) {
        let top = self
            .ram_regions()
            .last()
            .map_or(MMIO_GAP_END, |(start, len)| start.0 + len)
            .max(MMIO_GAP_END);
        (top.next_multiple_of(1 << 30), PCI_MMIO64_SIZE)
    }

    /// One past the last byte of RAM below the MMIO hole.
    pub fn low_ram_end(&self) -> u64 {
        self.ram_size.min(MMIO_GAP_START)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_layout_small_ram_is_one_region() {
        let l = GuestLayout::new(256 << 20);
        assert_eq!(l.ram_regions(), vec![(GuestAddress(0), 256 << 20)]);
        assert_eq!(l.low_ram_end(), 256 << 20);
    }

    #[test]
    fn test_layout_large_ram_skips_mmio_hole() {
        let l = GuestLayout::new(4 << 30);
        assert_eq!(
            l.ram_regions(),
            vec![
                (GuestAddress(0), MMIO_GAP_START),
                (GuestAddress(MMIO_GAP_END), 1 << 30)
            ]
        );
    }

    #[test]
    fn test_layout_mmio64_aperture_is_above_ram() {
        assert_eq!(GuestLayout::new(256 << 20).pci_mmio64().0, 4 << 30);
        assert_eq!(GuestLayout::new(4 << 30).pci_mmio64().0, 5 << 30);
        assert_eq!(
            GuestLayout::new((4 << 30) + 1).pci_mmio64().0,
            6 << 30,
            "rounded up to 1 GiB"
        );
    }

    #[test]
    fn test_layout_boot_structures_fit_below_ebda() {
        const {
            assert!(PVH_MODLIST_ADDR >= PVH_START_INFO_ADDR + 56);
            assert!(PVH_MEMMAP_ADDR >= PVH_MODLIST_ADDR + 32);
            assert!(BOOT_PARAMS_ADDR >= PVH_MEMMAP_ADDR + 0x1000);
            assert!(BOOT_PARAMS_ADDR + 0x1000 <= CMDLINE_ADDR);
            assert!(CMDLINE_ADDR + CMDLINE_MAX_SIZE as u64 <= EBDA_START);
            assert!(PCI_MMIO32_START >= MMIO_GAP_START);
            assert!(PCI_MMIO32_START + PCI_MMIO32_SIZE <= PCI_ECAM_START);
            assert!(PCI_ECAM_START + PCI_ECAM_SIZE <= IOAPIC_ADDR);
        }
    }
}
