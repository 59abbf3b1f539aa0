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

// SAFETY: the arena is plain memory; who writes where is the allocators'
// business (they synchronise), the arena itself is never written.
unsafe impl Send for Arena {}
// SAFETY: as above.
unsafe impl Sync for Arena {}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.base, self.layout) };
    }
}

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use guest_mm::buddy::LockedBuddy;
use guest_mm::slub::SlabBackend;

/// A buddy allocator over its own arena, as a slab backend. Each thread
/// gets its own CPU index the first time it asks.
pub struct Pages {
    pub buddy: LockedBuddy,
    _arena: Arena,
}

static NEXT_CPU: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static CPU: Cell<Option<usize>> = const { Cell::new(None) };
}

impl Pages {
    /// `len` bytes of pages.
    pub fn new(len: usize) -> Self {
        let arena = Arena::new(len);
        let buddy = LockedBuddy::new();
        // SAFETY: the arena is ours and lives as long as the buddy (same struct).
        unsafe { buddy.init(&[arena.all()], true) }.unwrap();
        Self {
            buddy,
            _arena: arena,
        }
    }
}

// SAFETY: blocks come from the buddy allocator (naturally aligned, owned);
// each thread takes the next CPU index (mod MAX_CPUS), so up to MAX_CPUS
// consecutive threads sharing one cache never share an index.
unsafe impl SlabBackend for Pages {
    fn alloc_pages(&self, order: usize) -> Option<NonNull<u8>> {
        self.buddy
            .alloc(order)
            .ok()
            .and_then(|a| NonNull::new(a as *mut u8))
    }

    unsafe fn free_pages(&self, block: NonNull<u8>, order: usize) {
        // SAFETY: forwarded contract.
        unsafe { self.buddy.free(block.as_ptr() as usize, order) }.unwrap();
    }

    fn cpu_id(&self) -> usize {
        CPU.with(|c| match c.get() {
            Some(id) => id,
            None => {
                let id = NEXT_CPU.fetch_add(1, Ordering::Relaxed) % guest_mm::slub::MAX_CPUS;
                c.set(Some(id));
                id
            }
        })
    }
}
