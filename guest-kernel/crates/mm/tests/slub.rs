//! SLUB on a buddy allocator over a heap arena: kmalloc classes, large
//! allocations, randomized alloc/free, debugging, hardening, constructors,
//! threads, and the global-allocator adapter.

mod common;

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::Pages;
use guest_mm::slub::{debug, GlobalSlub, Kmalloc, KmemCache, SlabError, SlubConfig, KMALLOC_SIZES};
use proptest::prelude::*;

const MIB: usize = 1 << 20;

fn debug_config() -> SlubConfig {
    SlubConfig {
        debug: true,
        ..SlubConfig::default()
    }
}

fn fill(ptr: NonNull<u8>, len: usize, byte: u8) {
    // SAFETY: the test owns `len` bytes at `ptr`.
    unsafe { std::ptr::write_bytes(ptr.as_ptr(), byte, len) };
}

#[test]
fn test_kmalloc_serves_sizes_from_linux_classes() {
    let pages = Pages::new(16 * MIB);
    let k = Kmalloc::new(&SlubConfig::default(), &pages).unwrap();
    assert_eq!(k.cache_for(100, 1).unwrap().name(), "kmalloc-128");
    assert_eq!(k.cache_for(65, 1).unwrap().name(), "kmalloc-96");
    assert_eq!(k.cache_for(8192, 8).unwrap().name(), "kmalloc-8k");
    assert!(k.cache_for(8193, 8).is_none());
    let big = k.alloc(8193, 8).unwrap();
    assert_eq!(big.as_ptr() as usize % (4 * 4096), 0, "an order-2 block");
    assert_eq!(k.large_pages(), 4);
    // SAFETY: allocated just above with this size.
    unsafe { k.free(big, 8193, 8) }.unwrap();
    assert_eq!(k.large_pages(), 0);
    assert_eq!(
        k.alloc((4 << 20) + 1, 8),
        Err(SlabError::TooLarge {
            size: (4 << 20) + 1
        })
    );
    assert_eq!(k.alloc(0, 1).unwrap().as_ptr() as usize, 16);
}

#[test]
fn test_kmalloc_power_of_two_sizes_are_naturally_aligned() {
    let pages = Pages::new(16 * MIB);
    let k = Kmalloc::new(&SlubConfig::default(), &pages).unwrap();
    for size in KMALLOC_SIZES {
        for _ in 0..3 {
            let p = k.alloc(size, 1).unwrap().as_ptr() as usize;
            let natural = 1 << size.trailing_zeros();
            assert_eq!(p % natural, 0, "kmalloc({size}) at {p:#x}");
        }
    }
}

#[test]
fn test_slub_freed_object_is_reused_first() {
    let pages = Pages::new(4 * MIB);
    let k = Kmalloc::new(&SlubConfig::default(), &pages).unwrap();
    let a = k.alloc(4096, 1).unwrap();
    // SAFETY: allocated above.
    unsafe { k.free(a, 4096, 1) }.unwrap();
    assert_eq!(k.alloc(4096, 1).unwrap(), a);
}

#[test]
fn test_slub_hardened_free_pointer_is_not_the_raw_next_object() {
    let pages = Pages::new(4 * MIB);
    let cache = KmemCache::new("test-64", 64, 8, None, &SlubConfig::default(), &pages).unwrap();
    let a = cache.alloc().unwrap();
    let b = cache.alloc().unwrap();
    // SAFETY: both allocated above; `a` is read only as raw memory afterwards.
    unsafe {
        cache.free(b).unwrap();
        cache.free(a).unwrap();
    }
    let middle = cache.layout().fp_offset;
    // SAFETY: the freed object's memory is still the slab's, readable.
    let stored = unsafe { (a.as_ptr().add(middle) as *const usize).read() };
    assert_eq!(middle, 32);
    assert_ne!(stored, b.as_ptr() as usize, "raw next pointer visible");
    assert_eq!(cache.alloc().unwrap(), a);
    assert_eq!(cache.alloc().unwrap(), b);
}

#[test]
fn test_slub_double_free_of_the_freelist_head_is_caught() {
    let pages = Pages::new(4 * MIB);
    let cache = KmemCache::new("test-32", 32, 8, None, &SlubConfig::default(), &pages).unwrap();
    let a = cache.alloc().unwrap();
    // SAFETY: the second free is the planted double free; the cache refuses it.
    unsafe {
        cache.free(a).unwrap();
        assert_eq!(
            cache.free(a),
            Err(SlabError::DoubleFree {
                obj: a.as_ptr() as usize
            })
        );
    }
}

