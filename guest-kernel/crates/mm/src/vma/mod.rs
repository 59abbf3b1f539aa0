//! The virtual memory areas of an address space: an ordered map from start
//! address to [`Vma`], with the splits and merges that mmap, munmap,
//! mprotect and madvise need. Areas never overlap; neighbours with the
//! same flags, the same data and contiguous file offsets are merged.

mod flags;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::ops::Bound;

pub use flags::VmFlags;

use crate::PAGE_SIZE;

/// One area `[start, end)` of an address space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vma<D> {
    /// First byte (page-aligned).
    pub start: u64,
    /// One past the last byte (page-aligned).
    pub end: u64,
    /// `vm_flags`.
    pub flags: VmFlags,
    /// Offset of `start` in the backing object, in pages (`vm_pgoff`).
    pub pgoff: u64,
    /// What backs the area (file, anonymous, ...): the caller's type;
    /// areas merge only when it compares equal.
    pub data: D,
}

impl<D> Vma<D> {
    /// Bytes in the area.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the area is empty (never true for an area in a tree).
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether `addr` lies inside.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }
}

impl<D: PartialEq> Vma<D> {
    /// Whether `next` continues this area seamlessly (Linux's `vma_merge`
    /// conditions, without anon_vma/policy subtleties).
    fn merges_with(&self, next: &Vma<D>) -> bool {
        self.end == next.start
            && self.flags == next.flags
            && self.data == next.data
            && self.pgoff + self.len() / PAGE_SIZE as u64 == next.pgoff
    }
}

/// Why a tree operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmaError {
    /// The range is empty or not page-aligned (`EINVAL`).
    Invalid,
    /// The new area overlaps an existing one (`EEXIST` for MAP_FIXED_NOREPLACE).
    Overlap,
    /// Part of the range is not mapped (`ENOMEM` from mprotect/madvise).
    NotMapped,
}

/// The areas of one address space.
#[derive(Debug, Clone, Default)]
pub struct VmaTree<D> {
    areas: BTreeMap<u64, Vma<D>>,
}

fn page_aligned(start: u64, end: u64) -> Result<(), VmaError> {
    let page = PAGE_SIZE as u64;
    if start >= end || !start.is_multiple_of(page) || !end.is_multiple_of(page) {
        return Err(VmaError::Invalid);
    }
    Ok(())
}

impl<D: Clone + PartialEq> VmaTree<D> {
    /// No areas.
    pub fn new() -> Self {
        Self {
            areas: BTreeMap::new(),
        }
    }

    /// Number of areas (`map_count`).
    pub fn len(&self) -> usize {
        self.areas.len()
    }

    /// Whether there is no area.
    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The areas by address.
    pub fn iter(&self) -> impl Iterator<Item = &Vma<D>> {
        self.areas.values()
    }

    /// The area containing `addr` (`find_vma` + containment check).
    pub fn find(&self, addr: u64) -> Option<&Vma<D>> {
        self.areas
            .range(..=addr)
            .next_back()
            .map(|(_, v)| v)
            .filter(|v| v.contains(addr))
    }

    /// The first area ending above `addr` (Linux's `find_vma`).
    pub fn find_from(&self, addr: u64) -> Option<&Vma<D>> {
        self.find(addr)
            .or_else(|| self.areas.range(addr..).next().map(|(_, v)| v))
    }

    /// The areas overlapping `[start, end)`, by address.
    pub fn intersecting(&self, start: u64, end: u64) -> impl Iterator<Item = &Vma<D>> {
        let first = self.find(start).map_or(start, |v| v.start);
        self.areas
            .range(first..end.max(first))
            .map(|(_, v)| v)
            .filter(move |v| v.end > start)
    }

    /// Whether every byte of `[start, end)` is in some area.
    pub fn is_fully_mapped(&self, start: u64, end: u64) -> bool {
        let mut cursor = start;
        for v in self.intersecting(start, end) {
            if v.start > cursor {
                return false;
            }
            cursor = v.end;
        }
        cursor >= end
    }

    /// Adds an area (mmap), merging it with compatible neighbours. Refused
    /// if unaligned, empty, or overlapping an area (unmap first for MAP_FIXED).
    pub fn insert(&mut self, vma: Vma<D>) -> Result<(), VmaError> {
        page_aligned(vma.start, vma.end)?;
        if self.intersecting(vma.start, vma.end).next().is_some() {
            return Err(VmaError::Overlap);
        }
        let start = vma.start;
        self.areas.insert(start, vma);
        self.merge_around(start);
        Ok(())
    }

