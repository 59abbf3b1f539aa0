//! A read of a non-canonical address raises #GP(0), which the handler recovers.

use super::{TestResult, ensure};
use crate::arch::paging::NON_CANONICAL_ADDR;
use crate::arch::recover;

/// Vector of #GP.
const GP_VECTOR: u64 = 13;

pub fn run() -> TestResult {
    // SAFETY: a non-canonical access never reaches memory.
    let fault = match unsafe { recover::read_u64(NON_CANONICAL_ADDR) } {
        Ok(v) => {
            return Err(alloc::format!(
                "read {NON_CANONICAL_ADDR:#x} returned {v:#x}"
            ));
        }
        Err(fault) => fault,
    };
    ensure!(
        fault.vector == GP_VECTOR,
        "vector {} instead of {GP_VECTOR}",
        fault.vector
    );
    ensure!(fault.error_code == 0, "error code {:#x}", fault.error_code);
    Ok(())
}
