//! Ring 3: the kernel alias, system-call entry and the way into and out of
//! user mode.
//!
//! The kernel runs at its link addresses in the low identity map (PML4 slot
//! 0), which is exactly where user programs live (`ET_EXEC` at 0x400000).
//! So the kernel keeps its own page tables and every user address space
//! maps only an alias of physical memory at [`KERNEL_ALIAS`] (PML4 slot
//! 511, supervisor-only, the boot PDPT shared): the IDT, GDT, TSS, trap
//! stubs, the entry stack and the code below are reached there. A trap from
//! user mode enters a stub at its alias, `trap_common` switches CR3 to the
//! kernel's and jumps to its low address; the way back switches CR3 to the
//! user's at the alias and returns with `iretq` (or `sysretq`).
//!
//! System calls, two ways, one dispatcher ([`crate::proc`]):
//! - hardware KVM: `SYSCALL` enters `syscall_entry` (LSTAR, at the alias)
//!   at CPL0; it saves the user RSP, switches to the entry stack, builds a
//!   [`TrapFrame`] with vector [`SYSCALL_VECTOR`] and joins `trap_common`;
//!   the return is `sysretq` (if the frame still says SYSCALL_VECTOR);
//! - kvm-pvm: `SYSCALL` sets RIP = LSTAR, RCX/R11 but stays at CPL3, so the
//!   fetch at LSTAR takes a user-mode #PF (instruction fetch, CR2 = RIP =
//!   LSTAR). [`is_pvm_syscall`] recognises it; the dispatcher then treats
//!   the frame as a system call (RAX = number, RCX/R11 = return RIP/RFLAGS)
//!   and returns with `iretq`.
//!
//! [`run`] enters user mode from kernel code and comes back (with a value)
//! when the process is done ([`leave`]).

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::registers::control::Cr3;
use x86_64::registers::model_specific::Msr;

use super::trap::TrapFrame;
use super::{gdt, idt};

/// Base of the kernel alias of physical memory (PML4 slot 511):
/// `KERNEL_ALIAS + phys` maps `phys` for the first 4 GiB.
pub const KERNEL_ALIAS: u64 = 0xffff_ff80_0000_0000;
/// PML4 slot of the alias.
pub const ALIAS_PML4_SLOT: usize = 511;
/// `TrapFrame::vector` of a hardware SYSCALL entry (not an IDT vector).
pub const SYSCALL_VECTOR: u64 = 0x100;
/// Bytes of the stack traps from user mode run on.
pub const ENTRY_STACK_SIZE: usize = 64 * 1024;
/// RFLAGS bits SYSCALL clears (Linux's: TF, DF, IF, IOPL, AC, NT).
const SYSCALL_MASK: u64 = 0x4_7700;
/// #PF error code bits of a user-mode instruction fetch.
const PF_USER_FETCH: u64 = 0x4 | 0x10;

const MSR_EFER: u32 = 0xc000_0080;
const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_SFMASK: u32 = 0xc000_0084;
const MSR_FS_BASE: u32 = 0xc000_0100;
const EFER_SCE: u64 = 1 << 0;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const EFER_NXE: u64 = 1 << 11;

#[repr(C, align(4096))]
struct EntryStack([u8; ENTRY_STACK_SIZE]);

/// The stack traps from user mode (and system calls) run on (in .bss).
static mut ENTRY_STACK: EntryStack = EntryStack([0; ENTRY_STACK_SIZE]);

static READY: AtomicBool = AtomicBool::new(false);
static NX: AtomicBool = AtomicBool::new(false);

unsafe extern "C" {
    static mut kernel_cr3: u64;
    static mut user_cr3: u64;
    static mut syscall_stack_top: u64;
    static syscall_entry: u8;
    static boot_pml4: [u64; 512];
    fn user_run(frame: *const TrapFrame) -> u64;
    fn user_leave(value: u64) -> !;
}

/// The alias of a kernel (identity-mapped) address.
pub fn alias(addr: u64) -> u64 {
    addr + KERNEL_ALIAS
}