#[test]
fn test_slub_debug_catches_a_planted_double_free() {
    let pages = Pages::new(4 * MIB);
    let cache = KmemCache::new("dbg-48", 48, 8, None, &debug_config(), &pages).unwrap();
    let a = cache.alloc().unwrap();
    let b = cache.alloc().unwrap();
    // SAFETY: `a` is freed twice on purpose, with `b` freed in between so
    // that `a` is not the freelist head; debug mode must still see it.
    unsafe {
        cache.free(a).unwrap();
        cache.free(b).unwrap();
        assert_eq!(
            cache.free(a),
            Err(SlabError::DoubleFree {
                obj: a.as_ptr() as usize
            })
        );
    }
}

#[test]
fn test_slub_debug_catches_a_planted_overflow() {
    let pages = Pages::new(4 * MIB);
    let cache = KmemCache::new("dbg-24", 24, 8, None, &debug_config(), &pages).unwrap();
    let a = cache.alloc().unwrap();
    fill(a, 24, 0x11);
    // SAFETY: one byte past the object: the planted overflow, into the red zone.
    unsafe { a.as_ptr().add(24).write(0x42) };
    // SAFETY: `a` is allocated; the cache reports the overflow instead.
    let err = unsafe { cache.free(a) };
    assert_eq!(
        err,
        Err(SlabError::RedzoneOverwritten {
            obj: a.as_ptr() as usize,
            at: a.as_ptr() as usize + 24,
            found: 0x42
        })
    );
    let b = cache.alloc().unwrap();
    // SAFETY: one byte before the object: an underflow into the left red zone.
    unsafe { b.as_ptr().sub(1).write(0) };
    // SAFETY: `b` is allocated.
    let err = unsafe { cache.free(b) };
    assert!(matches!(err, Err(SlabError::RedzoneOverwritten { .. })));
}

#[test]
fn test_slub_debug_catches_a_write_after_free_and_poisons() {
    let pages = Pages::new(4 * MIB);
    let cache = KmemCache::new("dbg-40", 40, 8, None, &debug_config(), &pages).unwrap();
    let a = cache.alloc().unwrap();
    // SAFETY: a fresh debug object is poisoned; then `a` is freed.
    unsafe {
        assert_eq!(a.as_ptr().read(), debug::POISON_FREE);
        assert_eq!(a.as_ptr().add(39).read(), debug::POISON_END);
        cache.free(a).unwrap();
        a.as_ptr().add(5).write(0); // the planted use after free
    }
    assert_eq!(
        cache.alloc(),
        Err(SlabError::PoisonOverwritten {
            obj: a.as_ptr() as usize,
            at: a.as_ptr() as usize + 5,
            found: 0
        })
    );
}

#[test]
fn test_slub_debug_refuses_a_pointer_from_another_cache() {
    let pages = Pages::new(4 * MIB);
    let c1 = KmemCache::new("dbg-a", 64, 8, None, &debug_config(), &pages).unwrap();
    let c2 = KmemCache::new("dbg-b", 64, 8, None, &debug_config(), &pages).unwrap();
    let a = c1.alloc().unwrap();
    // SAFETY: the wrong cache; it refuses.
    let err = unsafe { c2.free(a) };
    assert!(matches!(err, Err(SlabError::NotFromCache { .. })));
}

static CONSTRUCTED: AtomicUsize = AtomicUsize::new(0);

fn ctor(obj: NonNull<u8>) {
    CONSTRUCTED.fetch_add(1, Ordering::Relaxed);
    fill(obj, 40, 0x5a);
}

#[test]
fn test_slub_ctor_runs_once_per_object_before_first_use() {
    let pages = Pages::new(4 * MIB);
    let cache =
        KmemCache::new("ctor-40", 40, 8, Some(ctor), &SlubConfig::default(), &pages).unwrap();
    let objects = cache.layout().objects;
    let all: Vec<_> = (0..objects).map(|_| cache.alloc().unwrap()).collect();
    assert_eq!(CONSTRUCTED.load(Ordering::Relaxed), objects);
    assert_eq!(cache.info().num_slabs, 1);
    for &a in &all {
        // SAFETY: a constructed object of 40 bytes.
        let bytes = unsafe { std::slice::from_raw_parts(a.as_ptr(), 40) };
        assert!(
            bytes.iter().all(|&b| b == 0x5a),
            "free pointer inside the object"
        );
    }
    // SAFETY: allocated above; reallocated objects are not constructed again.
    unsafe { cache.free(all[3]).unwrap() };
    assert_eq!(cache.alloc().unwrap(), all[3]);
    assert_eq!(CONSTRUCTED.load(Ordering::Relaxed), objects);
    assert!(cache.layout().fp_offset >= 40);
}

