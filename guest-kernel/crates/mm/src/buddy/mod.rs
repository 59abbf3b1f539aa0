//! The buddy page allocator.
//!
//! Memory is handed out in blocks of 2^order pages, `order` in
//! `0..=`[`MAX_PAGE_ORDER`], each naturally aligned (its address is a
//! multiple of its size). An allocation takes the smallest free block that
//! fits and splits it, returning the upper halves to the free lists; a free
//! merges the block with its buddy (the other half of the block of the next
//! order) as long as that buddy is free and whole, up to `MAX_PAGE_ORDER`.
//!
//! Metadata: the free lists are linked through the free blocks themselves,
//! and one bit per page (set where a free block starts) is carved from the
//! managed memory at [`BuddyAllocator::new`]. Set-up clears that bitmap
//! (span / 32768 bytes: 8 KiB for 256 MiB; nothing to clear when the memory
//! is handed over zeroed) and records the ranges: their blocks join the
//! free lists lazily, one at a time in address order, when the lists have
//! nothing to give (Linux defers struct page set-up the same way), so
//! set-up costs the same for 256 MiB as for 3 GiB.
//!
//! Clean memory: ranges handed over as zeroed (RAM fresh from the VMM)
//! stay on separate "clean" lists until written: [`BuddyAllocator::alloc`]
//! prefers dirty blocks (recycled memory), [`BuddyAllocator::alloc_zeroed`]
//! takes only clean ones, whose contents are all zero, so the kernel need
//! not zero them (on kvm-pvm every emulated store counts). Freed blocks are
//! dirty; a merge is clean only if both halves are.

mod bitmap;
mod blocks;
mod free_list;
mod info;
mod locked;

use core::ops::Range;
use core::ptr::NonNull;

pub use blocks::AlignedBlocks;
pub use info::BuddyInfo;
pub use locked::LockedBuddy;

use crate::page::pages_order;
use crate::{MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGE_SHIFT, PAGE_SIZE};
use bitmap::FreeBitmap;
use free_list::FreeLists;

/// Why [`BuddyAllocator::new`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// No whole page in any range.
    NoMemory,
    /// More than [`MAX_RANGES`] ranges.
    TooManyRanges,
    /// No range has room for the free-block bitmap.
    NoRoomForBitmap {
        /// Bytes the bitmap needs.
        bytes: usize,
    },
}

/// Why an allocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocError {
    /// The order is above [`MAX_PAGE_ORDER`] (Linux warns and returns NULL).
    OrderTooLarge {
        /// The order asked for.
        order: usize,
    },
    /// No free block of this order or above (`ENOMEM`).
    OutOfMemory {
        /// The order asked for.
        order: usize,
    },
}

/// Why a free was refused (the block is left alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreeError {
    /// The address is not aligned to the block's size, or the order is too large.
    Misaligned {
        /// The address freed.
        addr: usize,
        /// The order given.
        order: usize,
    },
    /// The block is not inside the memory this allocator manages.
    NotManaged {
        /// The address freed.
        addr: usize,
    },
    /// The block, or part of it, is already free.
    DoubleFree {
        /// The address freed.
        addr: usize,
    },
}

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::OrderTooLarge { order } => {
                write!(f, "order {order} above MAX_PAGE_ORDER {MAX_PAGE_ORDER}")
            }
            Self::OutOfMemory { order } => write!(f, "no free block of order {order}"),
        }
    }
}

impl core::fmt::Display for FreeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Misaligned { addr, order } => {
                write!(f, "{addr:#x} is not an order-{order} block")
            }
            Self::NotManaged { addr } => write!(f, "{addr:#x} is not managed memory"),
            Self::DoubleFree { addr } => write!(f, "{addr:#x} is already free"),
        }
    }
}

/// Most ranges [`BuddyAllocator::new`] takes.
pub const MAX_RANGES: usize = 32;

/// The buddy allocator over a set of memory ranges.
#[derive(Debug)]
pub struct BuddyAllocator {
    lists: FreeLists,
    bitmap: FreeBitmap,
    /// Where the bitmap lives (taken out of the managed memory).
    metadata: Range<usize>,
    managed_pages: usize,
    /// Free pages on the lists.
    free_pages: usize,
    /// Page ranges not yet on the lists (`(start, end)` frames), in address
    /// order from `pending_first`.
    pending: [(usize, usize); MAX_RANGES],
    pending_first: usize,
    pending_len: usize,
    /// Pages in `pending`.
    pending_pages: usize,
    /// Whether the pending memory is zero.
    pending_clean: bool,
}

