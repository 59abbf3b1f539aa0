//! [`GlobalSlub`]: kmalloc as Rust's global allocator.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicU8, Ordering};

use spin::Once;

use super::backend::SlabBackend;
use super::kmalloc::Kmalloc;
use super::layout::LayoutError;
use super::{SlabError, SlubConfig};

/// Not initialised: allocations fail.
const UNINIT: u8 = 0;
/// Serving from the compile-time caches.
const DEFAULT: u8 = 1;
/// Serving from caches made at `init` (debugging, or several CPUs).
const CONFIGURED: u8 = 2;

/// A `#[global_allocator]` on [`Kmalloc`]: allocations fail (null) until
/// [`GlobalSlub::init`]; errors a free finds (double free, overflow with
/// `slub_debug`) go to the `on_error` hook, which may panic. The default
/// configuration's caches are built at compile time, so `init` costs
/// nothing at boot unless debugging asks for other layouts.
pub struct GlobalSlub<B: SlabBackend + Copy> {
    backend: B,
    defaults: Kmalloc<B>,
    configured: Once<Kmalloc<B>>,
    state: AtomicU8,
    on_error: fn(&SlabError),
}

impl<B: SlabBackend + Copy> core::fmt::Debug for GlobalSlub<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GlobalSlub")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
    }
}

impl<B: SlabBackend + Copy> GlobalSlub<B> {
    /// An allocator on `backend`, not yet usable.
    pub const fn new(backend: B, on_error: fn(&SlabError)) -> Self {
        Self {
            backend,
            defaults: Kmalloc::with_defaults(backend),
            configured: Once::new(),
            state: AtomicU8::new(UNINIT),
            on_error,
        }
    }

    /// Makes the allocator usable with `config` (only the first call
    /// does; later ones return the caches in use).
    pub fn init(&self, config: SlubConfig) -> Result<&Kmalloc<B>, LayoutError> {
        if let Some(k) = self.kmalloc() {
            return Ok(k);
        }
        let default_layouts = SlubConfig {
            random: config.random,
            ..SlubConfig::DEFAULT
        };
        if config == default_layouts && self.defaults.set_random(config.random) {
            self.state.store(DEFAULT, Ordering::Release);
            return Ok(&self.defaults);
        }
        let k = self
            .configured
            .try_call_once(|| Kmalloc::new(&config, self.backend))?;
        self.state.store(CONFIGURED, Ordering::Release);
        Ok(k)
    }

    /// The caches in use, once initialised.
    #[inline]
    pub fn kmalloc(&self) -> Option<&Kmalloc<B>> {
        match self.state.load(Ordering::Acquire) {
            DEFAULT => Some(&self.defaults),
            CONFIGURED => self.configured.get(),
            _ => None,
        }
    }
}

// SAFETY: blocks come from kmalloc, which hands out each object or page
// block once, at least `layout.size()` bytes aligned to `layout.align()`
// (class chosen by both), until it is freed with the same layout.
unsafe impl<B: SlabBackend + Copy + Sync> GlobalAlloc for GlobalSlub<B> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.kmalloc() {
            Some(k) => k
                .alloc(layout.size(), layout.align())
                .map_or(ptr::null_mut(), NonNull::as_ptr),
            None => ptr::null_mut(),
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let (Some(k), Some(ptr)) = (self.kmalloc(), NonNull::new(ptr)) else {
            return;
        };
        // SAFETY: GlobalAlloc's contract: `ptr` came from `alloc` with `layout`.
        if let Err(e) = unsafe { k.free(ptr, layout.size(), layout.align()) } {
            (self.on_error)(&e);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if let Some(k) = self.kmalloc() {
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
