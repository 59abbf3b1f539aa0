//! Virtual memory areas: an ordered map from start address to area, with
//! the splits munmap, mprotect and madvise need and merging of equal
//! neighbours. (The kernel's interim tree: `guest-mm`'s takes its place
//! behind the same calls.)

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// VMA flag: MADV_HUGEPAGE was given.
pub const VM_HUGEPAGE: u32 = 1 << 0;
/// VMA flag: MADV_NOHUGEPAGE was given.
pub const VM_NOHUGEPAGE: u32 = 1 << 1;

/// What an area holds (for reports; all are anonymous private memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A segment of the executable.
    Image,
    /// The program break.
    Heap,
    /// The initial stack.
    Stack,
    /// mmap(MAP_ANONYMOUS | MAP_PRIVATE).
    Anon,
}

/// One area, `[start, end)`, page-aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// End (exclusive).
    pub end: u64,
    /// PROT_READ | PROT_WRITE | PROT_EXEC.
    pub prot: u64,
    /// VM_* flags.
    pub flags: u32,
    /// What it holds.
    pub kind: Kind,
}

impl Vma {
    fn mergeable(&self, next: &Vma) -> bool {
        self.end == next.start
            && self.prot == next.prot
            && self.flags == next.flags
            && self.kind == next.kind
    }
}

/// The areas of one address space, without overlaps.
#[derive(Debug, Default)]
pub struct VmaTree {
    map: BTreeMap<u64, Vma>,
}

impl VmaTree {
    /// No areas.
    pub fn new() -> Self {
        Self::default()
    }

    /// The area containing `addr`.
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.map
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| addr < v.end)
    }

    /// Whether any area overlaps `[start, end)`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.map
            .range(..end)
            .next_back()
            .is_some_and(|(_, v)| v.end > start)
    }

    /// Adds `vma` (which must not overlap any area) and merges neighbours.
    pub fn insert(&mut self, vma: Vma) {
        debug_assert!(!self.overlaps(vma.start, vma.end));
        self.map.insert(vma.start, vma);
        self.merge_around(vma.start, vma.end);
    }

    /// Splits the area containing `addr` so that one starts there.
    fn split_at(&mut self, addr: u64) {
        let Some(v) = self.find(addr).copied() else {
            return;
        };
        if v.start == addr {
            return;
        }
        self.map.insert(v.start, Vma { end: addr, ..v });
        self.map.insert(addr, Vma { start: addr, ..v });
    }

    /// Removes `[start, end)` from every area; returns the pieces removed.
    pub fn remove(&mut self, start: u64, end: u64) -> Vec<Vma> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.map.range(start..end).map(|(&k, _)| k).collect();
        keys.iter().filter_map(|k| self.map.remove(k)).collect()
    }

    /// Applies `f` to the parts of areas inside `[start, end)` (split off
    /// first), then merges equal neighbours. Returns the changed pieces
    /// (after `f`).
    pub fn update(&mut self, start: u64, end: u64, mut f: impl FnMut(&mut Vma)) -> Vec<Vma> {
        self.split_at(start);
        self.split_at(end);
        let mut changed = Vec::new();
        for (_, v) in self.map.range_mut(start..end) {
            f(v);
            changed.push(*v);
        }
        self.merge_around(start, end);
        changed
    }

    /// Whether `[start, end)` is entirely covered by areas.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.find(at) {
                Some(v) => at = v.end,
                None => return false,
            }
        }
        true
    }

    fn merge_around(&mut self, start: u64, end: u64) {
        let first = self
            .map
            .range(..start)
            .next_back()
            .map_or(start, |(&k, _)| k);
        let keys: Vec<u64> = self.map.range(first..=end).map(|(&k, _)| k).collect();
        let mut prev: Option<u64> = None;
        for k in keys {
            if let Some(p) = prev {
                let (a, b) = (self.map[&p], self.map[&k]);
                if a.mergeable(&b) {
                    self.map.remove(&k);
                    self.map.insert(p, Vma { end: b.end, ..a });
                    continue;
                }
            }
            prev = Some(k);
        }
    }

    /// The highest gap of `len` bytes ending at or below `top` and at or
    /// above `bottom`.
    pub fn find_gap(&self, len: u64, bottom: u64, top: u64) -> Option<u64> {
        let mut end = top;
        for (_, v) in self.map.range(..top).rev() {
            if v.end <= end && end - v.end >= len {
                break;
            }
            end = end.min(v.start);
        }
        let start = end.checked_sub(len)?;
        (start >= bottom).then_some(start)
    }

    /// Every area, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Vma> {
        self.map.values()
    }
}
