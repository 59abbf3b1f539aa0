//! The BPF instruction set (RFC 9669): slots, typed instructions, decoding
//! and encoding.

pub mod asm;
mod decode;
mod encode;
mod error;
mod insn;
pub mod opcode;
mod raw;

pub use decode::{decode_at, decode_program};
pub use encode::{encode, encode_program, to_bytes};
pub use error::{DecodeError, DecodeErrorKind};
pub use insn::{AluOp, AtomicOp, ByteOrder, CallTarget, Imm64, Insn, JmpOp, Size, Src, MAX_REG};
pub use raw::{slots_from_bytes, RawInsn};
