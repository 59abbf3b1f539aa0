//! Physical 4 KiB frame allocator: a bump cursor per usable RAM range plus an
//! intrusive free list of returned frames. Initialisation is O(number of
//! memory-map entries): no bitmap, no sweep over RAM.
//!
//! Usable = RAM regions of the memory map, clipped to the write-back part of
//! the identity map ([`paging::WRITE_BACK_END`]), minus the reserved ranges
//! the caller passes (first MiB, kernel image, boot data: see `boot`).

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

/// Bump cursors over a set of usable ranges, one per range: a contiguous
/// request that does not fit one range is served by a later one and leaves
/// the earlier range's frames for later requests. Never touches the memory.
#[derive(Debug)]
pub struct Bump {
    ranges: [Region; MAX_RANGES],
    /// `next[i]`: first never-allocated frame of `ranges[i]`.
    next: [u64; MAX_RANGES],
    count: usize,
    /// Ranges before this index are used up.
    first: usize,
}

impl Bump {
    /// Cursors over no range at all.
    pub const EMPTY: Self = Self {
        ranges: [Region { start: 0, end: 0 }; MAX_RANGES],
        next: [0; MAX_RANGES],
        count: 0,
        first: 0,
    };

    /// Cursors at the start of each of `ranges` (frame-aligned, at most
    /// [`MAX_RANGES`] of them; panics otherwise).
    pub fn new(ranges: &[Region]) -> Self {
        assert!(ranges.len() <= MAX_RANGES, "more than {MAX_RANGES} ranges");
        let mut bump = Self::EMPTY;
        bump.ranges[..ranges.len()].copy_from_slice(ranges);
        bump.rewind(ranges.len());
        bump
    }

    /// Uses the first `count` entries of `self.ranges`, all frames free.
    fn rewind(&mut self, count: usize) {
        self.count = count;
        self.first = 0;
        for i in 0..count {
            self.next[i] = self.ranges[i].start;
        }
    }

    /// The ranges the cursors run over.
    pub fn ranges(&self) -> &[Region] {
        &self.ranges[..self.count]
    }

    /// Takes `frames` contiguous never-used frames from the first range with
    /// room for them. `None` if no range has, or if `frames` is 0.
    pub fn take(&mut self, frames: u64) -> Option<u64> {
        if frames == 0 {
            return None;
        }
        let bytes = frames.checked_mul(FRAME_SIZE)?;
        let i = (self.first..self.count).find(|&i| self.ranges[i].end - self.next[i] >= bytes)?;
        let addr = self.next[i];
        self.next[i] = addr + bytes;
        while self.first < self.count && self.next[self.first] == self.ranges[self.first].end {
            self.first += 1;
        }
        Some(addr)
    }
}

/// The allocator: bump cursors and the free list.
struct Allocator {
    bump: Bump,
    /// Most recently freed frame (its first 8 bytes link to the next), or 0.
    free_head: u64,
    initialised: bool,
}

static FRAMES: Mutex<Allocator> = Mutex::new(Allocator {
    bump: Bump::EMPTY,
    free_head: 0,
    initialised: false,
});

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
/// handed out again).
pub fn init(map: &MemoryMap, reserved: impl IntoIterator<Item = Region>) {
    let mut frames = FRAMES.lock();
    assert!(!frames.initialised, "frame_alloc::init called twice");
    frames.initialised = true;
    let count = usable_ranges(map.ram(), reserved, &mut frames.bump.ranges);
    frames.bump.rewind(count);
}

/// Copies the usable ranges into `out`, returning how many there are.
pub fn ranges(out: &mut [Region]) -> usize {
    let frames = FRAMES.lock();
    let usable = frames.bump.ranges();
    let n = usable.len().min(out.len());
    out[..n].copy_from_slice(&usable[..n]);
    n
}

/// Allocates one frame (its contents are undefined).
pub fn alloc() -> Option<u64> {
    let mut frames = FRAMES.lock();
    if frames.free_head != 0 {
        let frame = frames.free_head;
        // SAFETY: `frame` was returned through `free`, which wrote the link in
        // its first 8 bytes; it is identity-mapped and owned by the allocator.
        frames.free_head = unsafe { core::ptr::read(frame as *const u64) };
        return Some(frame);
    }
    frames.bump.take(1)
}

/// Allocates `frames` (at least 1) physically contiguous frames from
/// never-used memory; `None` if no usable range has room, or for 0.
pub fn alloc_contiguous(frames: u64) -> Option<u64> {
    FRAMES.lock().bump.take(frames)
}

/// Returns `frame` to the allocator.
///
/// # Safety
/// `frame` must have come from [`alloc`] and must not be used after this call.
pub unsafe fn free(frame: u64) {
    let mut frames = FRAMES.lock();
    // SAFETY: per the contract the frame is ours, unused and identity-mapped
    // (all usable ranges are below the identity-map end).
    unsafe { core::ptr::write(frame as *mut u64, frames.free_head) };
    frames.free_head = frame;
}
