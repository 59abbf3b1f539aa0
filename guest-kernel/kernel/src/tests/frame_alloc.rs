//! Frames are distinct, 4 KiB-aligned, inside RAM and outside every reserved range.

use super::{TestResult, ensure};
use crate::boot;
use crate::frame_alloc::{self, FRAME_SIZE};
use crate::memmap::Region;

const COUNT: usize = 8;

pub fn run() -> TestResult {
    let info = boot::info();
    let (reserved, n) = boot::reserved_regions(info);
    let mut frames = [0u64; COUNT];
    for slot in frames.iter_mut() {
        *slot = frame_alloc::alloc().ok_or("out of frames")?;
    }
    for (i, &f) in frames.iter().enumerate() {
        let frame = Region::new(f, FRAME_SIZE);
        ensure!(f % FRAME_SIZE == 0, "frame {f:#x} not 4 KiB-aligned");
        ensure!(
            info.memory.contains(&frame),
            "frame {f:#x} not inside a RAM region"
        );
        if let Some(r) = reserved[..n].iter().find(|r| r.overlaps(&frame)) {
            return Err(alloc::format!(
                "frame {f:#x} overlaps reserved {:#x}..{:#x}",
                r.start,
                r.end
            ));
        }
        ensure!(!frames[..i].contains(&f), "frame {f:#x} handed out twice");
    }
    for &f in &frames {
        // SAFETY: each frame came from `alloc` above and is no longer used.
        unsafe { frame_alloc::free(f) };
    }
    Ok(())
}
