//! Physical 4 KiB frames: guest-mm's buddy allocator (Linux 6.8's
//! `MAX_PAGE_ORDER` = 10: blocks of 1 to 1024 frames, naturally aligned)
//! over the usable RAM. Set-up costs one bitmap clear (a bit per frame of
//! the span, carved from the RAM itself) and one header per initial block:
//! no sweep over RAM.
//!
//! Usable = RAM regions of the memory map, clipped to the write-back part of
//! the identity map ([`paging::WRITE_BACK_END`]), minus the reserved ranges
//! the caller passes (first MiB, kernel image, boot data: see `boot`).
//!
//! RAM comes from the VMM zeroed, and the allocator keeps never-written
//! blocks apart: [`alloc_contiguous`] and [`alloc_order_zeroed`] hand out
//! only those (all zero, nothing to clear), [`alloc`] and [`alloc_order`]
//! prefer recycled ones.

use core::ops::Range;

use guest_mm::buddy::{BuddyInfo, LockedBuddy};
use spin::Mutex;

use crate::arch::paging;
use crate::memmap::{MemoryMap, Region};

/// Size of a frame.
pub const FRAME_SIZE: u64 = 4096;
/// Most usable ranges tracked after carving out reserved ones (RAM beyond
/// that is left unused, never handed out twice).
pub const MAX_RANGES: usize = 32;
/// Most reserved ranges [`init`] and [`usable_ranges`] accept (more panic).
pub const MAX_RESERVED: usize = 22;
/// The first MiB is the VMM's (boot GDT, start info, tables, BIOS area).
pub const LOW_MEMORY: Region = Region {
    start: 0,
    end: 1 << 20,
};

/// The buddy allocator.
static FRAMES: LockedBuddy = LockedBuddy::new();

/// The usable ranges handed to it (for [`ranges`] and the self-tests).
static RANGES: Mutex<([Region; MAX_RANGES], usize)> =
    Mutex::new(([Region { start: 0, end: 0 }; MAX_RANGES], 0));

/// Computes the usable ranges: `ram` (sorted by start) minus `reserved`
/// (any order, at most [`MAX_RESERVED`], else panics), frame-aligned and
/// clipped to [`paging::WRITE_BACK_END`]. Writes at most `out.len()` of them
/// (RAM past that stays unused) and returns the count.
pub fn usable_ranges(
    ram: impl IntoIterator<Item = Region>,
    reserved: impl IntoIterator<Item = Region>,
    out: &mut [Region],
) -> usize {
    // Sort the (few) reserved ranges by start; pages touched count as reserved.
    let mut sorted = [Region::default(); MAX_RESERVED];
    let mut n = 0;
    for r in reserved {
        assert!(
            n < MAX_RESERVED,
            "more than {MAX_RESERVED} reserved memory ranges"
        );
        let r = r.align_outward(FRAME_SIZE);
        let mut j = n;
        while j > 0 && sorted[j - 1].start > r.start {
            sorted[j] = sorted[j - 1];
            j -= 1;
        }
        sorted[j] = r;
        n += 1;
    }
    let mut count = 0;
    let mut floor = 0; // never hand out a byte twice, even if RAM entries overlap
    for region in ram {
        let region = Region {
            start: region.start.max(floor),
            end: region.end.min(paging::WRITE_BACK_END),
        }
        .align_inward(FRAME_SIZE);
        if region.is_empty() {
            continue;
        }
        floor = region.end;
        let mut cursor = region.start;
        for r in sorted[..n].iter().filter(|r| r.overlaps(&region)) {
            if r.start > cursor && count < out.len() {
                out[count] = Region {
                    start: cursor,
                    end: r.start,
                };
                count += 1;
            }
            cursor = cursor.max(r.end);
        }
        if cursor < region.end && count < out.len() {
            out[count] = Region {
                start: cursor,
                end: region.end,
            };
            count += 1;
        }
    }
    count
}

