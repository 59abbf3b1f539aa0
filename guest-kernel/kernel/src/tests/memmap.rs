//! The memory map has RAM, sorted and non-overlapping, and the usable frame
//! ranges lie inside it, above 1 MiB and clear of the kernel image.

use super::{TestResult, ensure};
use crate::boot;
use crate::frame_alloc::{self, FRAME_SIZE, LOW_MEMORY, MAX_RANGES};
use crate::memmap::Region;

pub fn run() -> TestResult {
    let info = boot::info();
    let ram = info.memory.ram();
    ensure!(info.memory.ram_bytes() > 0, "no RAM in the memory map");
    ensure!(!ram.is_empty(), "no RAM regions kept");
    for pair in ram.windows(2) {
        ensure!(
            pair[0].end <= pair[1].start,
            "RAM {:#x}..{:#x} overlaps or is out of order with {:#x}..",
            pair[0].start,
            pair[0].end,
            pair[1].start
        );
    }
    ensure!(
        ram.iter().any(|r| r.contains(&boot::kernel_image())),
        "kernel image not inside RAM"
    );

    let mut usable = [Region::default(); MAX_RANGES];
    let n = frame_alloc::ranges(&mut usable);
    ensure!(n > 0, "no usable frame ranges");
    let kernel = boot::kernel_image();
    for (i, r) in usable[..n].iter().enumerate() {
        ensure!(
            r.start % FRAME_SIZE == 0 && r.end % FRAME_SIZE == 0,
            "range {:#x} unaligned",
            r.start
        );
        ensure!(!r.overlaps(&LOW_MEMORY), "range {:#x} below 1 MiB", r.start);
        ensure!(
            !r.overlaps(&kernel),
            "range {:#x} overlaps the kernel",
            r.start
        );
        ensure!(info.memory.contains(r), "range {:#x} outside RAM", r.start);
        ensure!(
            i == 0 || usable[i - 1].end <= r.start,
            "ranges unsorted at {:#x}",
            r.start
        );
    }
    Ok(())
}
