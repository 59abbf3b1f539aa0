//! What is known about a 64-bit value: a tnum plus unsigned and signed
//! ranges of the whole value and of its low 32 bits, kept consistent with
//! each other (the ideas of Linux's `reg_bounds_sync`).

use super::tnum::Tnum;

/// Value knowledge of a scalar (or of a pointer's variable offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Bounds {
    /// Known bits.
    pub var_off: Tnum,
    /// Unsigned 64-bit minimum.
    pub umin: u64,
    /// Unsigned 64-bit maximum.
    pub umax: u64,
    /// Signed 64-bit minimum.
    pub smin: i64,
    /// Signed 64-bit maximum.
    pub smax: i64,
    /// Unsigned minimum of the low 32 bits.
    pub u32_min: u32,
    /// Unsigned maximum of the low 32 bits.
    pub u32_max: u32,
    /// Signed minimum of the low 32 bits.
    pub s32_min: i32,
    /// Signed maximum of the low 32 bits.
    pub s32_max: i32,
}

impl Bounds {
    /// Nothing known.
    pub const UNKNOWN: Bounds = Bounds {
        var_off: Tnum::UNKNOWN,
        umin: 0,
        umax: u64::MAX,
        smin: i64::MIN,
        smax: i64::MAX,
        u32_min: 0,
        u32_max: u32::MAX,
        s32_min: i32::MIN,
        s32_max: i32::MAX,
    };

    /// Exactly `v`.
    pub const fn constant(v: u64) -> Bounds {
        Bounds {
            var_off: Tnum::constant(v),
            umin: v,
            umax: v,
            smin: v as i64,
            smax: v as i64,
            u32_min: v as u32,
            u32_max: v as u32,
            s32_min: v as i32,
            s32_max: v as i32,
        }
    }

    /// Whether the value is one constant.
    pub fn is_const(&self) -> bool {
        self.var_off.is_const()
    }

    /// Whether the low 32 bits are one constant.
    pub fn is_const32(&self) -> bool {
        self.var_off.subreg().is_const()
    }

    /// Whether the value is a known constant (per width) and which.
    pub fn const_value(&self, wide: bool) -> Option<u64> {
        if wide {
            self.is_const().then_some(self.var_off.value)
        } else {
            self.is_const32()
                .then_some(self.var_off.value & 0xffff_ffff)
        }
    }

    /// Forget the 64-bit ranges (before re-deriving them).
    pub fn unbound64(&mut self) {
        self.umin = 0;
        self.umax = u64::MAX;
        self.smin = i64::MIN;
        self.smax = i64::MAX;
    }

    /// Forget the 32-bit ranges.
    pub fn unbound32(&mut self) {
        self.u32_min = 0;
        self.u32_max = u32::MAX;
        self.s32_min = i32::MIN;
        self.s32_max = i32::MAX;
    }

    /// Keep the low 32 bits, zero the rest (the result of every ALU32 op).
    pub fn zext32(&mut self) {
        self.var_off = self.var_off.subreg();
        self.umin = u64::from(self.u32_min);
        self.umax = u64::from(self.u32_max);
        self.smin = self.umin as i64;
        self.smax = self.umax as i64;
        self.sync();
    }

    /// Truncate to the low `bytes` bytes (narrow loads, narrow fills).
    pub fn truncate(&mut self, bytes: u32) {
        if bytes >= 8 {
            return;
        }
        self.var_off = self.var_off.cast(bytes);
        let max = (1u64 << (bytes * 8)) - 1;
        if self.umax >> (bytes * 8) == self.umin >> (bytes * 8)
            && (self.umin & max) <= (self.umax & max)
        {
            self.umin &= max;
            self.umax &= max;
        } else {
            self.umin = 0;
            self.umax = max;
        }
        self.smin = self.umin as i64;
        self.smax = self.umax as i64;
        self.unbound32();
        self.sync();
    }

    /// Tighten ranges from the tnum, cross-deduce between the domains,
    /// tighten the tnum from the ranges, and tighten the ranges again.
    ///
    /// Repeated until nothing changes (a few rounds at most), so the result
    /// is a fixpoint: syncing again changes nothing.
    pub fn sync(&mut self) {
        for _ in 0..8 {
            let before = *self;
            self.tighten_from_tnum();
            self.deduce();
            self.deduce();
            self.tnum_from_ranges();
            self.tighten_from_tnum();
            if *self == before || self.is_inconsistent() {
                break;
            }
        }
    }

    /// Whether the knowledge describes no value at all.
    pub fn is_inconsistent(&self) -> bool {
        self.umin > self.umax
            || self.smin > self.smax
            || self.u32_min > self.u32_max
            || self.s32_min > self.s32_max
            || self.umin > self.var_off.max()
            || self.umax < self.var_off.min()
            || u64::from(self.u32_min) > self.var_off.subreg().max()
            || u64::from(self.u32_max) < self.var_off.subreg().min()
    }

    fn tighten_from_tnum(&mut self) {
        let t = self.var_off;
        let t32 = t.subreg();
        let (v32, m32) = (t32.value as u32, t32.mask as u32);
        self.s32_min = self.s32_min.max((v32 | (m32 & 0x8000_0000)) as i32);
        self.s32_max = self.s32_max.min((v32 | (m32 & 0x7fff_ffff)) as i32);
        self.u32_min = self.u32_min.max(v32);
        self.u32_max = self.u32_max.min(v32 | m32);
        let sign = 1u64 << 63;
        self.smin = self.smin.max((t.value | (t.mask & sign)) as i64);
        self.smax = self.smax.min((t.value | (t.mask & !sign)) as i64);
        self.umin = self.umin.max(t.value);
        self.umax = self.umax.min(t.value | t.mask);
    }

