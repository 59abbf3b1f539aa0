//! A read of an unmapped address raises #PF, which the handler recovers:
//! vector 14, CR2 = the address, error code "not present, read, supervisor".
//! A mapped address reads normally through the same probe.

use super::{TestResult, ensure};
use crate::arch::paging::UNMAPPED_ADDR;
use crate::arch::recover;

/// #PF error-code bits: present, write, user, reserved bit, instruction fetch.
const PF_ERR_MASK: u64 = 0b1_1111;

/// Vector of #PF.
const PF_VECTOR: u64 = 14;

pub fn run() -> TestResult {
    let marker: u64 = 0x1234_5678_9abc_def0;
    // SAFETY: `marker` is ordinary memory on our stack.
    let value = unsafe { recover::read_u64(&raw const marker as u64) };
    ensure!(value == Ok(marker), "mapped probe read gave {value:?}");

    // SAFETY: the address is unmapped, so the read has no side effect.
    let fault = match unsafe { recover::read_u64(UNMAPPED_ADDR) } {
        Ok(v) => return Err(alloc::format!("read {UNMAPPED_ADDR:#x} returned {v:#x}")),
        Err(fault) => fault,
    };
    ensure!(
        fault.vector == PF_VECTOR,
        "vector {} instead of {PF_VECTOR}",
        fault.vector
    );
    ensure!(fault.cr2 == UNMAPPED_ADDR, "cr2 {:#x}", fault.cr2);
    ensure!(
        fault.error_code & PF_ERR_MASK == 0,
        "error code {:#x}",
        fault.error_code
    );
    Ok(())
}
