//! The RAM regions of the PVH memory map, sorted by address.

use crate::pvh::{MEMMAP_TYPE_RAM, MemmapEntry};

/// Most RAM regions kept; further ones still count towards the total.
pub const MAX_REGIONS: usize = 32;

/// A half-open physical address range `[start, end)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Region {
    /// The range `[start, start + len)`, saturating at the top of the address space.
    pub const fn new(start: u64, len: u64) -> Self {
        Self {
            start,
            end: start.saturating_add(len),
        }
    }

    /// Whether the range holds no byte.
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether the two ranges share a byte.
    pub const fn overlaps(&self, other: &Region) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `other` lies entirely inside `self`.
    pub const fn contains(&self, other: &Region) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The largest `align`-aligned range inside this one (`align` a power of two).
    pub const fn align_inward(&self, align: u64) -> Self {
        let start = self.start.saturating_add(align - 1) & !(align - 1);
        let end = self.end & !(align - 1);
        Self { start, end }
    }

    /// The smallest `align`-aligned range covering this one (`align` a power of two).
    pub const fn align_outward(&self, align: u64) -> Self {
        let start = self.start & !(align - 1);
        let end = self.end.saturating_add(align - 1) & !(align - 1);
        Self { start, end }
    }
}

/// RAM regions of the memory map, sorted by start address. It keeps the
/// start info's table and the order of its RAM entries (a few dozen bytes),
/// not a copy of the regions.
#[derive(Debug, Clone, Copy)]
pub struct MemoryMap {
    entries: &'static [MemmapEntry],
    /// Indices into `entries` of the kept RAM entries, by start address.
    order: [u16; MAX_REGIONS],
    count: usize,
    ram_bytes: u64,
}

impl MemoryMap {
    /// Collects the non-empty RAM (type 1) entries among the first 65536, sorted by address.
    pub fn from_entries(entries: &'static [MemmapEntry]) -> Self {
        let mut map = Self {
            entries,
            order: [0; MAX_REGIONS],
            count: 0,
            ram_bytes: 0,
        };
        for (index, entry) in entries.iter().enumerate() {
            if entry.kind != MEMMAP_TYPE_RAM {
                continue;
            }
            map.ram_bytes = map.ram_bytes.saturating_add(entry.size);
            let Ok(index) = u16::try_from(index) else {
                continue;
            };
            if map.count < MAX_REGIONS && !Self::region(entry).is_empty() {
                map.insert_sorted(index);
            }
        }
        map
    }

    fn region(entry: &MemmapEntry) -> Region {
        Region::new(entry.addr, entry.size)
    }

    fn insert_sorted(&mut self, index: u16) {
        let start = self.entries[usize::from(index)].addr;
        let mut i = self.count;
        while i > 0 && self.entries[usize::from(self.order[i - 1])].addr > start {
            self.order[i] = self.order[i - 1];
            i -= 1;
        }
        self.order[i] = index;
        self.count += 1;
    }

    /// The RAM regions, sorted by start address.
    pub fn ram(&self) -> impl Iterator<Item = Region> + Clone + '_ {
        self.order[..self.count]
            .iter()
            .map(|&i| Self::region(&self.entries[usize::from(i)]))
    }

    /// Sum of the sizes of all RAM entries, in bytes.
    pub const fn ram_bytes(&self) -> u64 {
        self.ram_bytes
    }

    /// Whether `range` lies entirely inside one RAM region.
    pub fn contains(&self, range: &Region) -> bool {
        self.ram().any(|r| r.contains(range))
    }
}
