//! Every exception vector and the timer vector have a present gate.

use super::{TestResult, ensure};
use crate::arch::{idt, trap};

pub fn run() -> TestResult {
    for (index, &vector) in trap::STUB_VECTORS.iter().enumerate() {
        let installed = idt::handler_address(vector);
        let expected = trap::stub_address(index);
        ensure!(
            installed == Some(expected),
            "vector {vector}: gate {installed:?}, stub {expected:#x}"
        );
    }
    ensure!(
        idt::handler_address(0x80).is_none(),
        "vector 0x80 unexpectedly present"
    );
    Ok(())
}
