//! Where slabs come from, and which CPU is asking.

use core::ptr::NonNull;

/// The page allocator under the slab caches, and the running CPU's index.
///
/// # Safety
/// - [`SlabBackend::alloc_pages`] returns blocks of `PAGE_SIZE << order`
///   bytes, aligned to their size, valid and writable, used by nothing else
///   until they are freed through [`SlabBackend::free_pages`].
/// - [`SlabBackend::cpu_id`] returns an index below
///   [`MAX_CPUS`](super::MAX_CPUS) that no other thread of execution uses
///   while a cache call runs (the CPU the caller runs on, with no migration
///   in between), and cache calls are not re-entered on one CPU (an
///   interrupt handler that allocates must not interrupt an allocation).
pub unsafe trait SlabBackend {
    /// A block of 2^`order` pages, or `None` if memory ran out.
    fn alloc_pages(&self, order: usize) -> Option<NonNull<u8>>;

    /// Returns a block from [`SlabBackend::alloc_pages`].
    ///
    /// # Safety
    /// `block` came from `alloc_pages(order)` and is no longer used.
    unsafe fn free_pages(&self, block: NonNull<u8>, order: usize);

    /// The running CPU's index (0 on a kernel that allocates on one CPU).
    fn cpu_id(&self) -> usize {
        0
    }
}

// SAFETY: forwards to `T`, which upholds the contract.
unsafe impl<T: SlabBackend + ?Sized> SlabBackend for &T {
    fn alloc_pages(&self, order: usize) -> Option<NonNull<u8>> {
        (**self).alloc_pages(order)
    }

    unsafe fn free_pages(&self, block: NonNull<u8>, order: usize) {
        // SAFETY: forwarded contract.
        unsafe { (**self).free_pages(block, order) }
    }

    fn cpu_id(&self) -> usize {
        (**self).cpu_id()
    }
}
