//! The guest's physical memory map (e820 types), shared by PVH and, later,
//! the Linux boot protocol.

use crate::layout::{GuestLayout, EBDA_START, HIGH_RAM_START, PCI_ECAM_SIZE, PCI_ECAM_START};

/// An e820 memory type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum MemoryType {
    /// Usable RAM.
    Ram = 1,
    /// Reserved: not RAM the guest may use.
    Reserved = 2,
}

/// One range of the memory map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryMapEntry {
    /// First guest-physical address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// What the range is.
    pub kind: MemoryType,
}

/// The memory map of a guest with `layout`: low RAM, the reserved EBDA and
/// BIOS area up to 1 MiB, RAM up to the MMIO hole, the PCIe ECAM window
/// (reserved, which is where Linux checks it early before trusting MCFG),
/// and RAM above 4 GiB.
pub fn memory_map(layout: &GuestLayout) -> Vec<MemoryMapEntry> {
    let mut map = vec![
        MemoryMapEntry {
            addr: 0,
            size: EBDA_START,
            kind: MemoryType::Ram,
        },
        MemoryMapEntry {
            addr: EBDA_START,
            size: HIGH_RAM_START - EBDA_START,
            kind: MemoryType::Reserved,
        },
    ];
    for (start, len) in layout.ram_regions() {
        let end = start.0 + len;
        let start = start.0.max(HIGH_RAM_START);
        if end > start {
            map.push(MemoryMapEntry {
                addr: start,
                size: end - start,
                kind: MemoryType::Ram,
            });
        }
    }
    let ecam = MemoryMapEntry {
        addr: PCI_ECAM_START,
        size: PCI_ECAM_SIZE,
        kind: MemoryType::Reserved,
    };
    let at = map.partition_point(|e| e.addr < ecam.addr);
    map.insert(at, ecam);
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{MMIO_GAP_END, MMIO_GAP_START};

    fn ram_total(map: &[MemoryMapEntry]) -> u64 {
        map.iter()
            .filter(|e| e.kind == MemoryType::Ram)
            .map(|e| e.size)
            .sum()
    }

    #[test]
    fn test_memmap_256m_has_low_reserved_and_high_ram() {
        let map = memory_map(&GuestLayout::new(256 << 20));
        assert_eq!(map.len(), 4);
        assert_eq!(
            map[3],
            MemoryMapEntry {
                addr: PCI_ECAM_START,
                size: PCI_ECAM_SIZE,
                kind: MemoryType::Reserved
            }
        );
        assert_eq!(
            map[2],
            MemoryMapEntry {
                addr: HIGH_RAM_START,
                size: (256 << 20) - HIGH_RAM_START,
                kind: MemoryType::Ram
            }
        );
        assert_eq!(ram_total(&map), (256 << 20) - (HIGH_RAM_START - EBDA_START));
    }

    #[test]
    fn test_memmap_large_ram_has_region_above_4g() {
        let map = memory_map(&GuestLayout::new(5 << 30));
        let last = map.last().unwrap();
        assert_eq!(last.addr, MMIO_GAP_END);
        assert_eq!(last.size, (5 << 30) - MMIO_GAP_START);
        assert!(map.iter().all(|e| e.kind == MemoryType::Reserved
            || e.addr + e.size <= MMIO_GAP_START
            || e.addr >= MMIO_GAP_END));
    }

    #[test]
    fn test_memmap_entries_are_sorted_and_disjoint() {
        let map = memory_map(&GuestLayout::new(4 << 30));
        for pair in map.windows(2) {
            assert!(pair[0].addr + pair[0].size <= pair[1].addr);
        }
    }
}