// SAFETY: the allocator owns the memory its pointers refer to (the bitmap
// and the free blocks); nothing else aliases them, so moving it to another
// thread is fine.
unsafe impl Send for BuddyAllocator {}

/// The ranges cut to whole pages, as page frame numbers, empty ones dropped.
fn page_ranges(ranges: &[Range<usize>]) -> impl Iterator<Item = Range<usize>> + Clone + '_ {
    ranges.iter().filter_map(|r| {
        let start = r.start.checked_add(PAGE_SIZE - 1)? >> PAGE_SHIFT;
        let end = r.end >> PAGE_SHIFT;
        // Page frame 0 is never managed (0 marks the end of a free list).
        let start = start.max(1);
        (start < end).then_some(start..end)
    })
}

impl BuddyAllocator {
    /// An allocator over `ranges` (byte addresses, any alignment: partial
    /// pages at the edges are left out). The free-block bitmap (one bit per
    /// page of the span from the lowest to the highest page) is taken from
    /// the end of the smallest range with room for it.
    ///
    /// # Safety
    /// The ranges must not overlap, and every byte in them must be memory
    /// the caller hands over: valid, writable, and used by nothing else for
    /// as long as the allocator or any block it hands out lives. With
    /// `zeroed`, every byte must also be zero: it is handed out as such by
    /// [`Self::alloc_zeroed`].
    pub unsafe fn new(ranges: &[Range<usize>], zeroed: bool) -> Result<Self, InitError> {
        let pages = page_ranges(ranges);
        let lo = pages
            .clone()
            .map(|r| r.start)
            .min()
            .ok_or(InitError::NoMemory)?;
        let hi = pages
            .clone()
            .map(|r| r.end)
            .max()
            .ok_or(InitError::NoMemory)?;
        let bytes = FreeBitmap::words_for(hi - lo) * 8;
        let bitmap_pages = bytes.div_ceil(PAGE_SIZE);
        let home = pages
            .clone()
            .filter(|r| r.len() > bitmap_pages)
            .min_by_key(|r| r.len())
            .ok_or(InitError::NoRoomForBitmap { bytes })?;
        let meta_pfn = home.end - bitmap_pages;
        let metadata = meta_pfn << PAGE_SHIFT..home.end << PAGE_SHIFT;
        let words = NonNull::new(metadata.start as *mut u64).ok_or(InitError::NoMemory)?;
        // SAFETY: the bitmap pages lie in a range the caller handed over
        // (zero if `zeroed`) and are never put on a free list (cut out below).
        let bitmap = unsafe { FreeBitmap::new(words, lo, hi - lo, zeroed) };
        let mut buddy = Self {
            lists: FreeLists::new(),
            bitmap,
            metadata,
            managed_pages: 0,
            free_pages: 0,
            pending: [(0, 0); MAX_RANGES],
            pending_first: 0,
            pending_len: 0,
            pending_pages: 0,
            pending_clean: zeroed,
        };
        for r in pages {
            let end = if r == home { meta_pfn } else { r.end };
            if r.start >= end {
                continue;
            }
            let slot = buddy
                .pending
                .get_mut(buddy.pending_len)
                .ok_or(InitError::TooManyRanges)?;
            *slot = (r.start, end);
            buddy.pending_len += 1;
            buddy.managed_pages += end - r.start;
        }
        buddy.pending[..buddy.pending_len].sort_unstable();
        buddy.pending_pages = buddy.managed_pages;
        Ok(buddy)
    }

    /// Moves the next pending block onto the free lists; `false` if none is left.
    fn grow(&mut self) -> bool {
        while self.pending_first < self.pending_len {
            let (start, end) = self.pending[self.pending_first];
            let Some((pfn, order)) = AlignedBlocks::new(start, end).next() else {
                self.pending_first += 1;
                continue;
            };
            self.pending[self.pending_first].0 = pfn + (1 << order);
            self.pending_pages -= 1 << order;
            // SAFETY: pending memory was handed over at `new` and never
            // used; the block is on no list (zero if `pending_clean`).
            unsafe { self.release(pfn, order, self.pending_clean) };
            return true;
        }
        false
    }

    /// The pending blocks still to join the lists.
    fn pending_blocks(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.pending[self.pending_first..self.pending_len]
            .iter()
            .flat_map(|&(start, end)| AlignedBlocks::new(start, end))
    }

