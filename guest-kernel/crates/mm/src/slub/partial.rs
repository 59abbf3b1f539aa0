//! The per-node partial list: slabs with some objects free and not owned
//! by a CPU, doubly linked through their headers.

use super::layout::Layout;
use super::slab::header;

/// The list and its length (Linux's `kmem_cache_node`, one node).
#[derive(Debug, Default)]
pub(super) struct Partial {
    head: usize,
    tail: usize,
    /// Slabs on the list (`nr_partial`).
    pub len: usize,
}

impl Partial {
    /// An empty list.
    pub const fn new() -> Self {
        Self {
            head: 0,
            tail: 0,
            len: 0,
        }
    }

    /// Appends the slab at `base` (Linux adds newly partial slabs at the tail).
    ///
    /// # Safety
    /// `base` is a slab of the cache laid out by `layout`, on no list, and
    /// the cache's lock is held.
    pub unsafe fn push_tail(&mut self, base: usize, layout: &Layout) {
        // SAFETY: the slab and the current tail are the cache's, under its lock.
        unsafe {
            let h = &mut *header(base, layout);
            h.prev = self.tail;
            h.next = 0;
            if self.tail == 0 {
                self.head = base;
            } else {
                (*header(self.tail, layout)).next = base;
            }
        }
        self.tail = base;
        self.len += 1;
    }

    /// Takes the first slab.
    ///
    /// # Safety
    /// The cache's lock is held and `layout` is the cache's.
    pub unsafe fn pop_head(&mut self, layout: &Layout) -> Option<usize> {
        let base = self.head;
        if base == 0 {
            return None;
        }
        // SAFETY: `base` is on the list.
        unsafe { self.remove(base, layout) };
        Some(base)
    }

    /// Unlinks the slab at `base`.
    ///
    /// # Safety
    /// `base` is on this list, the cache's lock is held and `layout` is the cache's.
    pub unsafe fn remove(&mut self, base: usize, layout: &Layout) {
        // SAFETY: the slab and its neighbours are on the list, under the lock.
        unsafe {
            let h = &mut *header(base, layout);
            let (prev, next) = (h.prev, h.next);
            if prev == 0 {
                self.head = next;
            } else {
                (*header(prev, layout)).next = next;
            }
            if next == 0 {
                self.tail = prev;
            } else {
                (*header(next, layout)).prev = prev;
            }
            h.prev = 0;
            h.next = 0;
        }
        self.len -= 1;
    }

    /// The slabs on the list, in order (read under the lock).
    pub fn iter<'a>(&'a self, layout: &'a Layout) -> impl Iterator<Item = usize> + 'a {
        let mut cursor = self.head;
        core::iter::from_fn(move || {
            let base = cursor;
            if base == 0 {
                return None;
            }
            // SAFETY: `base` is on the list; the caller holds the lock.
            cursor = unsafe { (*header(base, layout)).next };
            Some(base)
        })
    }
}
