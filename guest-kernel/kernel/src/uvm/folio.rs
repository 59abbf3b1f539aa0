//! Folios for user memory: naturally aligned runs of 2^order frames from
//! the kernel's buddy allocator ([`crate::frame_alloc`], guest-mm's).
//!
//! Zeroing a page costs ~512 emulated stores on kvm-pvm, so a folio comes
//! from never-written memory (already zero: the VMM hands RAM over zeroed)
//! while there is some, and only then from recycled memory, which the
//! fault path zeroes ([`Folio::zeroed`] tells which).
//!
//! Single pages go through a small per-CPU cache, as Linux's pcp lists do:
//! clean pages are taken from the buddy allocator [`BATCH_ORDER`] at a time
//! and freed pages wait in the cache up to [`PCP_HIGH`] before they go
//! back, so most 4 KiB faults never reach the buddy allocator.

use spin::Mutex;

use crate::frame_alloc::{self, FRAME_SIZE};

/// Clean single pages are fetched as one block of this order.
pub const BATCH_ORDER: usize = 4;
/// Most freed single pages the cache keeps.
pub const PCP_HIGH: usize = 64;

/// The per-CPU page cache (one CPU runs user programs).
struct Pcp {
    clean: [u64; 1 << BATCH_ORDER],
    clean_len: usize,
    dirty: [u64; PCP_HIGH],
    dirty_len: usize,
}

static PCP: Mutex<Pcp> = Mutex::new(Pcp {
    clean: [0; 1 << BATCH_ORDER],
    clean_len: 0,
    dirty: [0; PCP_HIGH],
    dirty_len: 0,
});

/// A single page: clean from the cache (refilled a batch at a time), else
/// a recycled one from the cache or the buddy allocator.
fn alloc_page() -> Option<Folio> {
    let mut pcp = PCP.lock();
    if pcp.clean_len == 0
        && let Some(block) = frame_alloc::alloc_order_zeroed(BATCH_ORDER)
    {
        for i in 0..1u64 << BATCH_ORDER {
            pcp.clean[i as usize] = block + i * FRAME_SIZE;
        }
        pcp.clean_len = 1 << BATCH_ORDER;
    }
    if pcp.clean_len > 0 {
        pcp.clean_len -= 1;
        let phys = pcp.clean[pcp.clean_len];
        return Some(Folio {
            phys,
            order: 0,
            zeroed: true,
        });
    }
    if let Some(phys) = frame_alloc::alloc_order_zeroed(0) {
        return Some(Folio {
            phys,
            order: 0,
            zeroed: true,
        });
    }
    let phys = if pcp.dirty_len > 0 {
        pcp.dirty_len -= 1;
        pcp.dirty[pcp.dirty_len]
    } else {
        frame_alloc::alloc_order(0)?
    };
    Some(Folio {
        phys,
        order: 0,
        zeroed: false,
    })
}

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
    if order == 0 {
        return alloc_page();
    }
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
    if order == 0 {
        let mut pcp = PCP.lock();
        if pcp.dirty_len < PCP_HIGH {
            let n = pcp.dirty_len;
            pcp.dirty[n] = phys;
            pcp.dirty_len += 1;
            return;
        }
    }
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
