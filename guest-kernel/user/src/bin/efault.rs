//! Hands the kernel bad pointers: every call must fail with -EFAULT (14)
//! and the kernel must carry on. Exits 0 if all did, 1 otherwise.

#![no_std]
#![no_main]

use guest_user::{Args, entry, println, sys};

const EFAULT: i64 = -14;

fn main(_: &Args) -> i32 {
    let cases: [(&str, i64); 5] = [
        ("write from NULL", sys::write_raw(1, 0, 16)),
        (
            "write from unmapped",
            sys::write_raw(1, 0x7000_0000_0000, 16),
        ),
        (
            "write from kernel",
            sys::write_raw(1, 0xffff_ff80_0010_0000, 16),
        ),
        // SAFETY: open only reads the (bad) path pointer.
        ("open NULL path", unsafe {
            sys::syscall6(sys::nr::OPEN, [0; 6])
        }),
        // SAFETY: read into a non-canonical address fails before any write.
        ("read into kernel", unsafe {
            sys::syscall6(sys::nr::READ, [0, 0xffff_8000_0000_0000, 8, 0, 0, 0])
        }),
    ];
    let mut bad = 0;
    for (name, result) in cases {
        let verdict = if result == EFAULT { "ok" } else { "WRONG" };
        if result != EFAULT {
            bad += 1;
        }
        println!("efault: {name}: {result} {verdict}");
    }
    println!("efault: kernel survived, {bad} wrong");
    i32::from(bad != 0)
}

entry!(main);
