//! A kmem cache: objects of one size on slabs from the page allocator.
//!
//! Per CPU, a current slab whose free objects form the CPU freelist. The
//! allocation and free fast paths touch only the running CPU's freelist
//! head: a load and a store each, no lock and no locked instruction (on
//! kvm-pvm every emulated instruction costs ~0.3 µs). That is sound
//! because a CPU index is used by one context at a time (the
//! [`SlabBackend`] contract: no sharing, no re-entry from interrupts),
//! Linux's `this_cpu` discipline with interrupts kept out of the
//! allocator. Everything else (refilling from the slab's remote frees, its
//! never-used objects, a partial or a new slab; frees to a slab that is
//! not the CPU's; debug checks) takes the cache's lock.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use spin::Mutex;

use super::backend::SlabBackend;
use super::layout::{min_partial, Layout, LayoutError};
use super::partial::Partial;
use super::slab::{self, header, FreePointer, SlabHeader};
use super::{debug, SlabError, SlubConfig};

/// CPUs a cache keeps a current slab for.
pub const MAX_CPUS: usize = 8;
/// Source of cache tags.
static NEXT_TAG: AtomicUsize = AtomicUsize::new(1);

/// An object constructor, run on every object before its first use.
pub type Ctor = fn(NonNull<u8>);

/// One CPU's state (Linux's `kmem_cache_cpu`). Atomics with relaxed
/// ordering: plain loads and stores, only ever used by their CPU.
#[derive(Debug)]
struct CpuSlab {
    /// Head of the CPU freelist (0: empty).
    freelist: AtomicUsize,
    /// Base of the current slab (0: none).
    slab: AtomicUsize,
}

impl CpuSlab {
    const fn new() -> Self {
        Self {
            freelist: AtomicUsize::new(0),
            slab: AtomicUsize::new(0),
        }
    }
}

/// `/proc/slabinfo` figures of one cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlabInfo {
    /// The cache's name.
    pub name: &'static str,
    /// Objects handed out (exact for the calling CPU's slab; other CPUs'
    /// free objects count as active).
    pub active_objs: usize,
    /// Objects the cache's slabs hold.
    pub num_objs: usize,
    /// Bytes per object slot (Linux's `objsize` column is `s->size`).
    pub objsize: usize,
    /// Bytes the user asked for per object.
    pub object_size: usize,
    /// Objects per slab.
    pub objperslab: usize,
    /// Pages per slab.
    pub pagesperslab: usize,
    /// Slabs the cache holds.
    pub num_slabs: usize,
}

impl core::fmt::Display for SlabInfo {
    /// One `/proc/slabinfo` 2.1 line.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:<17} {:>6} {:>6} {:>6} {:>4} {:>4} : tunables {:>4} {:>4} {:>4} : slabdata {:>6} {:>6} {:>6}",
            self.name,
            self.active_objs,
            self.num_objs,
            self.objsize,
            self.objperslab,
            self.pagesperslab,
            0,
            0,
            0,
            self.num_slabs,
            self.num_slabs,
            0
        )
    }
}

/// A cache of equally sized objects.
#[derive(Debug)]
pub struct KmemCache<B: SlabBackend> {
    name: &'static str,
    layout: Layout,
    /// Clears the offset inside a slab (slabs are naturally aligned).
    slab_mask: usize,
    /// The freelist-hardening secret.
    random: AtomicUsize,
    ctor: Option<Ctor>,
    debug: bool,
    poison: bool,
    tag: usize,
    min_partial: usize,
    cpus: [CpuSlab; MAX_CPUS],
    partial: Mutex<Partial>,
    nr_slabs: AtomicUsize,
    backend: B,
}

impl<B: SlabBackend> KmemCache<B> {
    /// A cache of `size`-byte objects aligned to `align` (at least a word),
    /// each passed through `ctor` when its slab is made. `config.debug`
    /// turns on red zones (and poisoning, unless there is a constructor).
    pub fn new(
        name: &'static str,
        size: usize,
        align: usize,
        ctor: Option<Ctor>,
        config: &SlubConfig,
        backend: B,
    ) -> Result<Self, LayoutError> {
        let layout = Layout::new(size, align, ctor.is_some(), config.debug, config.nr_cpus)?;
        Ok(Self::with_layout(name, layout, ctor, config, backend))
    }

    /// A cache with a layout from [`Layout::new`] (made with the same
    /// `ctor` presence and `config.debug`).
    pub fn with_layout(
        name: &'static str,
        layout: Layout,
        ctor: Option<Ctor>,
        config: &SlubConfig,
        backend: B,
    ) -> Self {
        let tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
        Self::from_parts(name, layout, ctor, config, backend, tag)
    }

