//! The Linux x86_64 user ABI, as our guest kernel speaks it: numbers
//! ([`nr`], [`errno`], [`mman`], [`auxv`]), the layout of a new process's
//! stack ([`stack`]), static and static-pie ELF executables ([`elf`]) and the
//! cpio "newc" archives an initramfs is made of ([`cpio`]).
//!
//! Values are Linux's (`arch/x86/entry/syscalls/syscall_64.tbl`,
//! `include/uapi/...`); the code is ours. No `unsafe`, no allocation beyond
//! `alloc`, so everything here is tested on the host.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod auxv;
pub mod cpio;
pub mod elf;
pub mod errno;
pub mod mman;
pub mod nr;
pub mod stack;
