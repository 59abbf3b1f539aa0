//! Physical 4 KiB frame allocator: a bump pointer over the usable RAM ranges
//! plus an intrusive free list of returned frames. Initialisation is O(number
//! of memory-map entries): no bitmap, no sweep over RAM.
//!
//! Usable = RAM regions of the memory map, clipped to the identity map,
//! minus the first MiB, the kernel image and the boot data (start info,
//! command line, memory map, modules).

use spin::Mutex;

use crate::arch::paging;
use crate::memmap::{MemoryMap, Region};

/// Size of a frame.
pub const FRAME_SIZE: u64 = 4096;
/// Most usable ranges tracked after carving out reserved ones.
pub const MAX_RANGES: usize = 32;
/// The first MiB is the VMM's (boot GDT, start info, tables, BIOS area).
pub const LOW_MEMORY: Region = Region {
    start: 0,
    end: 1 << 20,
};

/// Bump-and-free-list state.
struct Allocator {
    ranges: [Region; MAX_RANGES],
    count: usize,
    /// Index of the range the bump pointer is in.
    current: usize,
    /// Next never-allocated frame in `ranges[current]`.
    next: u64,
    /// Most recently freed frame (its first 8 bytes link to the next), or 0.
    free_head: u64,
}

static FRAMES: Mutex<Option<Allocator>> = Mutex::new(None);

/// Computes the usable ranges: `ram` minus `reserved` (which need not be
/// sorted), page-aligned and clipped to the identity map. Returns the count.
pub fn usable_ranges(ram: &[Region], reserved: &[Region], out: &mut [Region]) -> usize {
    // Sort the (few) reserved ranges by start; pages touched count as reserved.
    let mut sorted = [Region::default(); 16];
    let n = reserved.len().min(sorted.len());
    for (i, r) in reserved.iter().take(n).enumerate() {
        let r = r.align_outward(FRAME_SIZE);
        let mut j = i;
        while j > 0 && sorted[j - 1].start > r.start {
            sorted[j] = sorted[j - 1];
            j -= 1;
        }
        sorted[j] = r;
    }
    let mut count = 0;
    let mut floor = 0; // never hand out a byte twice, even if RAM entries overlap
    for region in ram {
        let region = Region {
            start: region.start.max(floor),
            end: region.end.min(paging::IDENTITY_MAP_END),
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

/// Sets up the allocator over `map` minus `reserved`.
pub fn init(map: &MemoryMap, reserved: &[Region]) {
    let mut ranges = [Region::default(); MAX_RANGES];
    let count = usable_ranges(map.ram(), reserved, &mut ranges);
    *FRAMES.lock() = Some(Allocator {
        ranges,
        count,
        current: 0,
        next: ranges[0].start,
        free_head: 0,
    });
}

/// Copies the usable ranges into `out`, returning how many there are.
pub fn ranges(out: &mut [Region]) -> usize {
    let frames = FRAMES.lock();
    let Some(a) = frames.as_ref() else { return 0 };
    let n = a.count.min(out.len());
    out[..n].copy_from_slice(&a.ranges[..n]);
    n
}

impl Allocator {
    /// Takes `frames` contiguous never-used frames from the bump pointer.
    fn bump(&mut self, frames: u64) -> Option<u64> {
        let bytes = frames.checked_mul(FRAME_SIZE)?;
        while self.current < self.count {
            let range = self.ranges[self.current];
            let next = self.next.max(range.start);
            if range.end - next >= bytes {
                self.next = next + bytes;
                return Some(next);
            }
            // Leftover frames of a range too small for a contiguous request are skipped.
            self.current += 1;
            self.next = self.ranges.get(self.current).map_or(0, |r| r.start);
        }
        None
    }
}

/// Allocates one frame (its contents are undefined).
pub fn alloc() -> Option<u64> {
    let mut frames = FRAMES.lock();
    let a = frames.as_mut()?;
    if a.free_head != 0 {
        let frame = a.free_head;
        // SAFETY: `frame` was returned through `free`, which wrote the link in
        // its first 8 bytes; it is identity-mapped and owned by the allocator.
        a.free_head = unsafe { core::ptr::read(frame as *const u64) };
        return Some(frame);
    }
    a.bump(1)
}

/// Allocates `frames` physically contiguous frames from never-used memory.
pub fn alloc_contiguous(frames: u64) -> Option<u64> {
    FRAMES.lock().as_mut()?.bump(frames)
}

/// Returns `frame` to the allocator.
///
/// # Safety
/// `frame` must have come from [`alloc`] and must not be used after this call.
pub unsafe fn free(frame: u64) {
    let mut frames = FRAMES.lock();
    let Some(a) = frames.as_mut() else { return };
    // SAFETY: per the contract the frame is ours, unused and identity-mapped
    // (all usable ranges are below the identity-map end).
    unsafe { core::ptr::write(frame as *mut u64, a.free_head) };
    a.free_head = frame;
}
