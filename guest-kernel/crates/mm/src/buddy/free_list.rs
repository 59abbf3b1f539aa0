//! The per-order free lists: doubly linked through a small header written
//! at the start of each free block, so unlinking a block's buddy is O(1).

use crate::{NR_PAGE_ORDERS, PAGE_SHIFT};

/// The header a free block carries in its first bytes.
#[repr(C)]
struct FreeBlock {
    /// Next free block of the same order (page frame number), or [`NONE`].
    next: usize,
    /// Previous free block of the same order, or [`NONE`].
    prev: usize,
    /// The block's order.
    order: usize,
}

/// "No block" (page frame 0 is never handed to a buddy allocator: the first
/// MiB is firmware's, and no host buffer lives at address 0).
const NONE: usize = 0;

/// One list head and count per order.
#[derive(Debug)]
pub(super) struct FreeLists {
    heads: [usize; NR_PAGE_ORDERS],
    counts: [usize; NR_PAGE_ORDERS],
}

fn header(pfn: usize) -> *mut FreeBlock {
    (pfn << PAGE_SHIFT) as *mut FreeBlock
}

impl FreeLists {
    /// Empty lists.
    pub(super) const fn new() -> Self {
        Self {
            heads: [NONE; NR_PAGE_ORDERS],
            counts: [0; NR_PAGE_ORDERS],
        }
    }

    /// Free blocks of each order.
    pub(super) fn counts(&self) -> [usize; NR_PAGE_ORDERS] {
        self.counts
    }

    /// Whether the list of `order` is empty.
    pub(super) fn is_empty(&self, order: usize) -> bool {
        self.heads[order] == NONE
    }

    /// The order recorded in the header of the free block at `pfn`.
    ///
    /// # Safety
    /// A free block must start at `pfn` (it is on one of these lists).
    pub(super) unsafe fn order_of(&self, pfn: usize) -> usize {
        // SAFETY: per the contract the block is free, so its header is ours.
        unsafe { (*header(pfn)).order }
    }

    /// Puts the block at `pfn` at the head of the list of `order`.
    ///
    /// # Safety
    /// The block must be free memory the allocator owns, in no list.
    pub(super) unsafe fn push(&mut self, pfn: usize, order: usize) {
        let next = self.heads[order];
        // SAFETY: the block (and so its header) is ours per the contract;
        // `next`, if any, is a free block on this list.
        unsafe {
            header(pfn).write(FreeBlock {
                next,
                prev: NONE,
                order,
            });
            if next != NONE {
                (*header(next)).prev = pfn;
            }
        }
        self.heads[order] = pfn;
        self.counts[order] += 1;
    }

    /// Takes the first block of the list of `order`, if any.
    pub(super) fn pop(&mut self, order: usize) -> Option<usize> {
        let pfn = self.heads[order];
        if pfn == NONE {
            return None;
        }
        // SAFETY: `pfn` heads the list, so it is a free block we own.
        unsafe { self.unlink(pfn, order) };
        Some(pfn)
    }

    /// Removes the block at `pfn` from the list of `order`.
    ///
    /// # Safety
    /// The block must be on the list of `order`.
    pub(super) unsafe fn unlink(&mut self, pfn: usize, order: usize) {
        // SAFETY: the block and its neighbours are free blocks on this list.
        unsafe {
            let FreeBlock { next, prev, .. } = header(pfn).read();
            if prev == NONE {
                self.heads[order] = next;
            } else {
                (*header(prev)).next = next;
            }
            if next != NONE {
                (*header(next)).prev = prev;
            }
        }
        self.counts[order] -= 1;
    }
}
