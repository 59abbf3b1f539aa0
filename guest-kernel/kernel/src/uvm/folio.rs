//! Folios for user memory: naturally aligned runs of 2^order frames.
//!
//! The interface ([`alloc`], [`free`], [`alloc_zeroed_frame`]) is all the
//! rest of `uvm` sees. Behind it for now: per-order lists of freed folios
//! (dirty) over the frame allocator's never-used memory (still zero, as
//! the VMM hands RAM over): zeroing a page costs ~512 emulated stores on
//! kvm-pvm, so memory that is known to be zero is not zeroed again.
//! Larger free folios are split when a smaller order runs out.

use alloc::vec::Vec;

use spin::Mutex;

use crate::frame_alloc::{self, FRAME_SIZE};

/// Largest folio order (2 MiB).
pub const MAX_ORDER: usize = 9;

/// A folio handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folio {
    /// Physical address of the first frame (aligned to the folio size).
    pub phys: u64,
    /// log2 of the number of frames.
    pub order: usize,
    /// Whether its contents are known to be zero.
    pub zeroed: bool,
}

struct Lists {
    /// Freed folios per order (contents unknown).
    free: [Vec<u64>; MAX_ORDER + 1],
}

static LISTS: Mutex<Lists> = Mutex::new(Lists {
    free: [const { Vec::new() }; MAX_ORDER + 1],
});

/// Bytes in a folio of `order`.
pub const fn bytes(order: usize) -> u64 {
    FRAME_SIZE << order
}

/// Never-used frames, aligned for `order`; the frames skipped to align
/// go to the order-0 list.
fn fresh(order: usize, lists: &mut Lists) -> Option<u64> {
    let frames = 1u64 << order;
    if order == 0 {
        return frame_alloc::alloc_contiguous(1);
    }
    let base = frame_alloc::alloc_contiguous(2 * frames - 1)?;
    let aligned = base.next_multiple_of(bytes(order));
    let end = base + (2 * frames - 1) * FRAME_SIZE;
    let mut spare = base;
    while spare < end {
        if spare == aligned {
            spare += bytes(order);
            continue;
        }
        lists.free[0].push(spare);
        spare += FRAME_SIZE;
    }
    Some(aligned)
}

/// A folio of `order` (its contents may be anything: see `zeroed`).
pub fn alloc(order: usize) -> Option<Folio> {
    assert!(order <= MAX_ORDER, "folio order {order} too large");
    let mut lists = LISTS.lock();
    if let Some(phys) = lists.free[order].pop() {
        return Some(Folio {
            phys,
            order,
            zeroed: false,
        });
    }
    if let Some(phys) = fresh(order, &mut lists) {
        return Some(Folio {
            phys,
            order,
            zeroed: true,
        });
    }
    // Split a larger free folio.
    let from = (order + 1..=MAX_ORDER).find(|&o| !lists.free[o].is_empty())?;
    let phys = lists.free[from].pop()?;
    for o in (order..from).rev() {
        lists.free[o].push(phys + bytes(o));
    }
    Some(Folio {
        phys,
        order,
        zeroed: false,
    })
}

/// Returns a folio taken with [`alloc`] (or a frame from
/// [`alloc_zeroed_frame`] with order 0).
pub fn free(phys: u64, order: usize) {
    LISTS.lock().free[order].push(phys);
}

/// Zeroes `frames` frames at `phys` (identity-mapped, ours).
pub fn zero(phys: u64, frames: u64) {
    let qwords = frames * FRAME_SIZE / 8;
    // SAFETY: the caller owns the frames; `rep stosq` writes exactly
    // `qwords` quadwords from `phys` upwards (DF is clear in the kernel).
    unsafe {
        core::arch::asm!(
            "rep stosq",
            inout("rcx") qwords => _,
            inout("rdi") phys => _,
            in("rax") 0u64,
            options(nostack),
        );
    }
}

/// One zeroed frame (for page tables).
pub fn alloc_zeroed_frame() -> Option<u64> {
    let folio = alloc(0)?;
    if !folio.zeroed {
        zero(folio.phys, 1);
    }
    Some(folio.phys)
}

/// Frames in the free lists, per order (for diagnostics).
pub fn free_counts() -> [usize; MAX_ORDER + 1] {
    let lists = LISTS.lock();
    core::array::from_fn(|o| lists.free[o].len())
}
