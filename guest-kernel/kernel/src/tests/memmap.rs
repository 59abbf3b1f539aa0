//! The memory map has RAM, sorted and non-overlapping, and the usable frame
//! ranges lie inside it, frame-aligned, sorted, below the write-back end of
//! the identity map and clear of every region in use at boot.

use super::{TestResult, ensure, reserved};
use crate::arch::paging::{IDENTITY_MAP_END, WRITE_BACK_END};
use crate::boot;
use crate::frame_alloc::{self, FRAME_SIZE, MAX_RANGES};
use crate::memmap::Region;

pub fn run() -> TestResult {
    let info = boot::info();
    let ram = info.memory.ram();
    ensure!(info.memory.ram_bytes() > 0, "no RAM in the memory map");
    ensure!(ram.clone().next().is_some(), "no RAM regions kept");
    for (a, b) in ram.clone().zip(ram.skip(1)) {
        ensure!(
            a.end <= b.start,
            "RAM {:#x}..{:#x} overlaps or is out of order with {:#x}..",
            a.start,
            a.end,
            b.start
        );
    }
    ensure!(
        info.memory.contains(&boot::kernel_image()),
        "kernel image not inside RAM"
    );

    let in_use = reserved::regions();
    let mut usable = [Region::default(); MAX_RANGES];
    let n = frame_alloc::ranges(&mut usable);
    ensure!(n > 0, "no usable frame ranges");
    for (i, r) in usable[..n].iter().enumerate() {
        ensure!(
            r.start % FRAME_SIZE == 0 && r.end % FRAME_SIZE == 0,
            "range {:#x}..{:#x} unaligned",
            r.start,
            r.end
        );
        ensure!(!r.is_empty(), "empty range at {:#x}", r.start);
        ensure!(
            r.end <= WRITE_BACK_END && WRITE_BACK_END <= IDENTITY_MAP_END,
            "range {:#x}..{:#x} reaches past {WRITE_BACK_END:#x} (uncached or unmapped)",
            r.start,
            r.end
        );
        ensure!(
            info.memory.contains(r),
            "range {:#x}..{:#x} outside RAM",
            r.start,
            r.end
        );
        ensure!(
            i == 0 || usable[i - 1].end <= r.start,
            "ranges unsorted or overlapping at {:#x}",
            r.start
        );
        reserved::check_clear("usable range", *r, &in_use)?;
    }
    Ok(())
}
