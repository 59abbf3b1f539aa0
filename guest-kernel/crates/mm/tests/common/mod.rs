//! A heap buffer standing in for physical memory.

#![allow(dead_code)]

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ops::Range;

/// `len` bytes aligned to 4 MiB, freed on drop.
pub struct Arena {
    base: *mut u8,
    layout: Layout,
}

impl Arena {
    /// A zeroed arena of `len` bytes.
    pub fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len, 4 << 20).unwrap();
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        assert!(!base.is_null());
        Self { base, layout }
    }

    /// The address range `[base + start, base + end)`.
    pub fn range(&self, start: usize, end: usize) -> Range<usize> {
        assert!(start <= end && end <= self.layout.size());
        self.base as usize + start..self.base as usize + end
    }

    /// The whole arena.
    pub fn all(&self) -> Range<usize> {
        self.range(0, self.layout.size())
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.base, self.layout) };
    }
}
