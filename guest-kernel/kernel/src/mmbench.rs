//! `selftest=mmbench`: the cost of the heap's fast path in the guest, in
//! TSC cycles (and ns, the TSC calibrated against 10 timer ticks): per
//! kmalloc size class, N `alloc` + `dealloc` pairs through the global
//! allocator; in the same run, the same pairs on linked_list_allocator
//! (the heap we replaced, on an empty 256 KiB arena: its best case) as the
//! baseline; the first allocation of a fresh cache (a new slab); and an
//! order-0 frame alloc + free on the buddy allocator. One line each.

use alloc::alloc::{alloc, dealloc};
use core::alloc::Layout;

use guest_mm::slub::{KMALLOC_SIZES, KmemCache, SlubConfig};
use linked_list_allocator::Heap;

use crate::exit::ExitCode;
use crate::heap::KernelPages;
use crate::{apic, frame_alloc, println};

/// Pairs per measurement.
const PAIRS: u64 = 200;
/// Timer ticks the TSC is calibrated over (100 ms at 100 Hz).
const CALIBRATION_TICKS: u64 = 10;

fn tsc() -> u64 {
    // SAFETY: `rdtsc` only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// TSC cycles per millisecond, from the 100 Hz timer.
fn tsc_khz() -> u64 {
    let start = apic::ticks();
    while apic::ticks() == start {
        core::hint::spin_loop();
    }
    let (t0, tick0) = (tsc(), apic::ticks());
    while apic::ticks() < tick0 + CALIBRATION_TICKS {
        core::hint::spin_loop();
    }
    (tsc() - t0) / (CALIBRATION_TICKS * 10)
}

/// Average cycles of `op` over [`PAIRS`] runs.
fn cycles(mut op: impl FnMut()) -> u64 {
    op();
    let t0 = tsc();
    for _ in 0..PAIRS {
        op();
    }
    (tsc() - t0) / PAIRS
}

/// Runs the measurements; exits 0, or 1 if memory ran out.
pub fn run() -> ExitCode {
    let khz = tsc_khz().max(1);
    println!("mmbench: tsc {khz} kHz, {PAIRS} pairs each");
    let Some(arena) = frame_alloc::alloc_contiguous(64) else {
        println!("mmbench: no 256 KiB for the baseline heap");
        return ExitCode::Failure;
    };
    let mut baseline = Heap::empty();
    // SAFETY: 64 frames of our own, identity-mapped, used only by this heap.
    unsafe { baseline.init(arena as *mut u8, 64 * 4096) };
    for size in KMALLOC_SIZES {
        let layout = Layout::from_size_align(size, 8).unwrap_or(Layout::new::<u64>());
        let slub = cycles(|| {
            // SAFETY: a non-zero layout, freed at once with the same layout.
            unsafe {
                let p = alloc(layout);
                core::hint::black_box(p);
                dealloc(p, layout);
            }
        });
        let list = cycles(|| {
            if let Ok(p) = baseline.allocate_first_fit(layout) {
                core::hint::black_box(p);
                // SAFETY: allocated just above with `layout`.
                unsafe { baseline.deallocate(p, layout) };
            }
        });
        let fresh = new_slab_cycles(size);
        println!(
            "mmbench: kmalloc-{size} {slub} cycles {} ns, linked-list {list} ({}.{:02}x), new slab {fresh}",
            slub * 1_000_000 / khz,
            list / slub.max(1),
            list * 100 / slub.max(1) % 100,
        );
    }
    let frame = cycles(|| {
        if let Some(f) = frame_alloc::alloc() {
            // SAFETY: the frame came from `alloc` just above.
            unsafe { frame_alloc::free(f) };
        }
    });
    println!(
        "mmbench: buddy order-0 {frame} cycles {} ns",
        frame * 1_000_000 / khz
    );
    // SAFETY: the baseline heap is gone; the frames are unused.
    unsafe { frame_alloc::free_contiguous(arena, 64) };
    ExitCode::Success
}

/// Cycles of the first allocation from a fresh cache of `size` (a new
/// slab: page allocation and freelist set-up), then the cache emptied.
fn new_slab_cycles(size: usize) -> u64 {
    let align = 1 << size.trailing_zeros();
    let Ok(cache) = KmemCache::new(
        "bench",
        size,
        align,
        None,
        &SlubConfig::default(),
        KernelPages,
    ) else {
        return 0;
    };
    let t0 = tsc();
    let obj = cache.alloc();
    let spent = tsc() - t0;
    if let Ok(obj) = obj {
        // SAFETY: allocated just above, unused.
        let _ = unsafe { cache.free(obj) };
    }
    cache.shrink();
    spent
}
