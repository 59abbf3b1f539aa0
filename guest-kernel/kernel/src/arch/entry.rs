//! PVH entry: the Xen ELF note, the 32-bit entry point and the switch to long mode.
//!
//! The VMM enters `pvh_start32` in 32-bit protected mode with paging off and
//! EBX = physical address of `struct hvm_start_info`. We unmap the boot stack's
//! guard page (one store into the compile-time page table), load a boot GDT
//! with a 64-bit code segment, point CR3 at the identity map from
//! [`super::paging`], enable PAE + EFER.LME + paging, far-jump to 64-bit code,
//! set up the boot stack and call `kmain(start_info_paddr)`.
//!
//! The boot stack opens .bss (see `linker.ld`), right above its guard page:
//! an overflow page-faults there (and the #PF, which cannot be pushed, becomes
//! a #DF on its own IST stack) instead of running into .data (page tables, GOT).
//!
//! No loop runs here: the page tables are data, and .bss is the loader's zeroed RAM.

use core::arch::global_asm;

use crate::memmap::Region;

/// Size of the boot (and kernel) stack in bytes.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;
/// Size of the unmapped guard page below the boot stack.
pub const GUARD_SIZE: u64 = 4096;

unsafe extern "C" {
    static boot_stack_guard: u8;
    static boot_stack_top: u8;
}

/// The boot stack's guard page (not mapped: any access page-faults).
pub fn guard_page() -> Region {
    Region::new((&raw const boot_stack_guard) as u64, GUARD_SIZE)
}

/// The boot stack, `[bottom, top)`: it starts right above the guard page.
pub fn boot_stack() -> Region {
    Region {
        start: guard_page().end,
        end: (&raw const boot_stack_top) as u64,
    }
}

global_asm!(
    r#"
    /* XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit physical entry address, as
       an 8-byte desc like Linux's (QEMU reads 8 bytes, linux-loader 4). */
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                 /* namesz */
    .long 8                 /* descsz */
    .long 18                /* type: XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .quad pvh_start32
    .popsection

    .pushsection .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    /* Unmap the guard page: clear its entry in boot_pt (4 KiB pages for
       0 .. 2 MiB, which linker.ld asserts the guard lies in). The page is
       4 KiB-aligned, so (address >> 12) * 8 = address >> 9. */
    movl $boot_stack_guard, %eax
    shrl $9, %eax
    movl $0, boot_pt(%eax)
    lgdtl boot_gdt_desc

    /* CR4: PAE only. */
    movl $0x20, %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3

    /* EFER.LME */
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr

    /* CR0 = PG | WP | NE | ET | MP | PE: EM and TS clear (x87 usable), caches on. */
    movl $0x80010033, %eax
    movl %eax, %cr0

    ljmpl $0x08, $1f

    .code64
1:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    leaq boot_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    movl %ebx, %edi
    call kmain
2:
    cli
    hlt
    jmp 2b
    .popsection

    /* Boot GDT: null, 64-bit code (0x08), data (0x10). */
    .pushsection .rodata.boot_gdt, "a"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
boot_gdt_end:
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .popsection

    /* linker.ld puts this first in .bss: guard page, then the stack. */
    .pushsection .bss.boot_stack, "aw", @nobits
    .balign 4096
    .globl boot_stack_guard
boot_stack_guard:
    .skip {guard_size}
    .skip {stack_size}
    .globl boot_stack_top
boot_stack_top:
    .popsection
    "#,
    guard_size = const GUARD_SIZE,
    stack_size = const BOOT_STACK_SIZE,
    options(att_syntax)
);
