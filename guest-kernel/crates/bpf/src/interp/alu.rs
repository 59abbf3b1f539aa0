//! Arithmetic, comparison and byte-order semantics exactly as RFC 9669
//! defines them (division by zero yields 0, modulo by zero leaves the
//! dividend, shift amounts are masked, signed overflow wraps).

use crate::isa::{AluOp, ByteOrder, JmpOp};

/// `dst op src` on 64 bits.
#[inline(always)]
pub fn alu64(op: AluOp, dst: u64, src: u64) -> u64 {
    match op {
        AluOp::Add => dst.wrapping_add(src),
        AluOp::Sub => dst.wrapping_sub(src),
        AluOp::Mul => dst.wrapping_mul(src),
        AluOp::Div => dst.checked_div(src).unwrap_or(0),
        AluOp::SDiv if src == 0 => 0,
        AluOp::SDiv => (dst as i64).wrapping_div(src as i64) as u64,
        AluOp::Or => dst | src,
        AluOp::And => dst & src,
        AluOp::Lsh => dst << (src & 63),
        AluOp::Rsh => dst >> (src & 63),
        AluOp::Mod => dst.checked_rem(src).unwrap_or(dst),
        AluOp::SMod if src == 0 => dst,
        AluOp::SMod => (dst as i64).wrapping_rem(src as i64) as u64,
        AluOp::Xor => dst ^ src,
        AluOp::Mov => src,
        AluOp::MovSx(8) => src as i8 as i64 as u64,
        AluOp::MovSx(16) => src as i16 as i64 as u64,
        AluOp::MovSx(_) => src as i32 as i64 as u64,
        AluOp::Arsh => ((dst as i64) >> (src & 63)) as u64,
    }
}

/// `dst op src` on the low 32 bits; the caller zero-extends.
#[inline(always)]
pub fn alu32(op: AluOp, dst: u32, src: u32) -> u32 {
    match op {
        AluOp::Add => dst.wrapping_add(src),
        AluOp::Sub => dst.wrapping_sub(src),
        AluOp::Mul => dst.wrapping_mul(src),
        AluOp::Div => dst.checked_div(src).unwrap_or(0),
        AluOp::SDiv if src == 0 => 0,
        AluOp::SDiv => (dst as i32).wrapping_div(src as i32) as u32,
        AluOp::Or => dst | src,
        AluOp::And => dst & src,
        AluOp::Lsh => dst << (src & 31),
        AluOp::Rsh => dst >> (src & 31),
        AluOp::Mod => dst.checked_rem(src).unwrap_or(dst),
        AluOp::SMod if src == 0 => dst,
        AluOp::SMod => (dst as i32).wrapping_rem(src as i32) as u32,
        AluOp::Xor => dst ^ src,
        AluOp::Mov => src,
        AluOp::MovSx(8) => src as i8 as i32 as u32,
        AluOp::MovSx(_) => src as i16 as i32 as u32,
        AluOp::Arsh => ((dst as i32) >> (src & 31)) as u32,
    }
}

/// Byte-order conversion on a little-endian machine.
#[inline(always)]
pub fn endian(order: ByteOrder, bits: u8, v: u64) -> u64 {
    match (order, bits) {
        (ByteOrder::ToLe, 16) => v & 0xffff,
        (ByteOrder::ToLe, 32) => v & 0xffff_ffff,
        (ByteOrder::ToLe, _) => v,
        (_, 16) => u64::from((v as u16).swap_bytes()),
        (_, 32) => u64::from((v as u32).swap_bytes()),
        (_, _) => v.swap_bytes(),
    }
}

/// Outcome of a 64-bit comparison.
#[inline(always)]
pub fn cond64(op: JmpOp, a: u64, b: u64) -> bool {
    match op {
        JmpOp::Jeq => a == b,
        JmpOp::Jne => a != b,
        JmpOp::Jset => a & b != 0,
        JmpOp::Jgt => a > b,
        JmpOp::Jge => a >= b,
        JmpOp::Jlt => a < b,
        JmpOp::Jle => a <= b,
        JmpOp::Jsgt => (a as i64) > (b as i64),
        JmpOp::Jsge => (a as i64) >= (b as i64),
        JmpOp::Jslt => (a as i64) < (b as i64),
        JmpOp::Jsle => (a as i64) <= (b as i64),
    }
}

/// Outcome of a 32-bit comparison (low halves).
#[inline(always)]
pub fn cond32(op: JmpOp, a: u32, b: u32) -> bool {
    match op {
        JmpOp::Jeq => a == b,
        JmpOp::Jne => a != b,
        JmpOp::Jset => a & b != 0,
        JmpOp::Jgt => a > b,
        JmpOp::Jge => a >= b,
        JmpOp::Jlt => a < b,
        JmpOp::Jle => a <= b,
        JmpOp::Jsgt => (a as i32) > (b as i32),
        JmpOp::Jsge => (a as i32) >= (b as i32),
        JmpOp::Jslt => (a as i32) < (b as i32),
        JmpOp::Jsle => (a as i32) <= (b as i32),
    }
}

/// Sign-extend the low `bytes` bytes of `v`.
#[inline(always)]
pub fn sign_extend(v: u64, bytes: u32) -> u64 {
    match bytes {
        1 => v as i8 as i64 as u64,
        2 => v as i16 as i64 as u64,
        4 => v as i32 as i64 as u64,
        _ => v,
    }
}
