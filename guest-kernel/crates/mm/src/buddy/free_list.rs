//! The per-order free lists: doubly linked through a small header written
//! at the start of each free block, so unlinking a block's buddy is O(1).
//! Each order has two lists: blocks known to be zero ("clean": never
//! written since the allocator got them as zeroed memory) and the rest.

use crate::{NR_PAGE_ORDERS, PAGE_SHIFT};

/// The header a free block carries in its first bytes.
#[repr(C)]
struct FreeBlock {
    /// Next free block of the same list (page frame number), or [`NONE`].
    next: usize,
    /// Previous free block of the same list, or [`NONE`].
    prev: usize,
    /// The block's order.
    order: u32,
    /// Whether the block is clean (all zero but for this header).
    clean: u32,
}

/// "No block" (page frame 0 is never handed to a buddy allocator: the first
/// MiB is firmware's, and no host buffer lives at address 0).
const NONE: usize = 0;

/// Two list heads (dirty, clean) and a count per order.
#[derive(Debug)]
pub(super) struct FreeLists {
    heads: [[usize; NR_PAGE_ORDERS]; 2],
    counts: [usize; NR_PAGE_ORDERS],
}

fn header(pfn: usize) -> *mut FreeBlock {
    (pfn << PAGE_SHIFT) as *mut FreeBlock
}

impl FreeLists {
    /// Empty lists.
    pub(super) const fn new() -> Self {
        Self {
            heads: [[NONE; NR_PAGE_ORDERS]; 2],
            counts: [0; NR_PAGE_ORDERS],
        }
    }

    /// Free blocks of each order.
    pub(super) fn counts(&self) -> [usize; NR_PAGE_ORDERS] {
        self.counts
    }

    /// Whether the `clean` (or dirty) list of `order` is empty.
    pub(super) fn is_empty(&self, order: usize, clean: bool) -> bool {
        self.heads[usize::from(clean)][order] == NONE
    }

    /// The order and cleanliness recorded in the free block at `pfn`.
    ///
    /// # Safety
    /// A free block must start at `pfn` (it is on one of these lists).
    pub(super) unsafe fn state(&self, pfn: usize) -> (usize, bool) {
        // SAFETY: per the contract the block is free, so its header is ours.
        let h = unsafe { &*header(pfn) };
        (h.order as usize, h.clean != 0)
    }

    /// Zeroes the header of a block leaving the lists (so a clean block is
    /// entirely zero again).
    ///
    /// # Safety
    /// The block at `pfn` is the caller's, off every list.
    pub(super) unsafe fn wipe(&mut self, pfn: usize) {
        // SAFETY: per the contract the header's memory is the caller's.
        unsafe { core::ptr::write_bytes(header(pfn), 0, 1) };
    }

    /// Puts the block at `pfn` at the head of its list.
    ///
    /// # Safety
    /// The block must be free memory the allocator owns, in no list.
    pub(super) unsafe fn push(&mut self, pfn: usize, order: usize, clean: bool) {
        let head = &mut self.heads[usize::from(clean)][order];
        let next = *head;
        // SAFETY: the block (and so its header) is ours per the contract;
        // `next`, if any, is a free block on this list.
        unsafe {
            header(pfn).write(FreeBlock {
                next,
                prev: NONE,
                order: order as u32,
                clean: u32::from(clean),
            });
            if next != NONE {
                (*header(next)).prev = pfn;
            }
        }
        *head = pfn;
        self.counts[order] += 1;
    }

    /// Takes the first block of the `clean` (or dirty) list of `order`.
    pub(super) fn pop(&mut self, order: usize, clean: bool) -> Option<usize> {
        let pfn = self.heads[usize::from(clean)][order];
        if pfn == NONE {
            return None;
        }
        // SAFETY: `pfn` heads the list, so it is a free block we own.
        unsafe { self.unlink(pfn) };
        Some(pfn)
    }

    /// Removes the free block at `pfn` from its list.
    ///
    /// # Safety
    /// The block must be on one of the lists.
    pub(super) unsafe fn unlink(&mut self, pfn: usize) {
        // SAFETY: the block and its neighbours are free blocks on one list.
        unsafe {
            let FreeBlock {
                next,
                prev,
                order,
                clean,
            } = header(pfn).read();
            let order = order as usize;
            if prev == NONE {
                self.heads[usize::from(clean != 0)][order] = next;
            } else {
                (*header(prev)).next = next;
            }
            if next != NONE {
                (*header(next)).prev = prev;
            }
            self.counts[order] -= 1;
        }
    }
}
