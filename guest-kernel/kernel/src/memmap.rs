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

    /// Length in bytes.
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
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

/// RAM regions of the memory map, sorted by start address.
#[derive(Debug, Clone, Copy)]
pub struct MemoryMap {
    ram: [Region; MAX_REGIONS],
    count: usize,
    ram_bytes: u64,
}

impl MemoryMap {
    /// Collects the RAM (type 1) entries, sorted by address.
    pub fn from_entries(entries: &[MemmapEntry]) -> Self {
        let mut map = Self {
            ram: [Region::default(); MAX_REGIONS],
            count: 0,
            ram_bytes: 0,
        };
        for entry in entries.iter().filter(|e| e.kind == MEMMAP_TYPE_RAM) {
            map.ram_bytes = map.ram_bytes.saturating_add(entry.size);
            let region = Region::new(entry.addr, entry.size);
            if map.count < MAX_REGIONS && !region.is_empty() {
                map.insert_sorted(region);
            }
        }
        map
    }

    fn insert_sorted(&mut self, region: Region) {
        let mut i = self.count;
        while i > 0 && self.ram[i - 1].start > region.start {
            self.ram[i] = self.ram[i - 1];
            i -= 1;
        }
        self.ram[i] = region;
        self.count += 1;
    }

    /// The RAM regions, sorted by start address.
    pub fn ram(&self) -> &[Region] {
        &self.ram[..self.count]
    }

    /// Sum of the sizes of all RAM entries, in bytes.
    pub const fn ram_bytes(&self) -> u64 {
        self.ram_bytes
    }

    /// Whether `range` lies entirely inside one RAM region.
    pub fn contains(&self, range: &Region) -> bool {
        self.ram().iter().any(|r| r.contains(range))
    }
}
