//! guest-kernel: a small PVH kernel that our VMM boots to check itself.
//!
//! Boot: `arch::entry` (32-bit PVH entry -> long mode) calls [`kmain`], which
//! brings up the console, GDT/IDT, reads the start info, prints the banner,
//! sets up frames, heap and the LAPIC timer, then does what `selftest=` asks
//! (by default: run the in-kernel tests) and exits through port 0xf4.

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
pub mod msi;
pub mod panic;
pub mod pci;
pub mod pvh;
pub mod qatbench;
pub mod selftest;
pub mod serial;
pub mod tests;

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
    let code = selftest::run(selftest::mode(info.cmdline));
    exit::exit(code)
}
