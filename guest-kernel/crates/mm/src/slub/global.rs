//! [`GlobalSlub`]: kmalloc as Rust's global allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};

use spin::Once;

use super::backend::SlabBackend;
use super::kmalloc::Kmalloc;
use super::layout::LayoutError;
use super::{SlabError, SlubConfig};

/// A `#[global_allocator]` on [`Kmalloc`]: allocations fail (null) until
/// [`GlobalSlub::init`]; errors a free finds (double free, overflow with
/// `slub_debug`) go to the `on_error` hook, which may panic.
pub struct GlobalSlub<B: SlabBackend + Clone> {
    backend: B,
    kmalloc: Once<Kmalloc<B>>,
    on_error: fn(&SlabError),
}

impl<B: SlabBackend + Clone> core::fmt::Debug for GlobalSlub<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GlobalSlub")
            .field("initialised", &self.kmalloc.is_completed())
            .finish()
    }
}

impl<B: SlabBackend + Clone> GlobalSlub<B> {
    /// An allocator on `backend`, not yet usable.
    pub const fn new(backend: B, on_error: fn(&SlabError)) -> Self {
        Self {
            backend,
            kmalloc: Once::new(),
            on_error,
        }
    }

    /// Creates the kmalloc caches with `config` (only the first call
    /// does; later ones return the existing caches).
    pub fn init(&self, config: SlubConfig) -> Result<&Kmalloc<B>, LayoutError> {
        self.kmalloc
            .try_call_once(|| Kmalloc::new(&config, self.backend.clone()))
    }

    /// The caches, once initialised.
    pub fn kmalloc(&self) -> Option<&Kmalloc<B>> {
        self.kmalloc.get()
    }
}

// SAFETY: blocks come from kmalloc, which hands out each object or page
// block once, at least `layout.size()` bytes aligned to `layout.align()`
// (class chosen by both), until it is freed with the same layout.
unsafe impl<B: SlabBackend + Clone + Sync> GlobalAlloc for GlobalSlub<B> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.kmalloc.get() {
            Some(k) => k
                .alloc(layout.size(), layout.align())
                .map_or(ptr::null_mut(), NonNull::as_ptr),
            None => ptr::null_mut(),
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let (Some(k), Some(ptr)) = (self.kmalloc.get(), NonNull::new(ptr)) else {
            return;
        };
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with `layout`.
        if let Err(e) = unsafe { k.free(ptr, layout.size(), layout.align()) } {
            (self.on_error)(&e);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if let Some(k) = self.kmalloc.get() {
            if k.same_slot(layout.size(), new_size, layout.align()) {
                return ptr;
            }
        }
        // SAFETY: GlobalAlloc's contract for realloc: the new layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: forwarded contract.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and distinct; the copy covers the
            // smaller size.
            unsafe {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}
