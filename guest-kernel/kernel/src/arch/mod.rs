//! x86_64 specifics: PVH entry, paging, GDT/TSS, IDT, traps and fault recovery.

pub mod entry;
pub mod exception;
pub mod gdt;
pub mod idt;
pub mod paging;
pub mod recover;
pub mod trap;
pub mod user;

/// Loads the kernel GDT/TSS and the IDT. Interrupts stay disabled.
pub fn init() {
    gdt::init();
    idt::init();
}

/// Disables interrupts and halts forever.
pub fn halt_forever() -> ! {
    loop {
        x86_64::instructions::interrupts::disable();
        x86_64::instructions::hlt();
    }
}