    /// Allocates a block of 2^`order` pages, aligned to its size; returns
    /// its address. Its contents are whatever was there (dirty blocks are
    /// preferred at each order, so clean memory is kept for
    /// [`Self::alloc_zeroed`]).
    pub fn alloc(&mut self, order: usize) -> Result<usize, AllocError> {
        self.take(order, false).map(|(pfn, _)| pfn << PAGE_SHIFT)
    }

    /// Allocates a block of 2^`order` pages whose contents are all zero
    /// (a clean block: never written since the allocator got it zeroed).
    pub fn alloc_zeroed(&mut self, order: usize) -> Result<usize, AllocError> {
        self.take(order, true).map(|(pfn, _)| pfn << PAGE_SHIFT)
    }

    /// Takes a block of `order` (only a clean one if `clean_only`),
    /// splitting a larger one; returns its frame and whether it is clean
    /// (then all zero).
    fn take(&mut self, order: usize, clean_only: bool) -> Result<(usize, bool), AllocError> {
        if order > MAX_PAGE_ORDER {
            return Err(AllocError::OrderTooLarge { order });
        }
        let (mut found, clean) = loop {
            let hit = (order..=MAX_PAGE_ORDER).find_map(|o| {
                if !clean_only && !self.lists.is_empty(o, false) {
                    Some((o, false))
                } else {
                    (!self.lists.is_empty(o, true)).then_some((o, true))
                }
            });
            if let Some(hit) = hit {
                break hit;
            }
            if !self.grow() {
                return Err(AllocError::OutOfMemory { order });
            }
        };
        let pfn = self
            .lists
            .pop(found, clean)
            .ok_or(AllocError::OutOfMemory { order })?;
        self.bitmap.clear(pfn);
        // Split: the upper half of each level goes back on its list.
        while found > order {
            found -= 1;
            let half = pfn + (1 << found);
            // SAFETY: the upper half belongs to the block just taken off
            // the lists, so it is free memory we own, in no list.
            unsafe { self.lists.push(half, found, clean) };
            self.bitmap.set(half);
        }
        if clean {
            // SAFETY: the block is ours now; its header was the only
            // non-zero part.
            unsafe { self.lists.wipe(pfn) };
        }
        self.free_pages -= 1 << order;
        Ok((pfn, clean))
    }

    /// Returns the block of 2^`order` pages at `addr`, merging it with its
    /// free buddies. Refuses (and leaves everything as it was) a block that
    /// is misaligned, outside the managed memory, or already free at its
    /// first page.
    ///
    /// # Safety
    /// The block must have come from [`Self::alloc`] with this `order` (or
    /// be a naturally aligned part of such a block) and must not be used
    /// after this call.
    pub unsafe fn free(&mut self, addr: usize, order: usize) -> Result<(), FreeError> {
        let pfn = self.check_block(addr, order)?;
        if self.bitmap.test(pfn) {
            return Err(FreeError::DoubleFree { addr });
        }
        // SAFETY: the caller returns an allocated block, which is ours again.
        unsafe { self.release(pfn, order, false) };
        Ok(())
    }

    /// As [`Self::free`], and also refuses a block that overlaps any free
    /// block (a fuller double-free check: up to 2^order + MAX_PAGE_ORDER
    /// bit tests).
    ///
    /// # Safety
    /// As for [`Self::free`].
    pub unsafe fn free_checked(&mut self, addr: usize, order: usize) -> Result<(), FreeError> {
        let pfn = self.check_block(addr, order)?;
        let end = pfn + (1 << order);
        let pending = self.pending[self.pending_first..self.pending_len]
            .iter()
            .any(|&(s, e)| s < end && pfn < e);
        if pending || self.bitmap.any_in(pfn, 1 << order) || self.inside_free_block(pfn, order) {
            return Err(FreeError::DoubleFree { addr });
        }
        // SAFETY: as in `free`.
        unsafe { self.release(pfn, order, false) };
        Ok(())
    }

    /// Whether the block at `pfn` of `order` lies inside a larger free block.
    fn inside_free_block(&self, pfn: usize, order: usize) -> bool {
        (order + 1..=MAX_PAGE_ORDER).any(|o| {
            let head = pfn & !((1 << o) - 1);
            self.bitmap.covers(head)
                && self.bitmap.test(head)
                // SAFETY: a set bit means a free block starts at `head`.
                && unsafe { self.lists.state(head) }.0 >= o
        })
    }

