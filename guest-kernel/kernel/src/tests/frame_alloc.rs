//! Frames are distinct, 4 KiB-aligned, inside a usable range and RAM, and
//! clear of every region in use at boot and of the heap; a contiguous run
//! too large for one range does not lose that range's frames; 0 frames is
//! refused.

use alloc::vec::Vec;

use super::{TestResult, ensure, reserved};
use crate::boot;
use crate::frame_alloc::{self, Bump, FRAME_SIZE, MAX_RANGES};
use crate::heap;
use crate::memmap::Region;

const SINGLES: usize = 8;
const RUN: u64 = 3;

/// Bump cursors on two synthetic ranges (no memory is touched).
fn bump_keeps_skipped_range() -> TestResult {
    let small = Region::new(0x1000, 2 * FRAME_SIZE);
    let big = Region::new(0x10_0000, 16 * FRAME_SIZE);
    let mut bump = Bump::new(&[small, big]);
    ensure!(bump.take(0).is_none(), "bump: 0 frames were granted");
    let run = bump.take(4);
    ensure!(run == Some(big.start), "bump: 4 frames at {run:x?}");
    let a = bump.take(1);
    let b = bump.take(1);
    ensure!(
        a == Some(small.start) && b == Some(small.start + FRAME_SIZE),
        "bump: after the run, singles at {a:x?} {b:x?}, not from the small range"
    );
    let c = bump.take(1);
    ensure!(c == Some(big.start + 4 * FRAME_SIZE), "bump: then {c:x?}");
    ensure!(bump.take(12).is_none(), "bump: 12 frames fit in 11");
    let d = bump.take(11);
    ensure!(
        d == Some(big.start + 5 * FRAME_SIZE),
        "bump: 11 frames at {d:x?}"
    );
    ensure!(bump.take(1).is_none(), "bump: a frame beyond the ranges");
    Ok(())
}

pub fn run() -> TestResult {
    bump_keeps_skipped_range()?;
    ensure!(
        frame_alloc::alloc_contiguous(0).is_none(),
        "alloc_contiguous(0) returned a frame"
    );
    let info = boot::info();
    let mut in_use = reserved::regions();
    let (heap_bottom, heap_top) = heap::bounds();
    in_use.push((
        "heap",
        Region {
            start: heap_bottom,
            end: heap_top,
        },
    ));
    let mut usable = [Region::default(); MAX_RANGES];
    let n = frame_alloc::ranges(&mut usable);

    let mut frames: Vec<Region> = Vec::with_capacity(SINGLES + 1);
    for _ in 0..SINGLES {
        let f = frame_alloc::alloc().ok_or("out of frames")?;
        frames.push(Region::new(f, FRAME_SIZE));
    }
    let run = frame_alloc::alloc_contiguous(RUN).ok_or("no contiguous frames")?;
    frames.push(Region::new(run, RUN * FRAME_SIZE));

    for (i, f) in frames.iter().enumerate() {
        ensure!(f.start % FRAME_SIZE == 0, "frame {:#x} unaligned", f.start);
        ensure!(
            usable[..n].iter().any(|r| r.contains(f)),
            "frames {:#x}..{:#x} not inside one usable range",
            f.start,
            f.end
        );
        ensure!(
            info.memory.contains(f),
            "frames {:#x}..{:#x} not inside RAM",
            f.start,
            f.end
        );
        reserved::check_clear("frames", *f, &in_use)?;
        ensure!(
            !frames[..i].iter().any(|g| g.overlaps(f)),
            "frame {:#x} handed out twice",
            f.start
        );
    }
    for f in &frames[..SINGLES] {
        // SAFETY: each frame came from `alloc` above and is no longer used.
        unsafe { frame_alloc::free(f.start) };
    }
    Ok(())
}
