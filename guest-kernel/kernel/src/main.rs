//! guest-kernel: a small PVH kernel that our VMM boots to check itself.
//!
//! Boot: `arch::entry` (32-bit PVH entry -> long mode) calls [`kmain`], which
//! brings up the console, GDT/IDT, reads the start info, prints the banner,
//! sets up frames, heap and the LAPIC timer, then does what `selftest=` asks
//! (by default: run the in-kernel tests; with an initramfs, run its
//! programs in user mode: [`proc`]) and exits through port 0xf4.

#![no_std]
#![no_main]

extern crate alloc;

pub mod acpi;
pub mod apic;
pub mod arch;
pub mod banner;
pub mod blkbench;
pub mod boot;
pub mod cmdline;
pub mod exit;
pub mod frame_alloc;
pub mod hal;
pub mod heap;
pub mod iaabench;
pub mod memmap;
pub mod mmbench;
pub mod msi;
pub mod panic;
pub mod pci;
pub mod proc;
pub mod pvh;
pub mod qatbench;
pub mod selftest;
pub mod serial;
pub mod sysfs;
pub mod tests;
pub mod uvm;

/// Rust entry point, called by `arch::entry` in long mode on the boot stack
/// with the physical address of `hvm_start_info`.
#[unsafe(no_mangle)]
pub extern "C" fn kmain(start_info_paddr: u32) -> ! {
    serial::init();
    arch::init();
    let info = boot::init(start_info_paddr);
    println!("{}", banner::Banner::of(info));
    boot::init_memory(info);
    apic::init();
    x86_64::instructions::interrupts::enable();
    let mode = selftest::mode(info.cmdline);
    // With an initramfs and no `selftest=`, run its programs (like Linux's /init).
    let user = mode == selftest::Mode::User
        || (cmdline::get(info.cmdline, "selftest").is_none() && proc::has_initramfs(info));
    if user {
        exit::exit_with(proc::run_init(info))
    }
    exit::exit(selftest::run(mode))
}
