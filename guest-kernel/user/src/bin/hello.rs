//! Prints a greeting with its PID and arguments, exits with status 0
//! (or the number given as its first argument).

#![no_std]
#![no_main]

use guest_user::{Args, entry, println, sys};

fn main(args: &Args) -> i32 {
    println!(
        "hello from ring 3: pid {}, argc {}",
        sys::getpid(),
        args.argc
    );
    core::str::from_utf8(args.arg(1))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

entry!(main);