    /// Splits the area containing `addr` at `addr` (no-op at a boundary or hole).
    pub fn split(&mut self, addr: u64) {
        let Some(v) = self.find(addr) else { return };
        if v.start == addr {
            return;
        }
        let start = v.start;
        let Some(low) = self.areas.get_mut(&start) else {
            return;
        };
        let mut high = low.clone();
        high.start = addr;
        high.pgoff = low.pgoff + (addr - low.start) / PAGE_SIZE as u64;
        low.end = addr;
        self.areas.insert(addr, high);
    }

    /// Removes `[start, end)` (munmap), splitting areas at the edges;
    /// returns the removed pieces in address order (empty if none).
    pub fn unmap(&mut self, start: u64, end: u64) -> Result<Vec<Vma<D>>, VmaError> {
        page_aligned(start, end)?;
        self.split(start);
        self.split(end);
        let keys: Vec<u64> = self.areas.range(start..end).map(|(&k, _)| k).collect();
        Ok(keys
            .into_iter()
            .filter_map(|k| self.areas.remove(&k))
            .collect())
    }

    /// Applies `change` to every area piece inside `[start, end)` (mprotect,
    /// madvise flag changes), splitting at the edges and merging afterwards.
    /// The mapped parts are changed even when some of the range is not
    /// mapped, which is then reported as [`VmaError::NotMapped`] (as Linux
    /// returns `ENOMEM`).
    pub fn update(
        &mut self,
        start: u64,
        end: u64,
        mut change: impl FnMut(&mut Vma<D>),
    ) -> Result<(), VmaError> {
        page_aligned(start, end)?;
        let whole = self.is_fully_mapped(start, end);
        self.split(start);
        self.split(end);
        let keys: Vec<u64> = self.areas.range(start..end).map(|(&k, _)| k).collect();
        for &k in &keys {
            if let Some(v) = self.areas.get_mut(&k) {
                change(v);
            }
        }
        for &k in keys.iter().rev() {
            self.merge_around(k);
        }
        self.merge_around(end);
        if whole {
            Ok(())
        } else {
            Err(VmaError::NotMapped)
        }
    }

    /// Merges the area starting at `start` with its neighbours where they fit.
    fn merge_around(&mut self, start: u64) {
        // With the next area.
        if let Some(cur) = self.areas.get(&start) {
            let next_key = cur.end;
            if let Some(next) = self.areas.get(&next_key) {
                if cur.merges_with(next) {
                    let next_end = next.end;
                    self.areas.remove(&next_key);
                    if let Some(cur) = self.areas.get_mut(&start) {
                        cur.end = next_end;
                    }
                }
            }
        }
        // With the previous area.
        let prev = self
            .areas
            .range((Bound::Unbounded, Bound::Excluded(start)))
            .next_back()
            .map(|(&k, v)| (k, v.clone()));
        if let (Some((pk, prev)), Some(cur)) = (prev, self.areas.get(&start)) {
            if prev.merges_with(cur) {
                let end = cur.end;
                self.areas.remove(&start);
                if let Some(p) = self.areas.get_mut(&pk) {
                    p.end = end;
                }
            }
        }
    }

    /// The highest `align`-aligned start of a free gap of `len` bytes
    /// inside `[low, high)` (top-down `get_unmapped_area`), if any.
    pub fn find_gap(&self, len: u64, align: u64, low: u64, high: u64) -> Option<u64> {
        if len == 0 || !align.is_power_of_two() {
            return None;
        }
        let mut gap_end = high;
        let below = self
            .areas
            .range(..high)
            .rev()
            .map(|(_, v)| (v.start, v.end));
        for (vstart, vend) in below.chain(core::iter::once((0, low.min(high)))) {
            let gap_start = vend.max(low);
            if let Some(candidate) = gap_end.checked_sub(len) {
                let candidate = candidate & !(align - 1);
                if candidate >= gap_start && candidate >= low {
                    return Some(candidate);
                }
            }
            gap_end = gap_end.min(vstart);
            if gap_end <= low {
                break;
            }
        }
        None
    }
}
