//! How verification fails.

use alloc::string::String;
use core::fmt;

/// The `errno` `bpf(BPF_PROG_LOAD)` returns for a rejection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    /// `EPERM` (1): needs a capability the loader lacks.
    Perm,
    /// `E2BIG` (7): too large or too complex.
    TooBig,
    /// `EACCES` (13): an unsafe program.
    Access,
    /// `EFAULT` (14): an internal invariant broke (with
    /// `BPF_F_TEST_REG_INVARIANTS`).
    Fault,
    /// `EINVAL` (22): a malformed program.
    Inval,
}

impl Errno {
    /// The Linux number.
    pub fn code(self) -> i32 {
        match self {
            Errno::Perm => 1,
            Errno::TooBig => 7,
            Errno::Access => 13,
            Errno::Fault => 14,
            Errno::Inval => 22,
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Errno::Perm => "EPERM",
            Errno::TooBig => "E2BIG",
            Errno::Access => "EACCES",
            Errno::Fault => "EFAULT",
            Errno::Inval => "EINVAL",
        };
        f.write_str(s)
    }
}

/// A rejection: the reason and the instruction it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The error code.
    pub errno: Errno,
    /// Linux-style message (`R1 invalid mem access 'scalar'`).
    pub msg: String,
}

impl Reject {
    /// Build a rejection.
    pub fn new(errno: Errno, msg: String) -> Reject {
        Reject { errno, msg }
    }
}

/// Reject with `EACCES` and a formatted message.
macro_rules! access {
    ($($arg:tt)*) => {
        Err($crate::verifier::error::Reject::new(
            $crate::verifier::error::Errno::Access,
            alloc::format!($($arg)*),
        ))
    };
}

/// Reject with `EINVAL` and a formatted message.
macro_rules! inval {
    ($($arg:tt)*) => {
        Err($crate::verifier::error::Reject::new(
            $crate::verifier::error::Errno::Inval,
            alloc::format!($($arg)*),
        ))
    };
}

pub(crate) use {access, inval};

/// Result of the checks.
pub type VResult<T> = Result<T, Reject>;

/// The outcome of a failed verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// Error code.
    pub errno: Errno,
    /// Instruction the reason is about, when there is one.
    pub insn: Option<usize>,
    /// The reason.
    pub msg: String,
    /// The whole log.
    pub log: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.insn {
            Some(i) => write!(f, "insn {i}: {} ({})", self.msg, self.errno),
            None => write!(f, "{} ({})", self.msg, self.errno),
        }
    }
}