    /// A cache built at compile time: `tag` must be unique among caches
    /// (those from [`Self::new`] count up from 1).
    pub(super) const fn from_parts(
        name: &'static str,
        layout: Layout,
        ctor: Option<Ctor>,
        config: &SlubConfig,
        backend: B,
        tag: usize,
    ) -> Self {
        Self {
            name,
            layout,
            slab_mask: !(layout.slab_bytes() - 1),
            random: AtomicUsize::new(config.random),
            ctor,
            debug: config.debug,
            poison: config.debug && ctor.is_none(),
            tag,
            min_partial: min_partial(layout.object_size),
            cpus: [const { CpuSlab::new() }; MAX_CPUS],
            partial: Mutex::new(Partial::new()),
            nr_slabs: AtomicUsize::new(0),
            backend,
        }
    }

    /// Sets the freelist-hardening secret; refused (`false`) once the
    /// cache holds a slab (its free pointers are encoded with the old one).
    pub fn set_random(&self, random: usize) -> bool {
        if self.nr_slabs.load(Ordering::Relaxed) != 0 {
            return false;
        }
        self.random.store(random, Ordering::Relaxed);
        true
    }

    /// How free pointers are stored.
    #[inline]
    fn fp(&self) -> FreePointer {
        FreePointer {
            offset: self.layout.fp_offset,
            random: self.random.load(Ordering::Relaxed),
        }
    }

    /// The cache's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Object and slab layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// `min_partial`: empty slabs kept on the partial list before freeing.
    pub fn min_partial(&self) -> usize {
        self.min_partial
    }

    fn cpu(&self) -> &CpuSlab {
        &self.cpus[self.backend.cpu_id()]
    }

    #[inline]
    fn slab_of(&self, obj: usize) -> usize {
        obj & self.slab_mask
    }

    /// Allocates an object (uninitialised, or as the constructor left it).
    #[inline]
    pub fn alloc(&self) -> Result<NonNull<u8>, SlabError> {
        if !self.debug {
            if let Some(obj) = self.pop_cpu(self.cpu()) {
                // SAFETY: objects live in slabs, never at address 0.
                return Ok(unsafe { NonNull::new_unchecked(obj as *mut u8) });
            }
        }
        self.alloc_slow()
    }

    /// Frees an object.
    ///
    /// # Safety
    /// `obj` came from this cache's [`Self::alloc`] and is not used after.
    /// Without debugging, only a free of the freelist head itself is caught
    /// as a double free; other misuse corrupts the cache.
    #[inline]
    pub unsafe fn free(&self, obj: NonNull<u8>) -> Result<(), SlabError> {
        let obj = obj.as_ptr() as usize;
        let base = self.slab_of(obj);
        if !self.debug && self.push_cpu(self.cpu(), base, obj)? {
            return Ok(());
        }
        self.free_slow(base, obj)
    }

    /// A free that is not the CPU slab's (or with debugging), under the lock.
    #[cold]
    #[inline(never)]
    fn free_slow(&self, base: usize, obj: usize) -> Result<(), SlabError> {
        if self.debug {
            return self.free_debug(base, obj);
        }
        let mut partial = self.partial.lock();
        // SAFETY: `free`'s contract: an allocated object of ours.
        unsafe { self.free_to_slab(&mut partial, base, obj) }
    }

    /// Pops the CPU freelist's head.
    #[inline]
    fn pop_cpu(&self, cpu: &CpuSlab) -> Option<usize> {
        let obj = cpu.freelist.load(Ordering::Relaxed);
        if obj == 0 {
            return None;
        }
        cpu.freelist.store(self.fp().get(obj), Ordering::Relaxed);
        Some(obj)
    }

    /// Pushes `obj` on the CPU freelist if its slab is the CPU's; `false`
    /// if it is not.
    #[inline]
    fn push_cpu(&self, cpu: &CpuSlab, base: usize, obj: usize) -> Result<bool, SlabError> {
        if cpu.slab.load(Ordering::Relaxed) != base {
            return Ok(false);
        }
        let head = cpu.freelist.load(Ordering::Relaxed);
        if head == obj {
            return Err(SlabError::DoubleFree { obj });
        }
        self.fp().set(obj, head);
        cpu.freelist.store(obj, Ordering::Relaxed);
        Ok(true)
    }

    /// Makes `list` (0 for none) the CPU freelist.
    fn publish(cpu: &CpuSlab, list: usize) {
        cpu.freelist.store(list, Ordering::Relaxed);
    }

