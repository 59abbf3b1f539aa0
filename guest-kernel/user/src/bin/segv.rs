//! Writes to address 0x10: the kernel must kill this process (SIGSEGV)
//! and only it.

#![no_std]
#![no_main]

use guest_user::{Args, entry, println};

fn main(_: &Args) -> i32 {
    println!("segv: writing to 0x10");
    // SAFETY: deliberately invalid: the write faults and the process dies.
    unsafe { core::ptr::write_volatile(0x10 as *mut u64, 1) };
    println!("segv: still alive");
    0
}

entry!(main);
