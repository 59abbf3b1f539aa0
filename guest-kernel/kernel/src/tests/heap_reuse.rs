//! Freed heap memory is handed out again: a 4 KiB object goes back to the
//! head of kmalloc-4k's CPU freelist, and its cache's active count drops back.

use alloc::vec::Vec;

use super::{TestResult, ensure};
use crate::heap;

pub fn run() -> TestResult {
    let cache = heap::kmalloc()
        .and_then(|k| k.cache_for(4096, 1))
        .ok_or("no kmalloc-4k")?;
    let before = cache.info().active_objs;
    let first = Vec::<u8>::with_capacity(4096);
    let addr = first.as_ptr() as u64;
    let during = cache.info().active_objs;
    ensure!(
        during == before + 1,
        "kmalloc-4k active {during}, was {before}"
    );
    drop(first);
    let after = cache.info().active_objs;
    ensure!(
        after == before,
        "kmalloc-4k active {after} != {before} after free"
    );
    let second = Vec::<u8>::with_capacity(4096);
    let again = second.as_ptr() as u64;
    ensure!(
        again == addr,
        "reallocation at {again:#x}, freed block was {addr:#x}"
    );
    Ok(())
}