    /// Refills the CPU freelist under the lock and takes an object: remote
    /// frees to the current slab, else its never-used objects, else a
    /// partial slab, else a new one.
    #[cold]
    #[inline(never)]
    fn alloc_slow(&self) -> Result<NonNull<u8>, SlabError> {
        let cpu = self.cpu();
        let mut partial = self.partial.lock();
        loop {
            if let Some(obj) = self.pop_cpu(cpu) {
                return self.hand_out(cpu, obj);
            }
            let old = cpu.slab.load(Ordering::Relaxed);
            if old != 0 {
                if self.refill(cpu, old) {
                    continue;
                }
                // Full: it leaves the CPU and sits on no list.
                // SAFETY: the CPU's slab is ours; we hold the lock.
                unsafe { (*header(old, &self.layout)).frozen = 0 };
                cpu.slab.store(0, Ordering::Relaxed);
            }
            // SAFETY: we hold the lock; the list holds our slabs.
            let base = match unsafe { partial.pop_head(&self.layout) } {
                Some(base) => base,
                None => self.new_slab().ok_or(SlabError::OutOfMemory)?,
            };
            // SAFETY: a slab of ours, off every list, under the lock.
            unsafe { (*header(base, &self.layout)).frozen = 1 };
            cpu.slab.store(base, Ordering::Relaxed);
            if !self.refill(cpu, base) {
                return Err(SlabError::OutOfMemory);
            }
        }
    }

    /// Gives the CPU the free objects of its slab at `base`: those freed to
    /// the slab, else a batch of never-used ones. `false` if it has none.
    fn refill(&self, cpu: &CpuSlab, base: usize) -> bool {
        // SAFETY: the CPU's slab is ours; callers hold the lock.
        let h = unsafe { &mut *header(base, &self.layout) };
        let mut list = core::mem::take(&mut h.freelist);
        if list == 0 {
            list = slab::carve(base, h, &self.layout, self.fp(), |obj| self.prepare(obj));
        }
        // Everything formatted is now handed out or on the CPU freelist.
        h.inuse = h.fresh;
        Self::publish(cpu, list);
        list != 0
    }

    /// Readies a never-used object: debug marks, constructor.
    fn prepare(&self, obj: usize) {
        if self.debug {
            debug::mark_free(obj, &self.layout, self.poison);
        }
        if let Some(ctor) = self.ctor {
            // SAFETY: objects live in slabs, never at address 0.
            ctor(unsafe { NonNull::new_unchecked(obj as *mut u8) });
        }
    }

    /// The debug checks on an object about to be handed out (under the lock).
    fn hand_out(&self, cpu: &CpuSlab, obj: usize) -> Result<NonNull<u8>, SlabError> {
        if self.debug {
            let next = cpu.freelist.load(Ordering::Relaxed);
            if next != 0 && !self.is_object(self.slab_of(obj), next) {
                Self::publish(cpu, 0);
                return Err(SlabError::FreelistCorrupt { obj });
            }
            debug::check_alloc(obj, &self.layout, self.poison)?;
        }
        // SAFETY: objects live in slabs, never at address 0.
        Ok(unsafe { NonNull::new_unchecked(obj as *mut u8) })
    }

    /// Whether `obj` is the start of an object slot of the slab at `base`.
    fn is_object(&self, base: usize, obj: usize) -> bool {
        let Some(offset) = obj.checked_sub(base + self.layout.red_left) else {
            return false;
        };
        offset.is_multiple_of(self.layout.stride)
            && offset / self.layout.stride < self.layout.objects
    }

    /// A free with every debug check, under the lock.
    fn free_debug(&self, base: usize, obj: usize) -> Result<(), SlabError> {
        let mut partial = self.partial.lock();
        if !self.is_object(base, obj) {
            return Err(SlabError::NotFromCache { obj });
        }
        // SAFETY: `base` is a slab base if `obj` is one of our objects; the
        // tag check below is what confirms it, reading our own header.
        let (tag, fresh) = unsafe {
            let h = &*header(base, &self.layout);
            (h.cache, h.fresh as usize)
        };
        let index = (obj - base - self.layout.red_left) / self.layout.stride;
        if tag != self.tag || index >= fresh {
            return Err(SlabError::NotFromCache { obj });
        }
        debug::check_free(obj, &self.layout)?;
        debug::mark_free(obj, &self.layout, self.poison);
        if self.push_cpu(self.cpu(), base, obj)? {
            return Ok(());
        }
        // SAFETY: checked above to be an allocated object of ours.
        unsafe { self.free_to_slab(&mut partial, base, obj) }
    }

