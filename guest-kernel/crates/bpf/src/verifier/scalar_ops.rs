//! Scalar arithmetic on [`Bounds`]: the range rules of each ALU operation,
//! for both the 64-bit value and its low 32 bits (Linux 6.8's
//! `adjust_scalar_min_max_vals` ideas).

use super::bounds::Bounds;
use super::tnum::Tnum;
use crate::isa::AluOp;

fn add_u(a: (u64, u64), b: (u64, u64), max: u64) -> (u64, u64) {
    let hi = u128::from(a.1) + u128::from(b.1);
    if hi > u128::from(max) {
        (0, max)
    } else {
        (a.0 + b.0, a.1 + b.1)
    }
}

fn add_s(a: (i64, i64), b: (i64, i64), min: i64, max: i64) -> (i64, i64) {
    let lo = i128::from(a.0) + i128::from(b.0);
    let hi = i128::from(a.1) + i128::from(b.1);
    if lo < i128::from(min) || hi > i128::from(max) || lo > i128::from(max) || hi < i128::from(min)
    {
        (min, max)
    } else {
        (lo as i64, hi as i64)
    }
}

fn sub_u(a: (u64, u64), b: (u64, u64), max: u64) -> (u64, u64) {
    if a.0 < b.1 {
        (0, max)
    } else {
        (a.0 - b.1, a.1 - b.0)
    }
}

fn sub_s(a: (i64, i64), b: (i64, i64), min: i64, max: i64) -> (i64, i64) {
    let lo = i128::from(a.0) - i128::from(b.1);
    let hi = i128::from(a.1) - i128::from(b.0);
    if lo < i128::from(min) || hi > i128::from(max) || lo > i128::from(max) || hi < i128::from(min)
    {
        (min, max)
    } else {
        (lo as i64, hi as i64)
    }
}

fn r32(b: &Bounds) -> ((u64, u64), (i64, i64)) {
    (
        (u64::from(b.u32_min), u64::from(b.u32_max)),
        (i64::from(b.s32_min), i64::from(b.s32_max)),
    )
}

fn set32(d: &mut Bounds, u: (u64, u64), s: (i64, i64)) {
    d.u32_min = u.0 as u32;
    d.u32_max = u.1 as u32;
    d.s32_min = s.0 as i32;
    d.s32_max = s.1 as i32;
}

fn add(d: &mut Bounds, s: &Bounds) {
    let ((du, ds), (su, ss)) = (r32(d), r32(s));
    set32(
        d,
        add_u(du, su, u64::from(u32::MAX)),
        add_s(ds, ss, i64::from(i32::MIN), i64::from(i32::MAX)),
    );
    (d.umin, d.umax) = add_u((d.umin, d.umax), (s.umin, s.umax), u64::MAX);
    (d.smin, d.smax) = add_s((d.smin, d.smax), (s.smin, s.smax), i64::MIN, i64::MAX);
    d.var_off = d.var_off.add(s.var_off);
}

fn sub(d: &mut Bounds, s: &Bounds) {
    let ((du, ds), (su, ss)) = (r32(d), r32(s));
    set32(
        d,
        sub_u(du, su, u64::from(u32::MAX)),
        sub_s(ds, ss, i64::from(i32::MIN), i64::from(i32::MAX)),
    );
    (d.umin, d.umax) = sub_u((d.umin, d.umax), (s.umin, s.umax), u64::MAX);
    (d.smin, d.smax) = sub_s((d.smin, d.smax), (s.smin, s.smax), i64::MIN, i64::MAX);
    d.var_off = d.var_off.sub(s.var_off);
}

fn mul(d: &mut Bounds, s: &Bounds) {
    // 32-bit: only for non-negative operands below 2^16.
    if d.s32_min < 0 || s.s32_min < 0 || d.u32_max > 0xffff || s.u32_max > 0xffff {
        d.unbound32();
    } else {
        d.u32_min *= s.u32_min;
        d.u32_max *= s.u32_max;
        if d.u32_max > i32::MAX as u32 {
            d.s32_min = i32::MIN;
            d.s32_max = i32::MAX;
        } else {
            d.s32_min = d.u32_min as i32;
            d.s32_max = d.u32_max as i32;
        }
    }
    if d.smin < 0 || s.smin < 0 || d.umax > u64::from(u32::MAX) || s.umax > u64::from(u32::MAX) {
        d.unbound64();
    } else {
        d.umin *= s.umin;
        d.umax *= s.umax;
        if d.umax > i64::MAX as u64 {
            d.smin = i64::MIN;
            d.smax = i64::MAX;
        } else {
            d.smin = d.umin as i64;
            d.smax = d.umax as i64;
        }
    }
    d.var_off = d.var_off.mul(s.var_off);
}

/// After a bitwise op: signed ranges follow the unsigned ones when those do
/// not cross the sign boundary.
fn signed_from_unsigned(d: &mut Bounds) {
    if (d.umin as i64) <= (d.umax as i64) {
        d.smin = d.umin as i64;
        d.smax = d.umax as i64;
    } else {
        d.smin = i64::MIN;
        d.smax = i64::MAX;
    }
    if (d.u32_min as i32) <= (d.u32_max as i32) {
        d.s32_min = d.u32_min as i32;
        d.s32_max = d.u32_max as i32;
    } else {
        d.s32_min = i32::MIN;
        d.s32_max = i32::MAX;
    }
}

