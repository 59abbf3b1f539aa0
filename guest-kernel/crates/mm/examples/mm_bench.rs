//! Host figures for guest-mm: the kmalloc + kfree fast path per size class
//! (ns per pair) against the host's own allocator on the same sizes, the
//! buddy allocator's order-0 and order-9 alloc + free, and SLUB's memory
//! overhead per cache (slab bytes per requested byte with 10 000 live
//! objects). `cargo run --release -p guest-mm --example mm_bench`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::ptr::NonNull;
use std::time::Instant;

use guest_mm::buddy::LockedBuddy;
use guest_mm::slub::{Kmalloc, SlabBackend, SlubConfig, KMALLOC_SIZES};

/// Pairs per measurement.
const PAIRS: u32 = 2_000_000;
/// Live objects per cache for the overhead figure.
const LIVE: usize = 10_000;
const ARENA: usize = 512 << 20;

/// The buddy allocator over a leaked heap buffer.
struct Pages(LockedBuddy);

// SAFETY: blocks come from the buddy allocator over memory leaked for the
// program's lifetime; the bench is single-threaded (CPU index 0).
unsafe impl SlabBackend for Pages {
    fn alloc_pages(&self, order: usize) -> Option<NonNull<u8>> {
        NonNull::new(self.0.alloc(order).ok()? as *mut u8)
    }

    unsafe fn free_pages(&self, block: NonNull<u8>, order: usize) {
        // SAFETY: forwarded contract.
        let _ = unsafe { self.0.free(block.as_ptr() as usize, order) };
    }
}

fn pages() -> &'static Pages {
    let layout = Layout::from_size_align(ARENA, 4 << 20).expect("layout");
    // SAFETY: a non-zero layout; the memory is leaked, so it lives forever.
    let base = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
    assert!(base != 0, "no {ARENA} bytes for the arena");
    let pages = Box::leak(Box::new(Pages(LockedBuddy::new())));
    let arena = base..base + ARENA;
    // SAFETY: the arena is ours alone, zeroed, and never freed.
    unsafe { pages.0.init(std::slice::from_ref(&arena), true) }.expect("buddy");
    pages
}

fn ns_per(pairs: u32, mut op: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        op();
    }
    let start = Instant::now();
    for _ in 0..pairs {
        op();
    }
    start.elapsed().as_nanos() as f64 / f64::from(pairs)
}

fn main() {
    let pages = pages();
    let k = Kmalloc::new(&SlubConfig::default(), pages).expect("kmalloc caches");
    println!(
        "kmalloc + kfree, one pair at a time ({PAIRS} pairs; host malloc + free as the baseline)"
    );
    println!(
        "{:<13} {:>9} {:>9} {:>7}",
        "class", "slub ns", "host ns", "ratio"
    );
    for size in KMALLOC_SIZES {
        let slub = ns_per(PAIRS, || {
            let p = k.alloc(black_box(size), 8).expect("alloc");
            // SAFETY: allocated just above with this size.
            unsafe { k.free(black_box(p), size, 8) }.expect("free");
        });
        let layout = Layout::from_size_align(size, 8).expect("layout");
        let host = ns_per(PAIRS, || {
            // SAFETY: a non-zero layout, freed at once with the same layout.
            unsafe {
                let p = System.alloc(black_box(layout));
                System.dealloc(black_box(p), layout);
            }
        });
        let name = k.cache_for(size, 8).map_or("?", |c| c.name());
        println!("{name:<13} {slub:>9.2} {host:>9.2} {:>6.2}x", host / slub);
    }
    for order in [0, 9] {
        let buddy = ns_per(PAIRS / 10, || {
            let a = pages.0.alloc(order).expect("block");
            // SAFETY: allocated just above.
            unsafe { pages.0.free(black_box(a), order) }.expect("free");
        });
        println!("buddy order-{order} alloc + free: {buddy:.2} ns");
    }

    println!();
    println!(
        "SLUB memory overhead with {LIVE} live objects per cache (slab bytes / requested bytes)"
    );
    println!(
        "{:<13} {:>6} {:>6} {:>5} {:>9} {:>8} {:>9}",
        "cache", "size", "stride", "order", "objs/slab", "slabs", "overhead"
    );
    for size in KMALLOC_SIZES {
        let live: Vec<_> = (0..LIVE)
            .map(|_| k.alloc(size, 8).expect("alloc"))
            .collect();
        let cache = k.cache_for(size, 8).expect("cache");
        let info = cache.info();
        let slab_bytes = info.num_slabs * (4096 << cache.layout().order);
        let overhead = slab_bytes as f64 / (LIVE * size) as f64 - 1.0;
        println!(
            "{:<13} {:>6} {:>6} {:>5} {:>9} {:>8} {:>8.1}%",
            info.name,
            size,
            info.objsize,
            cache.layout().order,
            info.objperslab,
            info.num_slabs,
            overhead * 100.0
        );
        for p in live {
            // SAFETY: allocated above with this size.
            unsafe { k.free(p, size, 8) }.expect("free");
        }
    }
    k.shrink();
}