/// Sets up the allocator over `map` minus `reserved` (as [`usable_ranges`]
/// takes them). Panics if called twice (frames already handed out would be
/// handed out again) or if no range can hold the allocator's bitmap.
pub fn init(map: &MemoryMap, reserved: impl IntoIterator<Item = Region>) {
    let mut usable = RANGES.lock();
    assert!(usable.1 == 0, "frame_alloc::init called twice");
    let count = usable_ranges(map.ram(), reserved, &mut usable.0);
    usable.1 = count;
    let mut ranges: [Range<usize>; MAX_RANGES] = [const { 0..0 }; MAX_RANGES];
    for (out, r) in ranges.iter_mut().zip(&usable.0[..count]) {
        *out = r.start as usize..r.end as usize;
    }
    // SAFETY: the usable ranges are RAM below the write-back end of the
    // identity map, clear of everything in use at boot, and disjoint; the
    // VMM hands RAM over zeroed and nothing has written them. This runs
    // once (the assert above), so they are handed over only once.
    if let Err(e) = unsafe { FRAMES.init(&ranges[..count], true) } {
        panic!("frame allocator: {e:?}");
    }
}

/// Copies the usable ranges into `out`, returning how many there are.
pub fn ranges(out: &mut [Region]) -> usize {
    let usable = RANGES.lock();
    let n = usable.1.min(out.len());
    out[..n].copy_from_slice(&usable.0[..n]);
    n
}

/// Allocates one frame (its contents are undefined).
pub fn alloc() -> Option<u64> {
    alloc_order(0)
}

/// Allocates 2^`order` frames aligned to their size (contents undefined).
pub fn alloc_order(order: usize) -> Option<u64> {
    FRAMES.alloc(order).ok().map(|a| a as u64)
}

/// Allocates 2^`order` frames aligned to their size, all zero (memory
/// never written since boot).
pub fn alloc_order_zeroed(order: usize) -> Option<u64> {
    FRAMES.alloc_zeroed(order).ok().map(|a| a as u64)
}

/// Allocates `frames` (1 to 1024) physically contiguous frames of
/// never-used memory (all zero), aligned to the smallest power-of-two run
/// that holds them; `None` if there is no such run, or for 0.
pub fn alloc_contiguous(frames: u64) -> Option<u64> {
    if frames == 0 {
        return None;
    }
    let frames = usize::try_from(frames).ok()?;
    FRAMES.alloc_exact(frames, true).ok().map(|a| a as u64)
}

/// Returns `frame` to the allocator. Panics on a double free or a frame
/// the allocator never had.
///
/// # Safety
/// `frame` must have come from [`alloc`] (or be one frame of a block or run
/// from this module) and must not be used after this call.
pub unsafe fn free(frame: u64) {
    // SAFETY: forwarded contract.
    unsafe { free_order(frame, 0) }
}

/// Returns a block of 2^`order` frames. Panics on a double free or a block
/// the allocator never had.
///
/// # Safety
/// The block must have come from [`alloc_order`]/[`alloc_order_zeroed`]
/// with this order (or be a naturally aligned part of an allocation) and
/// must not be used after this call.
pub unsafe fn free_order(addr: u64, order: usize) {
    // SAFETY: forwarded contract.
    if let Err(e) = unsafe { FRAMES.free(addr as usize, order) } {
        panic!("frame_alloc: {e}");
    }
}

/// Returns `frames` frames from [`alloc_contiguous`].
///
/// # Safety
/// The run must have come from the allocator and must not be used after.
pub unsafe fn free_contiguous(addr: u64, frames: u64) {
    // SAFETY: forwarded contract.
    if let Err(e) = unsafe { FRAMES.free_exact(addr as usize, frames as usize) } {
        panic!("frame_alloc: {e}");
    }
}

/// Free frames.
pub fn free_frames() -> usize {
    FRAMES.free_pages()
}

/// The `/proc/buddyinfo` line (all RAM we manage is below 4 GiB: DMA32).
pub fn buddyinfo() -> BuddyInfo {
    FRAMES.info("DMA32")
}

/// The frames the allocator's bitmap took (empty before [`init`]).
pub fn metadata() -> Region {
    FRAMES
        .with(|b| b.metadata())
        .map_or(Region::default(), |m| Region {
            start: m.start as u64,
            end: m.end as u64,
        })
}