    /// Puts `obj` on its slab's freelist, moving the slab between lists.
    ///
    /// # Safety
    /// `obj` is an allocated object of the slab at `base`; the lock is held
    /// (`partial` is its guard's contents).
    unsafe fn free_to_slab(
        &self,
        partial: &mut Partial,
        base: usize,
        obj: usize,
    ) -> Result<(), SlabError> {
        // SAFETY: per the contract, a slab of ours, under the lock.
        let h: &mut SlabHeader = unsafe { &mut *header(base, &self.layout) };
        if h.freelist == obj || h.inuse == 0 {
            return Err(SlabError::DoubleFree { obj });
        }
        let was_full = h.freelist == 0 && h.fresh as usize == self.layout.objects;
        self.fp().set(obj, h.freelist);
        h.freelist = obj;
        h.inuse -= 1;
        if h.frozen != 0 {
            return Ok(());
        }
        if h.inuse == 0 && partial.len >= self.min_partial {
            if !was_full {
                // SAFETY: a partial slab with a free object is on the list.
                unsafe { partial.remove(base, &self.layout) };
            }
            self.discard(base);
        } else if was_full {
            // SAFETY: a full slab is on no list.
            unsafe { partial.push_tail(base, &self.layout) };
        }
        Ok(())
    }

    /// A fresh slab (objects formatted later, a batch at a time); `None` if
    /// the page allocator is out of memory.
    fn new_slab(&self) -> Option<usize> {
        let block = self.backend.alloc_pages(self.layout.order)?;
        self.nr_slabs.fetch_add(1, Ordering::Relaxed);
        let base = block.as_ptr() as usize;
        slab::init(base, &self.layout, self.tag);
        Some(base)
    }

    /// Gives the slab at `base` back to the page allocator.
    fn discard(&self, base: usize) {
        self.nr_slabs.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: `base` came from `alloc_pages(order)` in `new_slab` and
        // holds no allocated object.
        unsafe {
            self.backend
                .free_pages(NonNull::new_unchecked(base as *mut u8), self.layout.order)
        };
    }

    /// Returns the calling CPU's slab to the lists and frees every empty
    /// slab (Linux's `kmem_cache_shrink`, for the calling CPU's slab).
    pub fn shrink(&self) {
        let mut partial = self.partial.lock();
        self.flush_cpu(&mut partial);
        let layout = &self.layout;
        let empty = |base: &usize| self.inuse(*base) == 0;
        loop {
            let found = partial.iter(layout).find(empty);
            let Some(base) = found else { break };
            // SAFETY: found on the list, under the lock.
            unsafe { partial.remove(base, layout) };
            self.discard(base);
        }
    }

    /// `inuse` of the slab at `base` (a slab of ours, read under the lock).
    fn inuse(&self, base: usize) -> usize {
        // SAFETY: callers pass slabs of this cache and hold its lock.
        unsafe { (*header(base, &self.layout)).inuse as usize }
    }

    /// Unfreezes the calling CPU's slab, its CPU freelist spliced back.
    fn flush_cpu(&self, partial: &mut Partial) {
        let cpu = self.cpu();
        let base = cpu.slab.load(Ordering::Relaxed);
        if base == 0 {
            return;
        }
        let head = cpu.freelist.load(Ordering::Relaxed);
        Self::publish(cpu, 0);
        cpu.slab.store(0, Ordering::Relaxed);
        // SAFETY: the CPU's slab is ours; we hold the lock.
        let h = unsafe { &mut *header(base, &self.layout) };
        if head != 0 {
            let (mut tail, mut count) = (head, 1);
            while self.fp().get(tail) != 0 {
                tail = self.fp().get(tail);
                count += 1;
            }
            self.fp().set(tail, h.freelist);
            h.freelist = head;
            h.inuse -= count;
        }
        h.frozen = 0;
        if h.inuse == 0 {
            self.discard(base);
        } else if h.freelist != 0 || (h.fresh as usize) < self.layout.objects {
            // SAFETY: a frozen slab is on no list.
            unsafe { partial.push_tail(base, &self.layout) };
        }
    }

    /// The cache's `/proc/slabinfo` figures.
    pub fn info(&self) -> SlabInfo {
        let partial = self.partial.lock();
        let layout = &self.layout;
        let slabs = self.nr_slabs.load(Ordering::Relaxed);
        let partial_free: usize = partial
            .iter(layout)
            .map(|b| layout.objects - self.inuse(b))
            .sum();
        let cpu = self.cpu();
        let mut cpu_free = 0;
        let base = cpu.slab.load(Ordering::Relaxed);
        if base != 0 {
            // SAFETY: the CPU's slab is ours; we hold the lock.
            let h = unsafe { &*header(base, layout) };
            cpu_free += layout.objects - h.inuse as usize;
            let mut obj = cpu.freelist.load(Ordering::Relaxed);
            while obj != 0 {
                cpu_free += 1;
                obj = self.fp().get(obj);
            }
        }
        let num_objs = slabs * layout.objects;
        SlabInfo {
            name: self.name,
            active_objs: num_objs - partial_free - cpu_free,
            num_objs,
            objsize: layout.stride,
            object_size: layout.object_size,
            objperslab: layout.objects,
            pagesperslab: 1 << layout.order,
            num_slabs: slabs,
        }
    }
}
