//! Box, Vec and String on the kernel heap: contents survive growth.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{TestResult, ensure};
use crate::heap;

pub fn run() -> TestResult {
    let (bottom, top) = heap::bounds();
    let boxed = Box::new(0x5eed_u64);
    let addr = &raw const *boxed as u64;
    ensure!(*boxed == 0x5eed, "box holds {:#x}", *boxed);
    ensure!(
        (bottom..top).contains(&addr),
        "box at {addr:#x} outside heap"
    );

    let mut v: Vec<u32> = Vec::new();
    for i in 0..1000 {
        v.push(i * 3);
    }
    ensure!(v.capacity() >= 1000, "capacity {}", v.capacity());
    let sum: u32 = v.iter().sum();
    ensure!(sum == 3 * 999 * 1000 / 2, "vec sum {sum} after growth");

    let mut s = String::new();
    for i in 0..50 {
        let _ = write!(s, "{i},");
    }
    ensure!(s.len() == 140, "string length {}", s.len());
    ensure!(
        s.starts_with("0,1,2,") && s.ends_with("48,49,"),
        "string contents"
    );
    ensure!(
        heap::used() >= 4000 + 140,
        "heap used {} too small",
        heap::used()
    );
    Ok(())
}
