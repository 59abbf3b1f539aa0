//! A buddy allocator behind a spin lock, usable from a `static`.

use core::ops::Range;

use spin::Mutex;

use super::{AllocError, BuddyAllocator, BuddyInfo, FreeError, InitError};
use crate::NR_PAGE_ORDERS;

/// A [`BuddyAllocator`] in a spin lock, empty until [`LockedBuddy::init`]:
/// the kernel's page allocator lives in one of these.
#[derive(Debug)]
pub struct LockedBuddy {
    inner: Mutex<Option<BuddyAllocator>>,
}

/// Why [`LockedBuddy::init`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockedInitError {
    /// It was initialised before.
    AlreadyInitialised,
    /// The allocator could not be set up.
    Init(InitError),
}

impl LockedBuddy {
    /// An allocator with no memory.
    pub const fn new() -> Self {
        Self {
            inner: Mutex::new(None),
        }
    }

    /// Hands `ranges` to the allocator (see [`BuddyAllocator::new`]).
    ///
    /// # Safety
    /// As for [`BuddyAllocator::new`].
    pub unsafe fn init(
        &self,
        ranges: &[Range<usize>],
        zeroed: bool,
    ) -> Result<(), LockedInitError> {
        let mut inner = self.inner.lock();
        if inner.is_some() {
            return Err(LockedInitError::AlreadyInitialised);
        }
        // SAFETY: forwarded contract.
        let buddy =
            unsafe { BuddyAllocator::new(ranges, zeroed) }.map_err(LockedInitError::Init)?;
        *inner = Some(buddy);
        Ok(())
    }

    /// Runs `f` on the allocator, if initialised.
    pub fn with<R>(&self, f: impl FnOnce(&mut BuddyAllocator) -> R) -> Option<R> {
        self.inner.lock().as_mut().map(f)
    }

    /// [`BuddyAllocator::alloc`]; out of memory before `init`.
    pub fn alloc(&self, order: usize) -> Result<usize, AllocError> {
        self.with(|b| b.alloc(order))
            .unwrap_or(Err(AllocError::OutOfMemory { order }))
    }

    /// [`BuddyAllocator::alloc_zeroed`]; out of memory before `init`.
    pub fn alloc_zeroed(&self, order: usize) -> Result<usize, AllocError> {
        self.with(|b| b.alloc_zeroed(order))
            .unwrap_or(Err(AllocError::OutOfMemory { order }))
    }

    /// [`BuddyAllocator::free`].
    ///
    /// # Safety
    /// As for [`BuddyAllocator::free`].
    pub unsafe fn free(&self, addr: usize, order: usize) -> Result<(), FreeError> {
        // SAFETY: forwarded contract.
        self.with(|b| unsafe { b.free(addr, order) })
            .unwrap_or(Err(FreeError::NotManaged { addr }))
    }

    /// [`BuddyAllocator::alloc_exact`].
    pub fn alloc_exact(&self, pages: usize, zeroed: bool) -> Result<usize, AllocError> {
        self.with(|b| b.alloc_exact(pages, zeroed))
            .unwrap_or(Err(AllocError::OutOfMemory { order: 0 }))
    }

    /// [`BuddyAllocator::free_exact`].
    ///
    /// # Safety
    /// As for [`BuddyAllocator::free_exact`].
    pub unsafe fn free_exact(&self, addr: usize, pages: usize) -> Result<(), FreeError> {
        // SAFETY: forwarded contract.
        self.with(|b| unsafe { b.free_exact(addr, pages) })
            .unwrap_or(Err(FreeError::NotManaged { addr }))
    }

    /// Free pages (0 before `init`).
    pub fn free_pages(&self) -> usize {
        self.with(|b| b.free_pages()).unwrap_or(0)
    }

    /// Free blocks per order (all zero before `init`).
    pub fn nr_free(&self) -> [usize; NR_PAGE_ORDERS] {
        self.with(|b| b.nr_free()).unwrap_or([0; NR_PAGE_ORDERS])
    }

    /// The `/proc/buddyinfo` line (all zero before `init`).
    pub fn info(&self, zone: &'static str) -> BuddyInfo {
        BuddyInfo {
            zone,
            nr_free: self.nr_free(),
        }
    }
}

impl Default for LockedBuddy {
    fn default() -> Self {
        Self::new()
    }
}
