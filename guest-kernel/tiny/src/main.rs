//! tiny-guest: the smallest useful PVH guest, for measuring VMM start-up.
//!
//! Entered in 32-bit protected mode (paging off), it writes
//! `tiny-guest: hello\n` to COM1 (0x3f8) one `out` per byte, without polling
//! the line status, writes 0 to the debug-exit port 0xf4 and halts.
//! 64 instructions up to the `hlt` (5 of set-up, 3 per byte for the 18 bytes,
//! 3 for the exit, then `cli; hlt`); no Rust code runs.

#![no_std]
#![no_main]

use core::arch::global_asm;

global_asm!(
    r#"
    /* XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit physical entry address, as
       an 8-byte desc like Linux's (QEMU reads 8 bytes, linux-loader 4). */
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                 /* namesz */
    .long 8                 /* descsz */
    .long 18                /* type */
    .asciz "Xen"
    .quad tiny_start
    .popsection

    .pushsection .text.boot, "ax"
    .code32
    .globl tiny_start
tiny_start:
    cli
    cld
    movl $tiny_msg, %esi
    movl $(tiny_msg_end - tiny_msg), %ecx
    movw $0x3f8, %dx
1:
    lodsb
    outb %al, %dx
    loop 1b
    movw $0xf4, %dx
    xorl %eax, %eax
    outl %eax, %dx
2:
    cli
    hlt
    jmp 2b
tiny_msg:
    .ascii "tiny-guest: hello\n"
tiny_msg_end:
    .code64
    .popsection
    "#,
    options(att_syntax)
);

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
