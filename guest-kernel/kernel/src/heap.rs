//! The kernel heap (`#[global_allocator]`): guest-mm's SLUB kmalloc, its
//! slabs and large allocations (over 8 KiB) straight from the frame
//! allocator. `slub_debug` on the command line turns on red zones and
//! poisoning: a double free or an overflow found at free time panics with
//! the report.

use core::ptr::NonNull;

use guest_mm::slub::{GlobalSlub, Kmalloc, SlabBackend, SlabError, SlubConfig};

use crate::frame_alloc;

/// Slabs come from the frame allocator; one CPU allocates.
#[derive(Debug, Clone, Copy)]
pub struct KernelPages;

// SAFETY: blocks come from the buddy allocator (2^order identity-mapped
// frames, aligned to their size, ours until freed). Only the boot CPU
// allocates, and interrupt handlers never allocate, so CPU index 0 is
// never used by two contexts at once.
unsafe impl SlabBackend for KernelPages {
    #[inline]
    fn alloc_pages(&self, order: usize) -> Option<NonNull<u8>> {
        NonNull::new(frame_alloc::alloc_order(order)? as *mut u8)
    }

    unsafe fn free_pages(&self, block: NonNull<u8>, order: usize) {
        // SAFETY: forwarded contract (a block from `alloc_pages(order)`).
        unsafe { frame_alloc::free_order(block.as_ptr() as u64, order) };
    }

    #[inline]
    fn cpu_id(&self) -> usize {
        0
    }
}

fn report(error: &SlabError) {
    panic!("slub: {error}");
}

#[global_allocator]
static ALLOCATOR: GlobalSlub<KernelPages> = GlobalSlub::new(KernelPages, report);

/// Creates the kmalloc caches (red zones and poison with `debug`). Call
/// once, after `frame_alloc::init` and before the first allocation.
pub fn init(debug: bool) {
    let config = SlubConfig {
        debug,
        random: boot_random(),
        nr_cpus: 1,
    };
    if let Err(e) = ALLOCATOR.init(config) {
        panic!("kmalloc caches: {e:?}");
    }
}

/// A boot-time value for freelist hardening (the TSC).
fn boot_random() -> usize {
    // SAFETY: `rdtsc` only reads the time-stamp counter.
    let tsc = unsafe { core::arch::x86_64::_rdtsc() };
    (tsc as usize).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1
}

/// The kmalloc caches (after [`init`]).
pub fn kmalloc() -> Option<&'static Kmalloc<KernelPages>> {
    ALLOCATOR.kmalloc()
}

/// Bytes currently allocated from the heap (objects at their class size,
/// large allocations in whole pages).
pub fn used() -> usize {
    kmalloc().map_or(0, Kmalloc::used_bytes)
}
