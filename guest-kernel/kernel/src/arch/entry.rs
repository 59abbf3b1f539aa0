//! PVH entry: the Xen ELF note, the 32-bit entry point and the switch to long mode.
//!
//! The VMM enters `pvh_start32` in 32-bit protected mode with paging off and
//! EBX = physical address of `struct hvm_start_info`. We load a boot GDT with a
//! 64-bit code segment, point CR3 at the compile-time identity map from
//! [`super::paging`], enable PAE + EFER.LME + paging, far-jump to 64-bit code,
//! set up the boot stack and call `kmain(start_info_paddr)`.
//!
//! No loop runs here: the page tables are data, and .bss is the loader's zeroed RAM.

use core::arch::global_asm;

/// Size of the boot (and kernel) stack in bytes.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

global_asm!(
    r#"
    /* XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit physical entry address. */
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4                 /* namesz */
    .long 4                 /* descsz */
    .long 18                /* type: XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start32
    /* An empty note after it: QEMU reads the descriptor as 8 bytes, so the
       next 4 bytes must be zero (this note's namesz). */
    .long 0, 0, 0
    .popsection

    .pushsection .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
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

    .pushsection .bss.boot_stack, "aw", @nobits
    .balign 16
    .globl boot_stack_bottom
boot_stack_bottom:
    .skip {stack_size}
    .globl boot_stack_top
boot_stack_top:
    .popsection
    "#,
    stack_size = const BOOT_STACK_SIZE,
    options(att_syntax)
);
