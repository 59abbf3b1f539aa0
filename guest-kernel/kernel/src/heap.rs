//! The kernel heap (`#[global_allocator]`): a linked-list allocator over one
//! contiguous run of frames from the frame allocator.

use core::sync::atomic::{AtomicBool, Ordering};

use linked_list_allocator::LockedHeap;

use crate::frame_alloc::{self, FRAME_SIZE};

/// Heap size in bytes.
pub const HEAP_SIZE: u64 = 1 << 20;

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Set by the first [`init`].
static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Takes `HEAP_SIZE` bytes of frames and hands them to the allocator.
/// Returns the heap's base address, or `None` if RAM ran out.
/// Panics if called more than once.
pub fn init() -> Option<u64> {
    assert!(
        !INITIALISED.swap(true, Ordering::SeqCst),
        "heap::init called twice"
    );
    let base = frame_alloc::alloc_contiguous(HEAP_SIZE / FRAME_SIZE)?;
    // SAFETY: this runs at most once (INITIALISED above), so the heap is
    // empty; the frames are identity-mapped, unused and never handed out
    // again by the frame allocator, so they are ours for 'static.
    unsafe { ALLOCATOR.lock().init(base as *mut u8, HEAP_SIZE as usize) };
    Some(base)
}

/// Bytes currently allocated from the heap.
pub fn used() -> usize {
    ALLOCATOR.lock().used()
}

/// Bounds `[bottom, top)` of the heap (both 0 before [`init`]).
pub fn bounds() -> (u64, u64) {
    let heap = ALLOCATOR.lock();
    (heap.bottom() as u64, heap.top() as u64)
}
