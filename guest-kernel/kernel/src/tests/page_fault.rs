//! A read of an unmapped address raises #PF, which the handler recovers:
//! vector 14, CR2 = the address, error code "not present, read, supervisor".
//! A mapped address reads normally through the same probe. The boot stack's
//! guard page faults the same way, and we are running on that stack.

use super::{TestResult, ensure};
use crate::arch::entry;
use crate::arch::paging::UNMAPPED_ADDR;
use crate::arch::recover;

/// #PF error-code bits: present, write, user, reserved bit, instruction fetch.
const PF_ERR_MASK: u64 = 0b1_1111;

/// Vector of #PF.
const PF_VECTOR: u64 = 14;

/// Reads `addr` through a probe and checks it raises a not-present #PF there.
fn expect_page_fault(addr: u64, what: &str) -> TestResult {
    // SAFETY: the address is unmapped, so the read has no side effect.
    let fault = match unsafe { recover::read_u64(addr) } {
        Ok(v) => return Err(alloc::format!("read {what} {addr:#x} returned {v:#x}")),
        Err(fault) => fault,
    };
    ensure!(
        fault.vector == PF_VECTOR,
        "{what}: vector {} instead of {PF_VECTOR}",
        fault.vector
    );
    ensure!(fault.cr2 == addr, "{what}: cr2 {:#x}", fault.cr2);
    ensure!(
        fault.error_code & PF_ERR_MASK == 0,
        "{what}: error code {:#x}",
        fault.error_code
    );
    Ok(())
}

pub fn run() -> TestResult {
    let marker: u64 = 0x1234_5678_9abc_def0;
    let here = &raw const marker as u64;
    // SAFETY: `marker` is ordinary memory on our stack.
    let value = unsafe { recover::read_u64(here) };
    ensure!(value == Ok(marker), "mapped probe read gave {value:?}");
    let stack = entry::boot_stack();
    ensure!(
        (stack.start..stack.end).contains(&here),
        "stack variable at {here:#x} outside the boot stack {:#x}..{:#x}",
        stack.start,
        stack.end
    );
    expect_page_fault(UNMAPPED_ADDR, "unmapped address")?;
    expect_page_fault(entry::guard_page().start, "stack guard page")?;
    // The page right above the guard is the stack's lowest: mapped.
    // SAFETY: an ordinary (unused) word of our own stack.
    let bottom = unsafe { recover::read_u64(stack.start) };
    ensure!(bottom.is_ok(), "stack bottom read gave {bottom:?}");
    Ok(())
}
