//! Folios for user memory: naturally aligned runs of 2^order frames from
//! the kernel's buddy allocator ([`crate::frame_alloc`], guest-mm's).
//!
//! Zeroing a page costs ~512 emulated stores on kvm-pvm, so a folio comes
//! from never-written memory (already zero: the VMM hands RAM over zeroed)
//! while there is some, and only then from recycled memory, which the
//! fault path zeroes ([`Folio::zeroed`] tells which).

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

/// Bytes in a folio of `order`.
pub const fn bytes(order: usize) -> u64 {
    FRAME_SIZE << order
}

/// A folio of `order` (its contents may be anything: see `zeroed`).
pub fn alloc(order: usize) -> Option<Folio> {
    assert!(order <= MAX_ORDER, "folio order {order} too large");
    if let Some(phys) = frame_alloc::alloc_order_zeroed(order) {
        return Some(Folio {
            phys,
            order,
            zeroed: true,
        });
    }
    frame_alloc::alloc_order(order).map(|phys| Folio {
        phys,
        order,
        zeroed: false,
    })
}

/// Returns a folio taken with [`alloc`] (or a frame from
/// [`alloc_zeroed_frame`] with order 0).
pub fn free(phys: u64, order: usize) {
    // SAFETY: callers return only folios they took from `alloc` with this
    // order and no longer map.
    unsafe { frame_alloc::free_order(phys, order) }
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
