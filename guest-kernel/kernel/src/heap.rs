//! The kernel heap (`#[global_allocator]`): a linked-list allocator over one
//! contiguous run of frames from the frame allocator.

use linked_list_allocator::LockedHeap;

use crate::frame_alloc::{self, FRAME_SIZE};

/// Heap size in bytes.
pub const HEAP_SIZE: u64 = 1 << 20;

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

/// Takes `HEAP_SIZE` bytes of frames and hands them to the allocator.
/// Returns the heap's base address, or `None` if RAM ran out.
pub fn init() -> Option<u64> {
    let base = frame_alloc::alloc_contiguous(HEAP_SIZE / FRAME_SIZE)?;
    // SAFETY: the frames are identity-mapped, unused and never handed out
    // again by the frame allocator; `init` runs once, before any allocation.
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