#[test]
fn test_slub_fresh_slab_formats_objects_lazily() {
    let pages = Pages::new(4 * MIB);
    let cache = KmemCache::new("lazy-8", 8, 8, None, &SlubConfig::default(), &pages).unwrap();
    let a = cache.alloc().unwrap();
    let info = cache.info();
    assert_eq!((info.num_slabs, info.active_objs), (1, 1));
    // SAFETY: allocated above.
    unsafe { cache.free(a).unwrap() };
    cache.shrink();
    assert_eq!(cache.info().num_slabs, 0);
}

#[test]
fn test_slub_a_million_cycles_leak_nothing() {
    let pages = Pages::new(16 * MIB);
    let k = Kmalloc::new(&SlubConfig::default(), &pages).unwrap();
    let baseline = pages.buddy.nr_free();
    let mut live = Vec::new();
    for i in 0..1_000_000usize {
        let size = KMALLOC_SIZES[i % 13] - (i % 7);
        live.push((k.alloc(size, 1).unwrap(), size));
        if live.len() > 50 || i % 3 == 0 {
            let (p, s) = live.swap_remove(i % live.len());
            // SAFETY: allocated above with size `s`.
            unsafe { k.free(p, s, 1) }.unwrap();
        }
    }
    for (p, s) in live {
        // SAFETY: allocated above with size `s`.
        unsafe { k.free(p, s, 1) }.unwrap();
    }
    assert_eq!(k.used_bytes(), 0);
    k.shrink();
    assert!(k.caches().iter().all(|c| c.info().num_slabs == 0));
    assert_eq!(
        pages.buddy.nr_free(),
        baseline,
        "slab pages back to baseline"
    );
}

#[test]
fn test_slub_threads_with_cross_cpu_frees_do_not_overlap() {
    let pages = Pages::new(32 * MIB);
    let k = Kmalloc::new(&SlubConfig::default(), &pages).unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<(usize, usize)>();
    std::thread::scope(|s| {
        for t in 0..3u8 {
            let k = &k;
            let tx = tx.clone();
            s.spawn(move || {
                let mut mine = Vec::new();
                for i in 0..20_000usize {
                    let size = 8 + (i * 37 + t as usize * 11) % 600;
                    let p = k.alloc(size, 8).unwrap();
                    fill(p, size, t + 1);
                    mine.push((p.as_ptr() as usize, size));
                    if mine.len() > 64 {
                        let (addr, size) = mine.swap_remove(i % mine.len());
                        // SAFETY: our allocation; the pattern shows overlap.
                        let bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, size) };
                        assert!(bytes.iter().all(|&b| b == t + 1), "overlap");
                        if i % 2 == 0 {
                            tx.send((addr, size)).unwrap();
                        } else {
                            // SAFETY: allocated above with `size`.
                            unsafe { k.free(NonNull::new(addr as *mut u8).unwrap(), size, 8) }
                                .unwrap();
                        }
                    }
                }
                for (addr, size) in mine {
                    // SAFETY: allocated above with `size`.
                    unsafe { k.free(NonNull::new(addr as *mut u8).unwrap(), size, 8) }.unwrap();
                }
            });
        }
        drop(tx);
        // Frees from another thread (another CPU index): the remote path.
        for (addr, size) in rx {
            // SAFETY: allocated by a worker with `size`, handed over.
            unsafe { k.free(NonNull::new(addr as *mut u8).unwrap(), size, 8) }.unwrap();
        }
    });
}

#[derive(Debug, Clone)]
enum Op {
    Alloc { size: usize, align_shift: u32 },
    Free(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => (1usize..700, 0u32..4).prop_map(|(size, align_shift)| Op::Alloc { size, align_shift }),
            1 => (1usize..20_000, 0u32..13).prop_map(|(size, align_shift)| Op::Alloc { size, align_shift }),
            4 => any::<usize>().prop_map(Op::Free),
        ],
        1..400,
    )
}

