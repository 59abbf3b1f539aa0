//! kmalloc: Linux's size classes on [`KmemCache`]s, and `kmalloc_large`
//! (page blocks straight from the page allocator) above
//! [`KMALLOC_MAX_CACHE_SIZE`].

use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::backend::SlabBackend;
use super::cache::KmemCache;
use super::layout::{Layout, LayoutError};
use super::{SlabError, SlubConfig};
use crate::page::{get_order, MAX_PAGE_ORDER, PAGE_SIZE};

/// The kmalloc object sizes, smallest first.
pub const KMALLOC_SIZES: [usize; 13] = [
    8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
];
/// Their cache names.
const NAMES: [&str; 13] = [
    "kmalloc-8",
    "kmalloc-16",
    "kmalloc-32",
    "kmalloc-64",
    "kmalloc-96",
    "kmalloc-128",
    "kmalloc-192",
    "kmalloc-256",
    "kmalloc-512",
    "kmalloc-1k",
    "kmalloc-2k",
    "kmalloc-4k",
    "kmalloc-8k",
];
/// The largest size served by a cache (two pages).
pub const KMALLOC_MAX_CACHE_SIZE: usize = 8192;
/// The largest kmalloc: a block of `MAX_PAGE_ORDER` (4 MiB).
pub const KMALLOC_MAX_SIZE: usize = PAGE_SIZE << MAX_PAGE_ORDER;
/// What `kmalloc(0)` returns (Linux's `ZERO_SIZE_PTR`); freeing it does nothing.
pub const ZERO_SIZE_PTR: usize = 16;

/// Class of sizes 1..=192 by `(size - 1) / 8` (Linux's `kmalloc_size_index`).
const SIZE_INDEX: [u8; 24] = [
    0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6,
];

/// The kmalloc class (index into [`KMALLOC_SIZES`]) for `size` bytes
/// (1..=8192): a table up to 192, the next power of two above.
pub const fn kmalloc_index(size: usize) -> Option<usize> {
    if size == 0 || size > KMALLOC_MAX_CACHE_SIZE {
        None
    } else if size <= 192 {
        Some(SIZE_INDEX[(size - 1) / 8] as usize)
    } else {
        Some((usize::BITS - (size - 1).leading_zeros()) as usize - 1)
    }
}

/// The class of every size 1..=8192 in steps of 8, by `(size - 1) / 8`:
/// one load on the fast path instead of a table and a bit scan.
const CLASS: [u8; KMALLOC_MAX_CACHE_SIZE / 8] = {
    let mut table = [0; KMALLOC_MAX_CACHE_SIZE / 8];
    let mut i = 0;
    while i < table.len() {
        table[i] = match kmalloc_index(i * 8 + 8) {
            Some(index) => index as u8,
            None => 0,
        };
        i += 1;
    }
    table
};

/// The class for `size` bytes aligned to `align`: big enough for both,
/// and bumped from 96/192 (aligned to 32/64 only) to the next power of two
/// when `align` asks for more.
#[inline]
fn class(size: usize, align: usize) -> Option<usize> {
    let i = size.wrapping_sub(1);
    if i < KMALLOC_MAX_CACHE_SIZE && align <= 8 {
        return Some(CLASS[i >> 3] as usize);
    }
    class_aligned(size, align)
}

/// [`class`] for size 0, large sizes and alignments above a word.
fn class_aligned(size: usize, align: usize) -> Option<usize> {
    if size == 0 {
        return None;
    }
    let index = kmalloc_index(size.max(align))?;
    let natural = 1 << KMALLOC_SIZES[index].trailing_zeros();
    Some(if align > natural { index + 1 } else { index })
}

/// Tags of the caches [`Kmalloc::with_defaults`] builds (far above those
/// counted up at run time).
const KMALLOC_TAG: usize = 1 << 40;

/// Kmalloc cache `i` with the default configuration, at compile time.
const fn default_cache<B: SlabBackend + Copy>(i: usize, backend: B) -> KmemCache<B> {
    let size = KMALLOC_SIZES[i];
    let layout = match Layout::new(size, 1 << size.trailing_zeros(), false, false, 1) {
        Ok(layout) => layout,
        Err(_) => panic!("a kmalloc size has no layout"),
    };
    KmemCache::from_parts(
        NAMES[i],
        layout,
        None,
        &SlubConfig::DEFAULT,
        backend,
        KMALLOC_TAG + i,
    )
}

/// The kmalloc caches and large-allocation accounting.
#[derive(Debug)]
pub struct Kmalloc<B: SlabBackend + Clone> {
    caches: [KmemCache<B>; 13],
    backend: B,
    large_pages: AtomicUsize,
}

impl<B: SlabBackend + Copy> Kmalloc<B> {
    /// The caches with [`SlubConfig::DEFAULT`], computed at compile time
    /// (nothing to do at boot; [`Self::set_random`] before the first
    /// allocation sets a boot-time secret).
    pub const fn with_defaults(backend: B) -> Self {
        Self {
            caches: [
                default_cache(0, backend),
                default_cache(1, backend),
                default_cache(2, backend),
                default_cache(3, backend),
                default_cache(4, backend),
                default_cache(5, backend),
                default_cache(6, backend),
                default_cache(7, backend),
                default_cache(8, backend),
                default_cache(9, backend),
                default_cache(10, backend),
                default_cache(11, backend),
                default_cache(12, backend),
            ],
            backend,
            large_pages: AtomicUsize::new(0),
        }
    }
}

