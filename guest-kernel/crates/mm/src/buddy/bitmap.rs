//! One bit per page of the managed span: set when a free block starts at
//! that page. It is the only per-page state the buddy allocator keeps (a
//! free block's order lives in the block itself), so it can tell whether a
//! block's buddy is free without trusting the buddy's contents.

use core::ptr::NonNull;

/// Bits per bitmap word.
const WORD_BITS: usize = u64::BITS as usize;

/// The free-head bitmap over pages `[base_pfn, base_pfn + pages)`.
#[derive(Debug)]
pub(super) struct FreeBitmap {
    words: NonNull<u64>,
    base_pfn: usize,
    pages: usize,
}

impl FreeBitmap {
    /// Words needed for `pages` bits.
    pub(super) const fn words_for(pages: usize) -> usize {
        pages.div_ceil(WORD_BITS)
    }

    /// A cleared bitmap for `pages` pages from `base_pfn`, stored at
    /// `words` (cleared here unless `zeroed` says they are zero already).
    ///
    /// # Safety
    /// `words` must point to [`Self::words_for`]`(pages)` writable, 8-byte
    /// aligned words that nothing else uses while the bitmap lives, all
    /// zero if `zeroed`.
    pub(super) unsafe fn new(
        words: NonNull<u64>,
        base_pfn: usize,
        pages: usize,
        zeroed: bool,
    ) -> Self {
        if !zeroed {
            // SAFETY: the caller hands us that many words for our exclusive use.
            unsafe { core::ptr::write_bytes(words.as_ptr(), 0, Self::words_for(pages)) };
        }
        Self {
            words,
            base_pfn,
            pages,
        }
    }

    /// Whether `pfn` lies in the span the bitmap covers.
    pub(super) fn covers(&self, pfn: usize) -> bool {
        pfn.wrapping_sub(self.base_pfn) < self.pages
    }

    fn word(&self, pfn: usize) -> (*mut u64, u64) {
        let bit = pfn - self.base_pfn;
        debug_assert!(bit < self.pages);
        // SAFETY: `bit < pages`, so the word index is inside the bitmap.
        let word = unsafe { self.words.as_ptr().add(bit / WORD_BITS) };
        (word, 1 << (bit % WORD_BITS))
    }

    /// Whether a free block starts at `pfn` (which [`Self::covers`]).
    pub(super) fn test(&self, pfn: usize) -> bool {
        let (word, mask) = self.word(pfn);
        // SAFETY: `word` is inside the bitmap we own.
        unsafe { *word & mask != 0 }
    }

    /// Marks `pfn` as the head of a free block.
    pub(super) fn set(&mut self, pfn: usize) {
        let (word, mask) = self.word(pfn);
        // SAFETY: `word` is inside the bitmap we own, and `&mut self`
        // makes this the only access.
        unsafe { *word |= mask };
    }

    /// Marks `pfn` as no longer the head of a free block.
    pub(super) fn clear(&mut self, pfn: usize) {
        let (word, mask) = self.word(pfn);
        // SAFETY: as in `set`.
        unsafe { *word &= !mask };
    }

    /// Whether any page of `[pfn, pfn + count)` (all covered) is a free head.
    pub(super) fn any_in(&self, pfn: usize, count: usize) -> bool {
        (pfn..pfn + count).any(|p| self.test(p))
    }
}
