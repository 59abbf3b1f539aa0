//! Exceptions and system calls from user mode.
//!
//! A #PF is, in order: a kvm-pvm system call (a fetch at LSTAR, see
//! [`crate::arch::user::is_pvm_syscall`]), a demand fault the address space
//! serves, or a segmentation fault that kills the process with a line like
//! Linux's (`hello[1]: segfault at 0 ip ... sp ... error 6`). Other
//! exceptions kill it with the signal Linux would send.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::exception;
use crate::arch::trap::TrapFrame;
use crate::arch::user::{self, SYSCALL_VECTOR};
use crate::println;

use super::{CURRENT, Process, WaitStatus, syscall};
use crate::uvm::FaultError;

/// SIGILL.
pub const SIGILL: u64 = 4;
/// SIGTRAP.
pub const SIGTRAP: u64 = 5;
/// SIGBUS.
pub const SIGBUS: u64 = 7;
/// SIGFPE.
pub const SIGFPE: u64 = 8;
/// SIGKILL.
pub const SIGKILL: u64 = 9;
/// SIGSEGV.
pub const SIGSEGV: u64 = 11;

/// RFLAGS bits a program may set: CF PF AF ZF SF TF DF OF, AC, ID.
const USER_RFLAGS: u64 = 0x0dd5 | 1 << 18 | 1 << 21;
/// RFLAGS bits always set on the way back: IF and bit 1.
const FORCED_RFLAGS: u64 = 0x202;

/// System calls that came in through `syscall_entry` (hardware SYSCALL).
pub static SYSCALL_ENTRIES: AtomicU64 = AtomicU64::new(0);
/// System calls that came as kvm-pvm's user-mode #PF at LSTAR.
pub static PVM_SYSCALLS: AtomicU64 = AtomicU64::new(0);

/// What to do after a trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Return to the program.
    Resume,
    /// End the process.
    End(WaitStatus),
}

/// Prints Linux's segfault line and ends the process with SIGSEGV.
fn segfault(process: &Process, frame: &TrapFrame, cr2: u64) -> Action {
    println!(
        "{}[{}]: segfault at {cr2:x} ip {:016x} sp {:016x} error {:x}",
        process.comm, process.pid, frame.rip, frame.rsp, frame.error_code
    );
    Action::End(WaitStatus::killed(SIGSEGV))
}

/// Handles an exception or system call from user mode.
pub fn handle(frame: &mut TrapFrame) {
    let action = {
        let mut current = CURRENT.lock();
        let Some(process) = current.as_mut() else {
            exception::report_and_exit(frame);
        };
        match frame.vector {
            SYSCALL_VECTOR => {
                SYSCALL_ENTRIES.fetch_add(1, Ordering::Relaxed);
                let action = syscall::dispatch(process, frame);
                // SYSRET to a non-canonical RIP would fault in ring 0: iretq.
                if frame.rip >= 1 << 47 {
                    frame.vector = 0;
                }
                action
            }
            14 => {
                let cr2 = exception::cr2();
                if user::is_pvm_syscall(frame, cr2) {
                    PVM_SYSCALLS.fetch_add(1, Ordering::Relaxed);
                    frame.rip = frame.rcx;
                    frame.rflags = frame.r11;
                    syscall::dispatch(process, frame)
                } else {
                    match process.mm.fault(cr2, frame.error_code) {
                        Ok(()) => Action::Resume,
                        Err(FaultError::NoMemory) => {
                            println!(
                                "Out of memory: Killed process {} ({})",
                                process.pid, process.comm
                            );
                            Action::End(WaitStatus::killed(SIGKILL))
                        }
                        Err(_) => segfault(process, frame, cr2),
                    }
                }
            }
            vector => {
                let (signal, what) = match vector {
                    0 => (SIGFPE, "divide error"),
                    1 | 3 => (SIGTRAP, "int3"),
                    6 => (SIGILL, "invalid opcode"),
                    13 => (SIGSEGV, "general protection fault"),
                    17 => (SIGBUS, "alignment check"),
                    16 | 19 => (SIGFPE, "floating point exception"),
                    _ => (SIGSEGV, exception::mnemonic(vector)),
                };
                println!(
                    "traps: {}[{}] {what} ip:{:x} sp:{:x} error:{:x}",
                    process.comm, process.pid, frame.rip, frame.rsp, frame.error_code
                );
                Action::End(WaitStatus::killed(signal))
            }
        }
    };
    match action {
        Action::Resume => frame.rflags = frame.rflags & USER_RFLAGS | FORCED_RFLAGS,
        Action::End(status) => user::leave(status.0),
    }
}
