//! Why a slot does not decode.

use core::fmt;

/// A malformed instruction, with the reason in Linux's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Index of the offending slot.
    pub pc: usize,
    /// What is wrong with it.
    pub kind: DecodeErrorKind,
}

/// The ways an encoding can be malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// Class/operation/mode combination that names no instruction.
    UnknownOpcode(u8),
    /// A register number above 10.
    InvalidRegister(u8),
    /// Fields that must be zero (or one of a few values) are not; the
    /// string names the instruction kind as Linux does (`BPF_ALU`, ...).
    ReservedFields(&'static str),
    /// Unknown atomic operation immediate.
    InvalidAtomicOp(i32),
    /// Atomic operation on a width other than W or DW.
    InvalidAtomicSize,
    /// Byte-swap width other than 16/32/64.
    InvalidEndianWidth(i32),
    /// `LD_IMM64` whose second slot is missing or malformed.
    InvalidLdImm64,
    /// `LD_IMM64` with an unknown pseudo source.
    UnknownLdImm64Src(u8),
    /// Call with an unknown `src` kind.
    InvalidCallSrc(u8),
    /// Byte length that is not a whole number of instructions.
    TruncatedProgram(usize),
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::UnknownOpcode(c) => write!(f, "unknown opcode {c:02x}"),
            DecodeErrorKind::InvalidRegister(r) => write!(f, "R{r} is invalid"),
            DecodeErrorKind::ReservedFields(what) => write!(f, "{what} uses reserved fields"),
            DecodeErrorKind::InvalidAtomicOp(imm) => {
                write!(f, "BPF_ATOMIC uses invalid atomic opcode {imm:02x}")
            }
            DecodeErrorKind::InvalidAtomicSize => write!(f, "invalid atomic operand size"),
            DecodeErrorKind::InvalidEndianWidth(imm) => {
                write!(f, "BPF_END uses reserved fields (width {imm})")
            }
            DecodeErrorKind::InvalidLdImm64 => write!(f, "invalid bpf_ld_imm64 insn"),
            DecodeErrorKind::UnknownLdImm64Src(s) => {
                write!(f, "unrecognized bpf_ld_imm64 insn (src {s})")
            }
            DecodeErrorKind::InvalidCallSrc(s) => {
                write!(f, "BPF_CALL uses reserved fields (src {s})")
            }
            DecodeErrorKind::TruncatedProgram(n) => {
                write!(f, "program length {n} is not a multiple of 8 bytes")
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "insn {}: {}", self.pc, self.kind)
    }
}