fn run_ops(ops: Vec<Op>, config: SlubConfig) -> Result<(), TestCaseError> {
    let pages = Pages::new(32 * MIB);
    let baseline = pages.buddy.nr_free();
    let k = Kmalloc::new(&config, &pages).unwrap();
    let mut live: Vec<(usize, usize, usize, u8)> = Vec::new();
    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Alloc { size, align_shift } => {
                let align = 1 << align_shift;
                let p = k.alloc(size, align).unwrap();
                let a = p.as_ptr() as usize;
                prop_assert_eq!(a % align, 0);
                for &(b, bs, _, _) in &live {
                    prop_assert!(a + size <= b || b + bs <= a, "overlap");
                }
                let tag = n as u8 | 1;
                fill(p, size, tag);
                live.push((a, size, align, tag));
            }
            Op::Free(pick) if !live.is_empty() => {
                let (a, size, align, tag) = live.swap_remove(pick % live.len());
                // SAFETY: a live allocation of `size` bytes.
                let bytes = unsafe { std::slice::from_raw_parts(a as *const u8, size) };
                prop_assert!(bytes.iter().all(|&b| b == tag), "contents changed");
                // SAFETY: allocated with this size and alignment.
                unsafe { k.free(NonNull::new(a as *mut u8).unwrap(), size, align) }.unwrap();
            }
            Op::Free(_) => {}
        }
    }
    let expected: usize = live
        .iter()
        .map(|&(_, size, align, _)| match k.cache_for(size, align) {
            Some(c) => c.layout().object_size,
            None => 4096 << guest_mm::page::get_order(size.max(align)),
        })
        .sum();
    prop_assert_eq!(k.used_bytes(), expected);
    for (a, size, align, _) in live {
        // SAFETY: allocated with this size and alignment.
        unsafe { k.free(NonNull::new(a as *mut u8).unwrap(), size, align) }.unwrap();
    }
    k.shrink();
    prop_assert_eq!(k.used_bytes(), 0);
    prop_assert_eq!(
        pages.buddy.nr_free(),
        baseline,
        "every slab page coalesced back"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn prop_slub_random_alloc_free_no_overlap_and_full_coalescing(ops in ops()) {
        run_ops(ops, SlubConfig::default())?;
    }

    #[test]
    fn prop_slub_debug_random_alloc_free_is_clean(ops in ops()) {
        run_ops(ops, debug_config())?;
    }
}

fn panic_on_error(e: &SlabError) {
    panic!("slub: {e}");
}

#[test]
fn test_global_slub_allocates_reallocs_in_place_and_reports_errors() {
    let pages = Box::leak(Box::new(Pages::new(8 * MIB)));
    let global = GlobalSlub::new(&*pages, panic_on_error);
    let layout = Layout::from_size_align(100, 8).unwrap();
    // SAFETY: GlobalAlloc contract: non-zero layouts, frees with the same layout.
    unsafe {
        assert!(global.alloc(layout).is_null(), "null before init");
        global.init(SlubConfig::default()).unwrap();
        let p = global.alloc(layout);
        assert!(!p.is_null());
        assert_eq!(global.realloc(p, layout, 120), p, "same kmalloc-128 object");
        let q = global.realloc(p, Layout::from_size_align(120, 8).unwrap(), 5000);
        assert_ne!(q, p);
        let big = Layout::from_size_align(100_000, 4096).unwrap();
        let r = global.alloc(big);
        assert_eq!(r as usize % 4096, 0);
        global.dealloc(r, big);
        global.dealloc(q, Layout::from_size_align(5000, 8).unwrap());
    }
    let used = global.kmalloc().unwrap().used_bytes();
    assert_eq!(used, 0);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let l = Layout::from_size_align(64, 8).unwrap();
        // SAFETY: a planted double free of the freelist head; the hook panics.
        unsafe {
            let p = global.alloc(l);
            global.dealloc(p, l);
            global.dealloc(p, l);
        }
    }));
    assert!(result.is_err(), "the error hook ran");
}

#[test]
fn test_slabinfo_line_shape() {
    let pages = Pages::new(4 * MIB);
    let cache = KmemCache::new("kmalloc-64", 64, 64, None, &SlubConfig::default(), &pages).unwrap();
    let _a = cache.alloc().unwrap();
    let info = cache.info();
    assert_eq!((info.active_objs, info.num_slabs, info.objsize), (1, 1, 64));
    let line = info.to_string();
    assert!(line.starts_with("kmalloc-64             1     63     64   63    1 : tunables    0    0    0 : slabdata      1      1      0"), "{line}");
}

#[test]
fn test_kmalloc_compile_time_caches_match_run_time_ones() {
    let pages = Pages::new(4 * MIB);
    let built = Kmalloc::with_defaults(&pages);
    let run = Kmalloc::new(&SlubConfig::default(), &pages).unwrap();
    for (a, b) in built.caches().iter().zip(run.caches()) {
        assert_eq!((a.name(), a.layout()), (b.name(), b.layout()));
        assert_eq!(a.min_partial(), b.min_partial());
    }
}

#[test]
fn test_global_slub_debug_init_uses_red_zoned_caches() {
    let pages = Box::leak(Box::new(Pages::new(4 * MIB)));
    let global = GlobalSlub::new(&*pages, panic_on_error);
    let k = global.init(debug_config()).unwrap();
    assert!(k.caches().iter().all(|c| c.layout().red_left > 0));
    let again = global.init(SlubConfig::default()).unwrap();
    assert!(std::ptr::eq(k, again), "the first init wins");
}