/// Sets up everything user mode needs, once: the alias slot in the kernel's
/// PML4, GDT/TSS/IDT at their aliases (RSP0 = the entry stack), SSE
/// (CR4.OSFXSR/OSXMMEXCPT), EFER.SCE (and NXE when the CPU has it), STAR,
/// LSTAR, SFMASK. Later calls do nothing.
pub fn init() {
    if READY.load(Ordering::Acquire) {
        return;
    }
    x86_64::instructions::interrupts::without_interrupts(|| {
        let pml4 = (&raw const boot_pml4) as *mut u64;
        // SAFETY: boot_pml4 is the live, identity-mapped kernel PML4; slot 0
        // holds the boot PDPT, which slot 511 now shares (no other user of
        // slot 511). The CR3 reload below flushes any stale translation.
        unsafe {
            let low = core::ptr::read_volatile(pml4);
            core::ptr::write_volatile(pml4.add(ALIAS_PML4_SLOT), low);
            let (frame, flags) = Cr3::read_raw();
            Cr3::write_raw(frame, flags);
            kernel_cr3 = frame.start_address().as_u64();
        }
        let top = (&raw const ENTRY_STACK) as u64 + ENTRY_STACK_SIZE as u64;
        // SAFETY: written once here, read only by the entry code afterwards.
        unsafe { syscall_stack_top = alias(top) };
        gdt::use_alias(KERNEL_ALIAS, alias(top));
        idt::use_alias(KERNEL_ALIAS);
        // SSE for user programs (x86_64's baseline): CR4.OSFXSR and
        // OSXMMEXCPT. The kernel itself never touches SSE state.
        // SAFETY: enabling SSE changes no memory mapping or privilege.
        unsafe {
            let cr4 = x86_64::registers::control::Cr4::read_raw();
            x86_64::registers::control::Cr4::write_raw(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
        }
        let nx = core::arch::x86_64::__cpuid(0x8000_0001).edx & (1 << 20) != 0;
        NX.store(nx, Ordering::Relaxed);
        let star = u64::from(gdt::SYSRET_SELECTOR_BASE | 3) << 48
            | u64::from(gdt::kernel_code_selector()) << 32;
        // SAFETY: EFER gains SCE (and NXE if the CPU has it), which change no
        // existing translation; the syscall MSRs point at our entry code
        // (at its alias) with the GDT's selectors.
        unsafe {
            let mut efer = Msr::new(MSR_EFER);
            let value = efer.read() | EFER_SCE | if nx { EFER_NXE } else { 0 };
            efer.write(value);
            Msr::new(MSR_STAR).write(star);
            Msr::new(MSR_LSTAR).write(lstar());
            Msr::new(MSR_SFMASK).write(SYSCALL_MASK);
        }
    });
    READY.store(true, Ordering::Release);
}

/// Whether page tables may use the no-execute bit (EFER.NXE is on).
pub fn nx_enabled() -> bool {
    NX.load(Ordering::Relaxed)
}

/// The system-call entry address (LSTAR): `syscall_entry` at its alias.
pub fn lstar() -> u64 {
    alias((&raw const syscall_entry) as u64)
}

/// The physical address of the kernel's PML4.
pub fn kernel_pml4() -> u64 {
    (&raw const boot_pml4) as u64
}

/// Whether `frame` (a #PF taken from user mode) is a system call on
/// kvm-pvm: an instruction fetch at exactly LSTAR, which only SYSCALL can
/// reach from user mode.
pub fn is_pvm_syscall(frame: &TrapFrame, cr2: u64) -> bool {
    frame.vector == 14
        && frame.error_code & PF_USER_FETCH == PF_USER_FETCH
        && frame.rip == lstar()
        && cr2 == frame.rip
}

/// Sets the FS base (ARCH_SET_FS).
pub fn set_fs_base(value: u64) {
    // SAFETY: the kernel does not use FS; the value only affects user mode.
    unsafe { Msr::new(MSR_FS_BASE).write(value) };
}

/// The FS base.
pub fn fs_base() -> u64 {
    // SAFETY: reading FS_BASE has no side effects.
    unsafe { Msr::new(MSR_FS_BASE).read() }
}

/// Where the frame of a trap from user mode lies: right below the entry
/// stack's top (an alias address).
pub fn user_frame_addr() -> u64 {
    let top = (&raw const ENTRY_STACK) as u64 + ENTRY_STACK_SIZE as u64;
    alias(top) - core::mem::size_of::<TrapFrame>() as u64
}

/// Enters user mode with the registers in `frame` (CS/SS must be the user
/// selectors) on the address space `cr3`, until the process calls
/// [`leave`]; returns the value given to it. Interrupts are disabled on
/// return. Call [`init`] first.
pub fn run(frame: &TrapFrame, cr3: u64) -> u64 {
    assert!(READY.load(Ordering::Acquire), "arch::user::init first");
    let at = user_frame_addr() as *mut TrapFrame;
    // SAFETY: `at` is the top of the entry stack, unused while the kernel
    // runs on its boot stack; user_cr3 is read only by the return path.
    unsafe {
        core::ptr::write(at, *frame);
        user_cr3 = cr3;
        user_run(at)
    }
}

/// Switches the address space the next return to user mode uses.
pub fn set_user_cr3(cr3: u64) {
    // SAFETY: read only by the return path, which runs after this.
    unsafe { user_cr3 = cr3 };
}

/// Ends the user-mode run: returns `value` from [`run`] on the kernel stack
/// it was called on. Call from a trap handler of that run.
pub fn leave(value: u64) -> ! {
    // SAFETY: `run` saved the kernel context `user_leave` restores; the
    // entry-stack frames being abandoned hold nothing that needs dropping.
    unsafe { user_leave(value) }
}

global_asm!(
    r#"
    .pushsection .data.user_entry, "aw"
    .balign 8
    .globl kernel_cr3, user_cr3, syscall_stack_top
kernel_cr3:         .quad 0
user_cr3:           .quad 0
syscall_stack_top:  .quad 0
syscall_user_rsp:   .quad 0
saved_kernel_rsp:   .quad 0
    .globl user_return_alias
user_return_alias:  .quad user_return + ({alias})
    .popsection

    .pushsection .text.user_entry, "ax"
    /* Runs at the alias, kernel CR3, RSP -> a TrapFrame on the entry stack:
       switch to the user's CR3 and return. */
    .balign 16
    .globl user_return
user_return:
    movq user_cr3(%rip), %rax
    movq %rax, %cr3
    cmpq ${syscall_vector}, 120(%rsp)
    je 1f
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
1:  popq %r15
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
    movq (%rsp), %rcx           /* return RIP */
    movq 16(%rsp), %r11         /* return RFLAGS */
    movq 24(%rsp), %rsp         /* user RSP */
    sysretq

    /* Hardware SYSCALL: CPL0, user CR3 and RSP, IF clear (SFMASK). */
    .balign 16
    .globl syscall_entry
syscall_entry:
    movq %rsp, syscall_user_rsp(%rip)
    movq syscall_stack_top(%rip), %rsp
    pushq ${user_ds}
    pushq syscall_user_rsp(%rip)
    pushq %r11
    pushq ${user_cs}
    pushq %rcx
    pushq $0
    pushq ${syscall_vector}
    jmp trap_common

    /* user_run(frame): save the kernel context, then return to user mode
       through the frame (on the entry stack). */
    .balign 16
    .globl user_run
user_run:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cli
    movq %rsp, saved_kernel_rsp(%rip)
    movq %rdi, %rsp
    jmp *user_return_alias(%rip)

    /* user_leave(value): back to user_run's caller, which gets `value`. */
    .balign 16
    .globl user_leave
user_leave:
    movq saved_kernel_rsp(%rip), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    movq %rdi, %rax
    ret
    .popsection
    "#,
    alias = const KERNEL_ALIAS as i64,
    syscall_vector = const SYSCALL_VECTOR,
    user_ds = const gdt::USER_DATA_SELECTOR,
    user_cs = const gdt::USER_CODE_SELECTOR,
    options(att_syntax)
);
