//! `div` by zero raises #DE (a vector without error code), recovered; a
//! normal division through the same probe gives the right quotient.

use super::{TestResult, ensure};
use crate::arch::recover;

/// Vector of #DE.
const DE_VECTOR: u64 = 0;

pub fn run() -> TestResult {
    let q = recover::divide(1_000_000_007, 1000);
    ensure!(q == Ok(1_000_000), "1000000007 / 1000 gave {q:?}");
    let fault = match recover::divide(42, core::hint::black_box(0)) {
        Ok(v) => return Err(alloc::format!("42 / 0 returned {v}")),
        Err(fault) => fault,
    };
    ensure!(
        fault.vector == DE_VECTOR,
        "vector {} instead of {DE_VECTOR}",
        fault.vector
    );
    ensure!(fault.error_code == 0, "error code {:#x}", fault.error_code);
    Ok(())
}
