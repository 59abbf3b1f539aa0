//! Expected-fault recovery: probes that may fault, and the handler hook that
//! resumes them.
//!
//! A probe arms a record, then runs a tiny asm routine. If an exception hits
//! inside that routine while the record is armed, [`try_recover`] stores the
//! vector, error code and CR2 in the record and sets the saved RIP to
//! `probe_resume`, which makes the routine return 1 instead of 0.
//!
//! Only the faults a probe can cause are recovered: #DE, #SS, #GP and #PF.
//! Anything else (#DF, NMI, #MC, ...) is reported as unexpected even inside
//! a probe. Probes must not be used from interrupt or exception context: the
//! record is a single global one, so a nested probe would clobber it.

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::exception;
use super::trap::{self, TrapFrame};

/// An exception caught by a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// Exception vector (14 = #PF, 13 = #GP, 0 = #DE, ...).
    pub vector: u64,
    /// Error code pushed by the CPU (0 for vectors without one).
    pub error_code: u64,
    /// CR2 at the time of the exception (meaningful for #PF only).
    pub cr2: u64,
}

/// Vectors a probe may cause: #DE (0), #SS (12), #GP (13), #PF (14).
const RECOVERABLE_VECTORS: u32 = trap::vector_mask(&[0, 12, 13, 14]);

static ARMED: AtomicBool = AtomicBool::new(false);
static VECTOR: AtomicU64 = AtomicU64::new(0);
static ERROR_CODE: AtomicU64 = AtomicU64::new(0);
static CR2: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" {
    fn probe_read_u64(addr: u64, out: *mut u64) -> u64;
    fn probe_div_u64(dividend: u64, divisor: u64, out: *mut u64) -> u64;
    static probe_code_start: u8;
    static probe_code_end: u8;
    static probe_resume: u8;
}

/// Reads the u64 at `addr`, returning the exception instead if the read
/// faults. Not from interrupt or exception context.
///
/// # Safety
/// If `addr` is mapped, reading it must have no side effects the caller
/// does not expect (it must not be device MMIO with read side effects).
pub unsafe fn read_u64(addr: u64) -> Result<u64, Fault> {
    let mut value = 0;
    // SAFETY: the routine only reads `addr` and writes `value`; a fault at
    // the read is recovered by `try_recover` while armed. The caller vouches
    // for side effects of the read.
    run_armed(|| unsafe { probe_read_u64(addr, &mut value) }).map(|()| value)
}

/// Computes `dividend / divisor` with `div`, returning #DE if `divisor` is
/// 0. Not from interrupt or exception context.
pub fn divide(dividend: u64, divisor: u64) -> Result<u64, Fault> {
    let mut quotient = 0;
    // SAFETY: the routine divides registers and writes `quotient`; a #DE is
    // recovered by `try_recover` while armed.
    run_armed(|| unsafe { probe_div_u64(dividend, divisor, &mut quotient) }).map(|()| quotient)
}

fn run_armed(probe: impl FnOnce() -> u64) -> Result<(), Fault> {
    ARMED.store(true, Ordering::SeqCst);
    let faulted = probe();
    ARMED.store(false, Ordering::SeqCst);
    if faulted == 0 {
        return Ok(());
    }
    Err(Fault {
        vector: VECTOR.load(Ordering::SeqCst),
        error_code: ERROR_CODE.load(Ordering::SeqCst),
        cr2: CR2.load(Ordering::SeqCst),
    })
}

/// Whether a probe may recover from exception `vector`.
pub fn is_recoverable(vector: u64) -> bool {
    vector < 32 && RECOVERABLE_VECTORS >> vector & 1 != 0
}

/// Called for every exception: if a probe is armed, the exception is one a
/// probe may cause ([`is_recoverable`]) and it hit inside the probe code,
/// records it, redirects RIP to the resume label and returns true. Otherwise
/// returns false (an unexpected exception).
pub fn try_recover(frame: &mut TrapFrame) -> bool {
    let start = (&raw const probe_code_start) as u64;
    let end = (&raw const probe_code_end) as u64;
    if !is_recoverable(frame.vector)
        || !(start..end).contains(&frame.rip)
        || !ARMED.swap(false, Ordering::SeqCst)
    {
        return false;
    }
    VECTOR.store(frame.vector, Ordering::SeqCst);
    ERROR_CODE.store(frame.error_code, Ordering::SeqCst);
    CR2.store(exception::cr2(), Ordering::SeqCst);
    frame.rip = (&raw const probe_resume) as u64;
    true
}

global_asm!(
    r#"
    .pushsection .text.probe, "ax"
    .globl probe_code_start, probe_code_end, probe_resume
    .globl probe_read_u64, probe_div_u64
probe_code_start:
probe_read_u64:             /* (addr, out) -> 0 */
    movq (%rdi), %rax
    movq %rax, (%rsi)
    xorl %eax, %eax
    ret
probe_div_u64:              /* (dividend, divisor, out) -> 0 */
    movq %rdx, %rcx
    movq %rdi, %rax
    xorl %edx, %edx
    divq %rsi
    movq %rax, (%rcx)
    xorl %eax, %eax
    ret
probe_code_end:
probe_resume:               /* a recovered fault lands here: return 1 */
    movl $1, %eax
    ret
    .popsection
    "#,
    options(att_syntax)
);
