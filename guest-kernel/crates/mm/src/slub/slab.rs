//! A slab: a block of pages holding `objects` slots, with its header in the
//! last [`HEADER_BYTES`] and its free objects linked through their free
//! pointers (objects never used yet are formatted lazily, [`BATCH`] at a
//! time). The header is reached from any object by aligning the
//! object's address down to the slab size (slabs are naturally aligned).

use core::sync::atomic::{AtomicUsize, Ordering};

use super::layout::{Layout, HEADER_BYTES};

/// The slab header (Linux's `struct slab`, kept inside the slab).
#[repr(C)]
#[derive(Debug)]
pub(super) struct SlabHeader {
    /// The owning cache's tag (debug checks that an object is freed to its cache).
    pub cache: usize,
    /// Free objects not on a CPU freelist (0: none).
    pub freelist: usize,
    /// Next slab on the partial list (slab base, 0: none).
    pub next: usize,
    /// Previous slab on the partial list (slab base, 0: none).
    pub prev: usize,
    /// Objects handed out or on a CPU freelist.
    pub inuse: u32,
    /// Objects formatted so far (the rest were never used: free, unlinked).
    pub fresh: u32,
    /// Whether a CPU owns the slab (its current slab).
    pub frozen: u32,
}

const _: () = assert!(core::mem::size_of::<SlabHeader>() == HEADER_BYTES);

/// The header of the slab at `base`.
pub(super) fn header(base: usize, layout: &Layout) -> *mut SlabHeader {
    (base + layout.slab_bytes() - HEADER_BYTES) as *mut SlabHeader
}

/// Free pointers are stored hardened (Linux's
/// `CONFIG_SLAB_FREELIST_HARDENED`): `next ^ random ^ swab(slot address)`,
/// so a leaked free object does not show a raw heap pointer and a forged
/// one decodes to garbage.
#[derive(Debug, Clone, Copy)]
pub(super) struct FreePointer {
    /// Offset of the pointer from the object's start.
    pub offset: usize,
    /// The cache's secret.
    pub random: usize,
}

impl FreePointer {
    fn slot(&self, obj: usize) -> &AtomicUsize {
        // SAFETY: `obj` is an object of a slab the cache owns; the free
        // pointer lies inside its slot, word-aligned (objects and offsets
        // are multiples of a word). Atomic access keeps a racing reader (a
        // stale fast path whose compare-exchange will fail) well defined.
        unsafe { AtomicUsize::from_ptr((obj + self.offset) as *mut usize) }
    }

    /// The next free object after `obj` (0: end of list).
    pub fn get(&self, obj: usize) -> usize {
        let stored = self.slot(obj).load(Ordering::Relaxed);
        stored ^ self.random ^ (obj + self.offset).swap_bytes()
    }

    /// Links `obj` to `next` (0: end of list).
    pub fn set(&self, obj: usize, next: usize) {
        let stored = next ^ self.random ^ (obj + self.offset).swap_bytes();
        self.slot(obj).store(stored, Ordering::Relaxed);
    }
}

/// At most how many never-used objects a refill formats at once: slabs
/// are set up lazily, about a page at a time (at most this many objects,
/// at least one), so a fresh slab costs no sweep over its objects and
/// touches no page before it is needed.
pub(super) const BATCH: u32 = 16;

/// Writes the header of the fresh slab at `base`: no object formatted,
/// none in use, not frozen.
pub(super) fn init(base: usize, layout: &Layout, cache: usize) {
    // SAFETY: the header lies in the fresh slab, which the cache owns.
    unsafe {
        header(base, layout).write(SlabHeader {
            cache,
            freelist: 0,
            next: 0,
            prev: 0,
            inuse: 0,
            fresh: 0,
            frozen: 0,
        });
    }
}

/// Formats up to [`BATCH`] never-used objects of the slab at `base` (whose
/// header is `h`) into a list, each passed through `prepare` first
/// (constructor, poison); returns its head (0 if none was left).
pub(super) fn carve(
    base: usize,
    h: &mut SlabHeader,
    layout: &Layout,
    fp: FreePointer,
    mut prepare: impl FnMut(usize),
) -> usize {
    let per_page = (crate::PAGE_SIZE / layout.stride).clamp(1, BATCH as usize) as u32;
    let count = (layout.objects as u32 - h.fresh).min(per_page);
    if count == 0 {
        return 0;
    }
    let first = base + layout.red_left + h.fresh as usize * layout.stride;
    let mut obj = first;
    for i in 1..=count {
        prepare(obj);
        let next = if i < count { obj + layout.stride } else { 0 };
        fp.set(obj, next);
        obj += layout.stride;
    }
    h.fresh += count;
    first
}