fn bitwise(op: AluOp, d: &mut Bounds, s: &Bounds) {
    let t = match op {
        AluOp::And => d.var_off.and(s.var_off),
        AluOp::Or => d.var_off.or(s.var_off),
        _ => d.var_off.xor(s.var_off),
    };
    let t32 = t.subreg();
    match op {
        AluOp::And => {
            d.u32_min = t32.value as u32;
            d.u32_max = d.u32_max.min(s.u32_max);
            d.umin = t.value;
            d.umax = d.umax.min(s.umax);
        }
        AluOp::Or => {
            d.u32_min = d.u32_min.max(s.u32_min);
            d.u32_max = t32.max() as u32;
            d.umin = d.umin.max(s.umin);
            d.umax = t.max();
        }
        _ => {
            d.u32_min = t32.value as u32;
            d.u32_max = t32.max() as u32;
            d.umin = t.value;
            d.umax = t.max();
        }
    }
    d.var_off = t;
    signed_from_unsigned(d);
}

fn lsh(d: &mut Bounds, k: (u64, u64), wide: bool) {
    let (lo, hi) = k;
    // 32-bit half
    d.s32_min = i32::MIN;
    d.s32_max = i32::MAX;
    if hi > 31 || u64::from(d.u32_max) > 1u64 << (31 - hi) {
        d.u32_min = 0;
        d.u32_max = u32::MAX;
    } else {
        d.u32_min <<= lo;
        d.u32_max <<= hi;
    }
    if wide {
        // The compiler's `<<32 s>>32` sign extension keeps non-negative
        // 32-bit bounds.
        let by32 = lo == 32 && hi == 32;
        d.smax = if by32 && d.s32_max >= 0 {
            i64::from(d.s32_max) << 32
        } else {
            i64::MAX
        };
        d.smin = if by32 && d.s32_min >= 0 {
            i64::from(d.s32_min) << 32
        } else {
            i64::MIN
        };
        if d.umax > 1u64 << (63 - hi) {
            d.umin = 0;
            d.umax = u64::MAX;
        } else {
            d.umin <<= lo;
            d.umax <<= hi;
        }
        d.var_off = d.var_off.lshift(lo as u32);
    } else {
        d.var_off = d.var_off.subreg().lshift(lo as u32).subreg();
    }
}

fn rsh(d: &mut Bounds, k: (u64, u64), wide: bool) {
    let (lo, hi) = k;
    if wide {
        d.smin = i64::MIN;
        d.smax = i64::MAX;
        d.var_off = d.var_off.rshift(lo as u32);
        d.umin >>= hi;
        d.umax >>= lo;
        d.unbound32();
    } else {
        d.s32_min = i32::MIN;
        d.s32_max = i32::MAX;
        d.var_off = d.var_off.subreg().rshift(lo as u32);
        d.u32_min >>= hi;
        d.u32_max >>= lo;
        d.unbound64();
    }
}

fn arsh(d: &mut Bounds, k: u64, wide: bool) {
    if wide {
        d.smin >>= k;
        d.smax >>= k;
        d.var_off = d.var_off.arshift(k as u32, 64);
        d.umin = 0;
        d.umax = u64::MAX;
        d.unbound32();
    } else {
        d.s32_min >>= k;
        d.s32_max >>= k;
        d.var_off = d.var_off.subreg().arshift(k as u32, 32);
        d.u32_min = 0;
        d.u32_max = u32::MAX;
        d.unbound64();
    }
}

/// `dst op= src` for two scalars (not MOV). The result is synced, and
/// zero-extended for 32-bit operations.
pub fn scalar_alu(op: AluOp, dst: &mut Bounds, src: &Bounds, wide: bool) {
    let known = if wide {
        src.is_const()
    } else {
        src.is_const32()
    };
    let malformed = if wide {
        (known && (src.smin != src.smax || src.umin != src.umax))
            || src.smin > src.smax
            || src.umin > src.umax
    } else {
        (known && (src.s32_min != src.s32_max || src.u32_min != src.u32_max))
            || src.s32_min > src.s32_max
            || src.u32_min > src.u32_max
    };
    if malformed || (!known && !matches!(op, AluOp::Add | AluOp::Sub | AluOp::And)) {
        *dst = Bounds::UNKNOWN;
        return;
    }
    let width = if wide { 64 } else { 32 };
    let k = if wide {
        (src.umin, src.umax)
    } else {
        (u64::from(src.u32_min), u64::from(src.u32_max))
    };
    match op {
        AluOp::Add => add(dst, src),
        AluOp::Sub => sub(dst, src),
        AluOp::Mul => mul(dst, src),
        AluOp::And | AluOp::Or | AluOp::Xor => bitwise(op, dst, src),
        AluOp::Lsh | AluOp::Rsh | AluOp::Arsh if k.1 >= width => {
            *dst = Bounds::UNKNOWN;
            return;
        }
        AluOp::Lsh => lsh(dst, k, wide),
        AluOp::Rsh => rsh(dst, k, wide),
        AluOp::Arsh => arsh(dst, k.0, wide),
        _ => {
            *dst = Bounds::UNKNOWN;
            return;
        }
    }
    if wide {
        dst.sync();
    } else {
        dst.zext32();
    }
}

/// The value of a sign-extending move of the low `bits` of `src`.
pub fn movsx(src: &Bounds, bits: u8, wide: bool) -> Bounds {
    let bytes = u32::from(bits / 8);
    let mut r = if let Some(v) = src.const_value(true) {
        let v = crate::interp::alu64(AluOp::MovSx(bits), 0, v);
        Bounds::constant(v)
    } else {
        // Range survives when the source range already fits the narrow
        // signed type.
        let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        if src.smin >= lo && src.smax <= hi {
            let mut b = Bounds::UNKNOWN;
            b.smin = src.smin;
            b.smax = src.smax;
            b.sync();
            b
        } else {
            let mut b = Bounds::UNKNOWN;
            b.smin = lo;
            b.smax = hi;
            b.var_off = Tnum::UNKNOWN;
            b.sync();
            b
        }
    };
    let _ = bytes;
    if !wide {
        r.zext32();
    }
    r
}
