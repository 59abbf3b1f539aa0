//! RFLAGS bits the handlers set.

/// Carry.
pub const CF: u64 = 1 << 0;
/// Parity.
pub const PF: u64 = 1 << 2;
/// Auxiliary carry.
pub const AF: u64 = 1 << 4;
/// Zero.
pub const ZF: u64 = 1 << 6;
/// Sign.
pub const SF: u64 = 1 << 7;
/// Overflow.
pub const OF: u64 = 1 << 11;
/// Alignment check (SMAP's override).
pub const AC: u64 = 1 << 18;
/// The arithmetic flags.
pub const ARITH: u64 = CF | PF | AF | ZF | SF | OF;

/// `rflags` with the arithmetic flags replaced by `set`.
pub fn with_arith(rflags: u64, set: u64) -> u64 {
    (rflags & !ARITH) | (set & ARITH)
}

/// ZF if `value` is zero.
pub fn zf(value: u64) -> u64 {
    if value == 0 {
        ZF
    } else {
        0
    }
}

/// SF if the top bit of a `width`-byte `value` is set.
pub fn sf(value: u64, width: usize) -> u64 {
    if (value >> (width * 8 - 1)) & 1 == 1 {
        SF
    } else {
        0
    }
}

/// CF if `condition`.
pub fn cf(condition: bool) -> u64 {
    if condition {
        CF
    } else {
        0
    }
}
