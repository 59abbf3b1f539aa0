//! Dies on purpose; the kernel must kill this process and only it.
//! - `segv`: writes to address 0x10 (SIGSEGV, Linux's segfault line).
//! - `segv oom`: with every THP size `always`, maps 1 GiB and touches it
//!   all: the kernel runs out of memory and kills it (SIGKILL).

#![no_std]
#![no_main]

use guest_user::{Args, THP_SIZES_KB, entry, println, sys, thp_set};

fn main(args: &Args) -> i32 {
    if args.arg(1) == b"oom" {
        thp_set(None, "always");
        for kb in THP_SIZES_KB {
            thp_set(Some(kb), "always");
        }
        let len = 1u64 << 30;
        let base = sys::mmap_anon(0, len, 3, 0);
        println!("segv: touching 1 GiB at {base:#x}");
        let mut at = base as u64;
        while at < base as u64 + len {
            // SAFETY: inside our own read-write mapping.
            unsafe { core::ptr::write_volatile(at as *mut u8, 1) };
            at += 4096;
        }
        println!("segv: touched 1 GiB");
        return 0;
    }
    println!("segv: writing to 0x10");
    // SAFETY: deliberately invalid: the write faults and the process dies.
    unsafe { core::ptr::write_volatile(0x10 as *mut u64, 1) };
    println!("segv: still alive");
    0
}

entry!(main);
