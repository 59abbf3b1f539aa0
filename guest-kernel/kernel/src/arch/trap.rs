//! Trap entry stubs (global_asm) and the Rust dispatcher they call.
//!
//! Each stub pushes a dummy error code when the CPU pushes none, then its
//! vector number, and jumps to `trap_common`, which saves all general-purpose
//! registers into a [`TrapFrame`] on the stack and calls [`trap_dispatch`]
//! with a pointer to it. Handlers may edit the frame (e.g. the saved RIP);
//! `trap_common` restores it and returns with `iretq`.

use core::arch::global_asm;

use super::{exception, recover};
use crate::apic;

/// Vector of the LAPIC timer interrupt.
pub const TIMER_VECTOR: u8 = 0x20;
/// Vector of the LAPIC spurious interrupt.
pub const SPURIOUS_VECTOR: u8 = 0xff;

/// Vectors that have a stub, in the order of `trap_stub_table`.
pub const STUB_VECTORS: [u8; 34] = {
    let mut v = [0u8; 34];
    let mut i = 0;
    while i < 32 {
        v[i] = i as u8;
        i += 1;
    }
    v[32] = TIMER_VECTOR;
    v[33] = SPURIOUS_VECTOR;
    v
};

/// Registers saved on trap entry, lowest address first (matches `trap_common`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Vector number pushed by the stub.
    pub vector: u64,
    /// Error code pushed by the CPU, or 0 pushed by the stub.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

unsafe extern "C" {
    /// Addresses of the stubs for [`STUB_VECTORS`], in the same order.
    #[link_name = "trap_stub_table"]
    static TRAP_STUB_TABLE: [u64; 34];
}

/// Address of the entry stub for `STUB_VECTORS[index]`.
pub fn stub_address(index: usize) -> u64 {
    // SAFETY: trap_stub_table is an immutable, initialised table of 34 quads
    // emitted by the global_asm below.
    unsafe { TRAP_STUB_TABLE[index] }
}

/// Called by `trap_common` with interrupts disabled, on the trapping stack.
#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    match frame.vector {
        v if v == u64::from(TIMER_VECTOR) => apic::on_timer_interrupt(),
        v if v == u64::from(SPURIOUS_VECTOR) => {}
        _ => {
            if !recover::try_recover(frame) {
                exception::report_and_exit(frame);
            }
        }
    }
}

global_asm!(
    r#"
    .macro TRAP_NOERR vec
    .balign 16
trap_stub_\vec:
    pushq $0
    pushq $\vec
    jmp trap_common
    .endm

    .macro TRAP_ERR vec
    .balign 16
trap_stub_\vec:
    pushq $\vec
    jmp trap_common
    .endm

    .pushsection .text.traps, "ax"
    TRAP_NOERR 0
    TRAP_NOERR 1
    TRAP_NOERR 2
    TRAP_NOERR 3
    TRAP_NOERR 4
    TRAP_NOERR 5
    TRAP_NOERR 6
    TRAP_NOERR 7
    TRAP_ERR   8
    TRAP_NOERR 9
    TRAP_ERR   10
    TRAP_ERR   11
    TRAP_ERR   12
    TRAP_ERR   13
    TRAP_ERR   14
    TRAP_NOERR 15
    TRAP_NOERR 16
    TRAP_ERR   17
    TRAP_NOERR 18
    TRAP_NOERR 19
    TRAP_NOERR 20
    TRAP_ERR   21
    TRAP_NOERR 22
    TRAP_NOERR 23
    TRAP_NOERR 24
    TRAP_NOERR 25
    TRAP_NOERR 26
    TRAP_NOERR 27
    TRAP_NOERR 28
    TRAP_ERR   29
    TRAP_ERR   30
    TRAP_NOERR 31
    TRAP_NOERR 32
    TRAP_NOERR 255

    .balign 16
trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    cld
    call trap_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp
    iretq
    .popsection

    .pushsection .rodata.trap_stub_table, "a"
    .balign 8
    .globl trap_stub_table
trap_stub_table:
    .irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,255
    .quad trap_stub_\vec
    .endr
    .popsection
    "#,
    options(att_syntax)
);