    fn deduce(&mut self) {
        self.deduce32();
        self.deduce64();
        self.deduce_mixed();
    }

    /// 32-bit ranges from the 64-bit ones and from each other.
    fn deduce32(&mut self) {
        let clamp_u = |b: &mut Bounds, lo: u32, hi: u32| {
            b.u32_min = b.u32_min.max(lo);
            b.u32_max = b.u32_max.min(hi);
        };
        let clamp_s = |b: &mut Bounds, lo: i32, hi: i32| {
            b.s32_min = b.s32_min.max(lo);
            b.s32_max = b.s32_max.min(hi);
        };
        // Same upper half across the range: the low halves form a range.
        if self.umin >> 32 == self.umax >> 32 {
            clamp_u(self, self.umin as u32, self.umax as u32);
            if (self.umin as i32) <= (self.umax as i32) {
                clamp_s(self, self.umin as i32, self.umax as i32);
            }
        }
        if self.smin >> 32 == self.smax >> 32 {
            if (self.smin as u32) <= (self.smax as u32) {
                clamp_u(self, self.smin as u32, self.smax as u32);
            }
            if (self.smin as i32) <= (self.smax as i32) {
                clamp_s(self, self.smin as i32, self.smax as i32);
            }
        }
        // Upper halves two consecutive numbers and the low halves cross
        // from negative to non-negative: still one signed 32-bit range.
        let consecutive =
            |lo: u64, hi: u64| ((lo >> 32) as u32).wrapping_add(1) == (hi >> 32) as u32;
        if consecutive(self.umin, self.umax) && (self.umin as i32) < 0 && (self.umax as i32) >= 0 {
            clamp_s(self, self.umin as i32, self.umax as i32);
        }
        if consecutive(self.smin as u64, self.smax as u64)
            && (self.smin as i32) < 0
            && (self.smax as i32) >= 0
        {
            clamp_s(self, self.smin as i32, self.smax as i32);
        }
        // u32 range not crossing the sign bit is also an s32 range, and back.
        if (self.u32_min as i32) <= (self.u32_max as i32) {
            clamp_s(self, self.u32_min as i32, self.u32_max as i32);
        }
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            clamp_u(self, self.s32_min as u32, self.s32_max as u32);
        }
    }

    /// u64 and s64 ranges from each other when they do not cross a sign
    /// boundary.
    fn deduce64(&mut self) {
        if (self.umin as i64) <= (self.umax as i64) {
            self.smin = self.smin.max(self.umin as i64);
            self.smax = self.smax.min(self.umax as i64);
        }
        if (self.smin as u64) <= (self.smax as u64) {
            self.umin = self.umin.max(self.smin as u64);
            self.umax = self.umax.min(self.smax as u64);
        }
    }

    /// 64-bit ranges from 32-bit knowledge: the low half of the 64-bit
    /// extremes can be raised (lowered) to the 32-bit extremes.
    fn deduce_mixed(&mut self) {
        const HI: u64 = !0xffff_ffff;
        let tighten = |b: &mut Bounds, lo32: u32, hi32: u32| {
            let new_umin = (b.umin & HI) | u64::from(lo32);
            let new_umax = (b.umax & HI) | u64::from(hi32);
            b.umin = b.umin.max(new_umin);
            b.umax = b.umax.min(new_umax);
            let new_smin = ((b.smin as u64 & HI) | u64::from(lo32)) as i64;
            let new_smax = ((b.smax as u64 & HI) | u64::from(hi32)) as i64;
            b.smin = b.smin.max(new_smin);
            b.smax = b.smax.min(new_smax);
        };
        tighten(self, self.u32_min, self.u32_max);
        if (self.s32_min as u32) <= (self.s32_max as u32) {
            tighten(self, self.s32_min as u32, self.s32_max as u32);
        }
    }

    fn tnum_from_ranges(&mut self) {
        let t64 = self.var_off.intersect(Tnum::range(self.umin, self.umax));
        let t32 = t64.subreg().intersect(Tnum::range(
            u64::from(self.u32_min),
            u64::from(self.u32_max),
        ));
        self.var_off = t64.clear_subreg().or(t32);
    }

    /// Whether every value of `other` is allowed by `self` (ranges and tnum).
    pub fn includes(&self, other: &Bounds) -> bool {
        self.umin <= other.umin
            && other.umax <= self.umax
            && self.smin <= other.smin
            && other.smax <= self.smax
            && self.u32_min <= other.u32_min
            && other.u32_max <= self.u32_max
            && self.s32_min <= other.s32_min
            && other.s32_max <= self.s32_max
            && self.var_off.includes(other.var_off)
    }

    /// Whether concrete `v` satisfies all the knowledge (for tests).
    pub fn contains(&self, v: u64) -> bool {
        self.var_off.contains(v)
            && (self.umin..=self.umax).contains(&v)
            && (self.smin..=self.smax).contains(&(v as i64))
            && (self.u32_min..=self.u32_max).contains(&(v as u32))
            && (self.s32_min..=self.s32_max).contains(&(v as i32))
    }
}
