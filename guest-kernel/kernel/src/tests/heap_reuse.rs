//! Freed heap memory is handed out again and the used count drops back.

use alloc::vec::Vec;

use super::{TestResult, ensure};
use crate::heap;

pub fn run() -> TestResult {
    let before = heap::used();
    let first = Vec::<u8>::with_capacity(4096);
    let addr = first.as_ptr() as u64;
    ensure!(heap::used() >= before + 4096, "used did not grow");
    drop(first);
    ensure!(
        heap::used() == before,
        "used {} != {} after free",
        heap::used(),
        before
    );
    let second = Vec::<u8>::with_capacity(4096);
    let again = second.as_ptr() as u64;
    ensure!(
        again == addr,
        "reallocation at {again:#x}, freed block was {addr:#x}"
    );
    Ok(())
}