impl<B: SlabBackend + Clone> Kmalloc<B> {
    /// The 13 caches, each aligned to the largest power of two dividing
    /// its size (power-of-two sizes are naturally aligned, as in Linux).
    pub fn new(config: &SlubConfig, backend: B) -> Result<Self, LayoutError> {
        // Layouts first (small), so the caches are built once, in place.
        let mut layouts = [None; 13];
        for (i, slot) in layouts.iter_mut().enumerate() {
            let size = KMALLOC_SIZES[i];
            let align = 1 << size.trailing_zeros();
            *slot = Some(Layout::new(
                size,
                align,
                false,
                config.debug,
                config.nr_cpus,
            )?);
        }
        Ok(Self {
            caches: core::array::from_fn(|i| {
                let layout = layouts[i].unwrap_or_else(|| unreachable!("set above"));
                KmemCache::with_layout(NAMES[i], layout, None, config, backend.clone())
            }),
            backend,
            large_pages: AtomicUsize::new(0),
        })
    }

    /// Sets every cache's freelist-hardening secret; `false` if a cache
    /// already holds a slab (see [`KmemCache::set_random`]).
    pub fn set_random(&self, random: usize) -> bool {
        self.caches.iter().all(|c| c.set_random(random))
    }

    /// The caches, smallest first.
    pub fn caches(&self) -> &[KmemCache<B>] {
        &self.caches
    }

    /// The cache serving `size` bytes aligned to `align`, if a cache does.
    pub fn cache_for(&self, size: usize, align: usize) -> Option<&KmemCache<B>> {
        self.caches.get(class(size, align)?)
    }

    /// `kmalloc`: `size` bytes aligned to `align` (a power of two).
    /// Size 0 gives [`ZERO_SIZE_PTR`].
    #[inline]
    pub fn alloc(&self, size: usize, align: usize) -> Result<NonNull<u8>, SlabError> {
        if let Some(cache) = self.cache_for(size, align) {
            return cache.alloc();
        }
        if size == 0 {
            // SAFETY: a non-zero constant.
            return Ok(unsafe { NonNull::new_unchecked(ZERO_SIZE_PTR as *mut u8) });
        }
        self.alloc_large(size.max(align))
    }

    /// `kmalloc_large`: a page block of `get_order(size)`.
    fn alloc_large(&self, size: usize) -> Result<NonNull<u8>, SlabError> {
        if size > KMALLOC_MAX_SIZE {
            return Err(SlabError::TooLarge { size });
        }
        let order = get_order(size);
        let block = self
            .backend
            .alloc_pages(order)
            .ok_or(SlabError::OutOfMemory)?;
        self.large_pages.fetch_add(1 << order, Ordering::Relaxed);
        Ok(block)
    }

    /// `kfree` of an allocation of `size` bytes aligned to `align`.
    ///
    /// # Safety
    /// `ptr` came from [`Self::alloc`] with the same `size` and `align`
    /// and is not used after.
    #[inline]
    pub unsafe fn free(
        &self,
        ptr: NonNull<u8>,
        size: usize,
        align: usize,
    ) -> Result<(), SlabError> {
        if let Some(cache) = self.cache_for(size, align) {
            // SAFETY: the same size and alignment chose the same cache.
            return unsafe { cache.free(ptr) };
        }
        if size == 0 {
            return Ok(());
        }
        let order = get_order(size.max(align));
        self.large_pages.fetch_sub(1 << order, Ordering::Relaxed);
        // SAFETY: a large allocation is a block of this order.
        unsafe { self.backend.free_pages(ptr, order) };
        Ok(())
    }

    /// Whether an allocation of `old` bytes can keep its place for `new`
    /// bytes (same class, or same page block): `krealloc`'s shortcut.
    pub fn same_slot(&self, old: usize, new: usize, align: usize) -> bool {
        match (class(old, align), class(new, align)) {
            (Some(a), Some(b)) => a == b,
            (None, None) => {
                old != 0 && new != 0 && get_order(old.max(align)) == get_order(new.max(align))
            }
            _ => false,
        }
    }

    /// Pages held by large allocations.
    pub fn large_pages(&self) -> usize {
        self.large_pages.load(Ordering::Relaxed)
    }

    /// Bytes handed out: active objects times their class size, plus
    /// large allocations' pages.
    pub fn used_bytes(&self) -> usize {
        let objects: usize = self
            .caches
            .iter()
            .map(|c| {
                let info = c.info();
                info.active_objs * info.object_size
            })
            .sum();
        objects + self.large_pages() * PAGE_SIZE
    }

    /// Shrinks every cache (see [`KmemCache::shrink`]).
    pub fn shrink(&self) {
        for cache in &self.caches {
            cache.shrink();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_kmalloc_index_matches_linux() {
        let size = |n| kmalloc_index(n).map(|i| KMALLOC_SIZES[i]);
        assert_eq!(size(1), Some(8));
        assert_eq!(size(9), Some(16));
        assert_eq!(size(24), Some(32));
        assert_eq!(size(65), Some(96));
        assert_eq!(size(100), Some(128));
        assert_eq!(size(129), Some(192));
        assert_eq!(size(193), Some(256));
        assert_eq!(size(8192), Some(8192));
        assert_eq!(size(8193), None);
    }

    #[test]
    fn test_class_table_agrees_with_kmalloc_index() {
        for size in 1..=KMALLOC_MAX_CACHE_SIZE {
            assert_eq!(class(size, 8), kmalloc_index(size), "size {size}");
        }
        assert_eq!(class(0, 8), None);
        assert_eq!(class(8193, 8), None);
    }

    #[test]
    fn test_class_bumps_96_and_192_for_larger_alignment() {
        assert_eq!(KMALLOC_SIZES[class(96, 32).unwrap()], 96);
        assert_eq!(KMALLOC_SIZES[class(96, 64).unwrap()], 128);
        assert_eq!(KMALLOC_SIZES[class(150, 128).unwrap()], 256);
        assert_eq!(KMALLOC_SIZES[class(8, 4096).unwrap()], 4096);
    }
}
