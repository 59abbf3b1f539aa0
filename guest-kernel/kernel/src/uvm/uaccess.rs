//! Copies between kernel buffers and a user address space. Every user
//! address goes through the page table (in software): a page that is not
//! there yet is faulted in as the user's own access would be, and an
//! address with no area or the wrong permissions gives `EFAULT` — the
//! kernel itself never faults on a user pointer.

use alloc::vec::Vec;

use guest_abi::errno::{EFAULT, ENAMETOOLONG};

use super::pt::{ADDR, P, RW, US, USER_END};
use super::{AddressSpace, pf};

/// The physical address behind user address `va` for a read (or a write),
/// faulting the page in if needed.
fn translate(space: &mut AddressSpace, va: u64, write: bool) -> Result<u64, i64> {
    if va >= USER_END {
        return Err(EFAULT);
    }
    for _ in 0..2 {
        let e = space.pte(va);
        if e & (P | US) == P | US && (!write || e & RW != 0) {
            return Ok((e & ADDR) + (va & 0xfff));
        }
        let err =
            pf::USER | if e & P != 0 { pf::PRESENT } else { 0 } | if write { pf::WRITE } else { 0 };
        space.fault(va, err).map_err(|_| EFAULT)?;
    }
    Err(EFAULT)
}

/// Calls `f(phys, offset, len)` for each page-sized piece of `[va, va+len)`.
fn each_piece(
    space: &mut AddressSpace,
    va: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(u64, usize, usize),
) -> Result<(), i64> {
    va.checked_add(len as u64)
        .filter(|&e| e <= USER_END)
        .ok_or(EFAULT)?;
    let mut done = 0;
    while done < len {
        let at = va + done as u64;
        let piece = ((4096 - (at & 0xfff)) as usize).min(len - done);
        let phys = translate(space, at, write)?;
        f(phys, done, piece);
        done += piece;
    }
    Ok(())
}

/// Copies `dst.len()` bytes from user address `src`; `Err(EFAULT)` if any
/// byte is not readable.
pub fn copy_from_user(space: &mut AddressSpace, dst: &mut [u8], src: u64) -> Result<(), i64> {
    each_piece(space, src, dst.len(), false, |phys, at, n| {
        // SAFETY: `phys..phys + n` lies in one user frame, identity-mapped.
        let from = unsafe { core::slice::from_raw_parts(phys as *const u8, n) };
        dst[at..at + n].copy_from_slice(from);
    })
}

/// Copies `src` to user address `dst`; `Err(EFAULT)` if any byte is not
/// writable.
pub fn copy_to_user(space: &mut AddressSpace, dst: u64, src: &[u8]) -> Result<(), i64> {
    each_piece(space, dst, src.len(), true, |phys, at, n| {
        // SAFETY: `phys..phys + n` lies in one user frame we may write,
        // identity-mapped; `src` is a kernel buffer (no overlap).
        unsafe { core::ptr::copy_nonoverlapping(src[at..].as_ptr(), phys as *mut u8, n) };
    })
}

/// Reads a little-endian u64 from user memory.
pub fn read_u64(space: &mut AddressSpace, va: u64) -> Result<u64, i64> {
    let mut b = [0; 8];
    copy_from_user(space, &mut b, va)?;
    Ok(u64::from_le_bytes(b))
}

/// Reads a NUL-terminated string of at most `max` bytes (NUL excluded):
/// `EFAULT` on a bad pointer, `ENAMETOOLONG` without a NUL in time.
pub fn strncpy_from_user(space: &mut AddressSpace, va: u64, max: usize) -> Result<Vec<u8>, i64> {
    let mut out = Vec::new();
    let mut at = va;
    loop {
        let phys = translate(space, at, false)?;
        let n = (4096 - (at & 0xfff)) as usize;
        // SAFETY: `phys..phys + n` lies in one user frame, identity-mapped.
        let page = unsafe { core::slice::from_raw_parts(phys as *const u8, n) };
        match page.iter().position(|&b| b == 0) {
            Some(end) if out.len() + end <= max => {
                out.extend_from_slice(&page[..end]);
                return Ok(out);
            }
            _ if out.len() + n > max => return Err(ENAMETOOLONG),
            _ => out.extend_from_slice(page),
        }
        at += n as u64;
    }
}
