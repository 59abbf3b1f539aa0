//! Box, Vec and String on the kernel heap (SLUB): contents survive growth;
//! objects come from usable RAM; kmalloc picks Linux's size classes.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{TestResult, ensure};
use crate::frame_alloc::{self, MAX_RANGES};
use crate::heap;
use crate::memmap::Region;

pub fn run() -> TestResult {
    let mut usable = [Region::default(); MAX_RANGES];
    let n = frame_alloc::ranges(&mut usable);
    let boxed = Box::new(0x5eed_u64);
    let addr = &raw const *boxed as u64;
    ensure!(*boxed == 0x5eed, "box holds {:#x}", *boxed);
    ensure!(
        usable[..n]
            .iter()
            .any(|r| r.contains(&Region::new(addr, 8))),
        "box at {addr:#x} outside usable RAM"
    );
    let kmalloc = heap::kmalloc().ok_or("no kmalloc caches")?;
    let name = |size| kmalloc.cache_for(size, 1).map(|c| c.name());
    ensure!(
        name(100) == Some("kmalloc-128") && name(65) == Some("kmalloc-96"),
        "kmalloc(100) from {:?}, kmalloc(65) from {:?}",
        name(100),
        name(65)
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
    Ok(())
}
