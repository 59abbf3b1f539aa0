//! Frames are distinct, 4 KiB-aligned, inside a usable range and RAM, and
//! clear of every region in use at boot and of the allocator's bitmap; an
//! order-10 block is 4 MiB aligned and order 11 is refused; 0 frames is
//! refused.

use alloc::vec::Vec;

use super::{TestResult, ensure, reserved};
use crate::boot;
use crate::frame_alloc::{self, FRAME_SIZE, MAX_RANGES};
use crate::memmap::Region;

const SINGLES: usize = 8;
const RUN: u64 = 3;

/// Linux 6.8's MAX_PAGE_ORDER: an order-10 block (4 MiB, 4 MiB aligned)
/// exists on an idle guest, order 11 is refused, and buddyinfo has 11
/// orders (its text is checked on the host).
fn max_order_block() -> TestResult {
    let block = frame_alloc::alloc_order(10).ok_or("no order-10 block")?;
    ensure!(block % (4 << 20) == 0, "order-10 block at {block:#x}");
    ensure!(frame_alloc::alloc_order(11).is_none(), "order 11 granted");
    // SAFETY: the block came from `alloc_order(10)` and is unused.
    unsafe { frame_alloc::free_order(block, 10) };
    let info = frame_alloc::buddyinfo();
    ensure!(
        info.nr_free.len() == 11 && info.nr_free.iter().any(|&n| n > 0),
        "buddyinfo {:?}",
        info.nr_free
    );
    Ok(())
}

pub fn run() -> TestResult {
    max_order_block()?;
    ensure!(
        frame_alloc::alloc_contiguous(0).is_none(),
        "alloc_contiguous(0) returned a frame"
    );
    let info = boot::info();
    let mut in_use = reserved::regions();
    in_use.push(("frame bitmap", frame_alloc::metadata()));
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