    /// The block's first page frame if `addr`/`order` name a naturally
    /// aligned block inside the managed span.
    fn check_block(&self, addr: usize, order: usize) -> Result<usize, FreeError> {
        let size = PAGE_SIZE << order.min(MAX_PAGE_ORDER);
        if order > MAX_PAGE_ORDER || !addr.is_multiple_of(size) {
            return Err(FreeError::Misaligned { addr, order });
        }
        let pfn = addr >> PAGE_SHIFT;
        let last = pfn + (1 << order) - 1;
        if !self.bitmap.covers(pfn) || !self.bitmap.covers(last) {
            return Err(FreeError::NotManaged { addr });
        }
        Ok(pfn)
    }

    /// Puts a block on the free lists, merged with its free buddies; the
    /// result is clean if the block and every buddy merged were.
    ///
    /// # Safety
    /// The block must be memory the allocator owns, covered by the bitmap,
    /// not free already; `clean` only if it is all zero.
    unsafe fn release(&mut self, mut pfn: usize, mut order: usize, mut clean: bool) {
        self.free_pages += 1 << order;
        while order < MAX_PAGE_ORDER {
            let buddy = pfn ^ (1 << order);
            if !self.bitmap.covers(buddy) || !self.bitmap.test(buddy) {
                break;
            }
            // SAFETY: a set bit means a free block (with a header) starts there.
            let (buddy_order, buddy_clean) = unsafe { self.lists.state(buddy) };
            if buddy_order != order {
                break;
            }
            // SAFETY: the buddy is a free block of `order`, so on a list.
            unsafe { self.lists.unlink(buddy) };
            self.bitmap.clear(buddy);
            clean &= buddy_clean;
            if clean {
                // SAFETY: the buddy is ours now (absorbed into the block).
                unsafe { self.lists.wipe(buddy) };
            }
            pfn &= !(1 << order);
            order += 1;
        }
        // SAFETY: the merged block is free memory we own, in no list.
        unsafe { self.lists.push(pfn, order, clean) };
        self.bitmap.set(pfn);
    }

    /// Allocates `pages` contiguous pages (not necessarily a power of two),
    /// aligned to the smallest block that holds them; the pages past `pages`
    /// go straight back (Linux's `alloc_pages_exact`). With `zeroed`, only
    /// clean memory is used, and the pages are all zero.
    pub fn alloc_exact(&mut self, pages: usize, zeroed: bool) -> Result<usize, AllocError> {
        let pages = pages.max(1);
        let order = pages_order(pages);
        let (pfn, clean) = self.take(order, zeroed)?;
        for (tail, tail_order) in AlignedBlocks::new(pfn + pages, pfn + (1 << order)) {
            // SAFETY: the tail is part of the block just taken, unused
            // (and still zero if the block was clean).
            unsafe { self.release(tail, tail_order, clean) };
        }
        Ok(pfn << PAGE_SHIFT)
    }

    /// Returns `pages` pages from [`Self::alloc_exact`] (or any run of
    /// allocated pages), block by block.
    ///
    /// # Safety
    /// As for [`Self::free`], for every page of the run.
    pub unsafe fn free_exact(&mut self, addr: usize, pages: usize) -> Result<(), FreeError> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(FreeError::Misaligned { addr, order: 0 });
        }
        let pfn = addr >> PAGE_SHIFT;
        for (block, order) in AlignedBlocks::new(pfn, pfn + pages) {
            // SAFETY: each block is part of the caller's run.
            unsafe { self.free(block << PAGE_SHIFT, order)? };
        }
        Ok(())
    }

    /// Free blocks of each order (`zone->free_area[order].nr_free`),
    /// counting memory not yet on the lists as the blocks it will join as.
    pub fn nr_free(&self) -> [usize; NR_PAGE_ORDERS] {
        let mut counts = self.lists.counts();
        for (_, order) in self.pending_blocks() {
            counts[order] += 1;
        }
        counts
    }

    /// The zone's `/proc/buddyinfo` line under the name `zone`.
    pub fn info(&self, zone: &'static str) -> BuddyInfo {
        BuddyInfo {
            zone,
            nr_free: self.nr_free(),
        }
    }

    /// Free pages, all orders together.
    pub fn free_pages(&self) -> usize {
        self.free_pages + self.pending_pages
    }

    /// Pages handed to the allocator (free or not), bitmap excluded.
    pub fn managed_pages(&self) -> usize {
        self.managed_pages
    }

    /// The bytes the free-block bitmap took from the managed memory.
    pub fn metadata(&self) -> Range<usize> {
        self.metadata.clone()
    }
}
