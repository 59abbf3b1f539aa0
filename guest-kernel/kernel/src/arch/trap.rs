//! Trap entry stubs (global_asm) and the Rust dispatcher they call.
//!
//! One assembler loop emits a stub for each of the 32 exception vectors, then
//! one each for the timer, MSI-X and the spurious vector: that list is the only
//! one, the IDT is built from the tables it emits ([`stubs`]). Each stub
//! pushes a dummy error code when the CPU pushes none ([`ERROR_CODE_VECTORS`]),
//! then its vector number, and jumps to `trap_common`, which saves all
//! general-purpose registers into a [`TrapFrame`] on the stack and calls
//! [`trap_dispatch`] with a pointer to it. Handlers may edit the frame (e.g.
//! the saved RIP); `trap_common` restores it and returns with `iretq`.
//! Traps from user mode switch page tables on the way in and out (see
//! [`super::user`]) and go to [`crate::proc::trap`].

use core::arch::global_asm;

use super::{exception, recover};
use crate::{apic, msi};

/// Vector of the LAPIC timer interrupt.
pub const TIMER_VECTOR: u8 = 0x20;
/// Vector every MSI-X message of our devices carries.
pub const MSI_VECTOR: u8 = 0x40;
/// Vector of the LAPIC spurious interrupt.
pub const SPURIOUS_VECTOR: u8 = 0xff;
/// Vector of the double fault (#DF).
pub const DOUBLE_FAULT_VECTOR: u8 = 8;
/// Number of exception vectors (0..32).
pub const EXCEPTION_VECTORS: u8 = 32;
/// Exception vectors for which the CPU pushes an error code, as a bit mask:
/// #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX.
pub const ERROR_CODE_VECTORS: u32 = vector_mask(&[8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
/// Number of stubs: the exceptions, the timer, MSI-X and the spurious vector.
pub const STUB_COUNT: usize = EXCEPTION_VECTORS as usize + 3;

/// The bit mask with bit `v` set for each exception vector `v` (< 32) in `vectors`.
pub const fn vector_mask(vectors: &[u8]) -> u32 {
    let mut mask = 0;
    let mut i = 0;
    while i < vectors.len() {
        mask |= 1 << vectors[i];
        i += 1;
    }
    mask
}

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
    /// Stub addresses, in the order the assembler loop emitted them.
    static trap_stub_table: [u64; STUB_COUNT];
    /// The vector of each stub in `trap_stub_table`.
    static trap_stub_vectors: [u8; STUB_COUNT];
}

/// Each stub's vector and entry address, in vector order.
pub fn stubs() -> impl Iterator<Item = (u8, u64)> {
    // SAFETY: both tables are immutable, initialised data of STUB_COUNT
    // entries emitted by the global_asm below (which checks the count).
    let (vectors, addresses) = unsafe { (&trap_stub_vectors, &trap_stub_table) };
    vectors.iter().copied().zip(addresses.iter().copied())
}

/// Called by `trap_common` with interrupts disabled, on the trapping stack.
#[unsafe(no_mangle)]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    match frame.vector {
        v if v == u64::from(TIMER_VECTOR) => apic::on_timer_interrupt(),
        v if v == u64::from(MSI_VECTOR) => msi::on_interrupt(),
        v if v == u64::from(SPURIOUS_VECTOR) => {}
        // Exceptions and system calls from user mode belong to the process.
        _ if frame.cs & 3 == 3 => crate::proc::trap::handle(frame),
        _ => {
            if !recover::try_recover(frame) {
                exception::report_and_exit(frame);
            }
        }
    }
}

global_asm!(
    r#"
    /* One stub for vector `vec`, its address in trap_stub_table and its
       vector in trap_stub_vectors. */
    .macro TRAP_STUB vec
    .pushsection .text.traps, "ax"
    .balign 16
1:
    .if \vec < {exceptions}
    .if (({error_code_vectors} >> \vec) & 1) == 0
    pushq $0
    .endif
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp trap_common
    .popsection
    .pushsection .rodata.trap_stub_table, "a"
    .quad 1b
    .popsection
    .pushsection .rodata.trap_stub_vectors, "a"
    .byte \vec
    .popsection
    .set trap_stub_count, trap_stub_count + 1
    .endm

    .pushsection .rodata.trap_stub_table, "a"
    .balign 8
    .globl trap_stub_table
trap_stub_table:
    .popsection
    .pushsection .rodata.trap_stub_vectors, "a"
    .globl trap_stub_vectors
trap_stub_vectors:
    .popsection

    .set trap_stub_count, 0
    .set trap_vector, 0
    .rept {exceptions}
    TRAP_STUB trap_vector
    .set trap_vector, trap_vector + 1
    .endr
    TRAP_STUB {timer}
    TRAP_STUB {msi}
    TRAP_STUB {spurious}
    .if trap_stub_count != {stub_count}
    .error "trap.rs: STUB_COUNT does not match the stubs emitted"
    .endif

    .pushsection .text.traps, "ax"
    .balign 16
    /* Entered at the stub's address: the low one, or its alias once user
       mode is set up (see user.rs). From user mode (CS.RPL = 3) the CPU is
       still on the user's page tables: switch to the kernel's, then go on
       at the low address in either case. */
    .globl trap_common
trap_common:
    testb $3, 24(%rsp)
    jz 1f
    pushq %rax
    movq kernel_cr3(%rip), %rax
    movq %rax, %cr3
    popq %rax
1:  jmp *trap_common_low(%rip)
trap_common_body:
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
    testb $3, 144(%rsp)
    jnz 2f
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
2:  jmp *user_return_alias(%rip)
    .popsection

    .pushsection .rodata.trap_common_low, "a"
    .balign 8
trap_common_low:
    .quad trap_common_body
    .popsection
    "#,
    exceptions = const EXCEPTION_VECTORS,
    error_code_vectors = const ERROR_CODE_VECTORS,
    timer = const TIMER_VECTOR,
    msi = const MSI_VECTOR,
    spurious = const SPURIOUS_VECTOR,
    stub_count = const STUB_COUNT,
    options(att_syntax)
);
