//! A freed frame is the next one handed out; the frame's memory is usable.

use super::{TestResult, ensure};
use crate::frame_alloc;

pub fn run() -> TestResult {
    let a = frame_alloc::alloc().ok_or("out of frames")?;
    let b = frame_alloc::alloc().ok_or("out of frames")?;
    ensure!(a != b, "two allocations returned {a:#x}");
    let p = b as *mut u64;
    // SAFETY: `b` is an identity-mapped frame we own until it is freed.
    let readback = unsafe {
        p.add(511).write_volatile(0xfeed_f00d);
        p.add(511).read_volatile()
    };
    ensure!(
        readback == 0xfeed_f00d,
        "frame {b:#x} readback {readback:#x}"
    );
    // SAFETY: `b` came from `alloc` and is not used after this.
    unsafe { frame_alloc::free(b) };
    let c = frame_alloc::alloc().ok_or("out of frames")?;
    ensure!(c == b, "after freeing {b:#x} got {c:#x}");
    // SAFETY: `a` and `c` came from `alloc` and are not used after this.
    unsafe {
        frame_alloc::free(c);
        frame_alloc::free(a);
    }
    Ok(())
}
