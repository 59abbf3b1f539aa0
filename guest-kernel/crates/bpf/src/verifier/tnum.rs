//! Tristate numbers: each bit known 0, known 1, or unknown (`mask` bit set).
//! The abstract domain of Linux's `kernel/bpf/tnum.c`, written anew from its
//! definitions.

use core::fmt;

/// A set of 64-bit values: those `x` with `x & !mask == value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// Known bits (zero where unknown).
    pub value: u64,
    /// Unknown bits.
    pub mask: u64,
}

impl Tnum {
    /// Every value.
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// The single value `v`.
    pub const fn constant(v: u64) -> Tnum {
        Tnum { value: v, mask: 0 }
    }

    /// The smallest tnum holding every value in `[min, max]`.
    pub fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// Whether exactly one value is possible.
    pub const fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Whether nothing is known.
    pub const fn is_unknown(self) -> bool {
        self.mask == u64::MAX
    }

    /// Whether `v` is in the set.
    pub const fn contains(self, v: u64) -> bool {
        v & !self.mask == self.value
    }

    /// Whether every value of `b` is in `self` (`tnum_in`).
    pub const fn includes(self, b: Tnum) -> bool {
        if b.mask & !self.mask != 0 {
            return false;
        }
        self.value == b.value & !self.mask
    }

    /// Smallest possible value.
    pub const fn min(self) -> u64 {
        self.value
    }

    /// Largest possible value.
    pub const fn max(self) -> u64 {
        self.value | self.mask
    }

    /// Sum.
    #[allow(clippy::should_implement_trait)] // named after tnum.c, by value on a Copy type
    pub fn add(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// Difference.
    #[allow(clippy::should_implement_trait)] // named after tnum.c, by value on a Copy type
    pub fn sub(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: dv & !mu,
            mask: mu,
        }
    }

    /// Bitwise and.
    pub fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    /// Bitwise or.
    pub fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v,
            mask: mu & !v,
        }
    }

    /// Bitwise xor.
    pub fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Product, by shift-and-add over the bits of `self`.
    #[allow(clippy::should_implement_trait)] // named after tnum.c, by value on a Copy type
    pub fn mul(self, b: Tnum) -> Tnum {
        let known = Tnum::constant(self.value.wrapping_mul(b.value));
        let mut acc = Tnum::constant(0);
        let (mut a, mut b) = (self, b);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc = acc.add(Tnum {
                    value: 0,
                    mask: b.mask,
                });
            } else if a.mask & 1 != 0 {
                acc = acc.add(Tnum {
                    value: 0,
                    mask: b.value | b.mask,
                });
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        known.add(acc)
    }

    /// Left shift by a constant below 64.
    pub fn lshift(self, k: u32) -> Tnum {
        Tnum {
            value: self.value << k,
            mask: self.mask << k,
        }
    }

    /// Logical right shift by a constant below 64.
    pub fn rshift(self, k: u32) -> Tnum {
        Tnum {
            value: self.value >> k,
            mask: self.mask >> k,
        }
    }

    /// Arithmetic right shift by a constant, on 64 or 32 bits.
    pub fn arshift(self, k: u32, bits: u32) -> Tnum {
        if bits == 32 {
            Tnum {
                value: (((self.value as u32) as i32) >> k) as u32 as u64,
                mask: (((self.mask as u32) as i32) >> k) as u32 as u64,
            }
        } else {
            Tnum {
                value: ((self.value as i64) >> k) as u64,
                mask: ((self.mask as i64) >> k) as u64,
            }
        }
    }

    /// Values in both sets (when the sets agree on the known bits).
    pub fn intersect(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Truncate to the low `bytes` bytes.
    pub fn cast(self, bytes: u32) -> Tnum {
        if bytes >= 8 {
            return self;
        }
        let m = (1u64 << (bytes * 8)) - 1;
        Tnum {
            value: self.value & m,
            mask: self.mask & m,
        }
    }

    /// The low 32 bits.
    pub fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// The high 32 bits only (low half known zero).
    pub fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// `self` with its low 32 bits replaced by `sub`'s.
    pub fn with_subreg(self, sub: Tnum) -> Tnum {
        self.clear_subreg().or(sub.subreg())
    }

    /// Whether every value is a multiple of `size` (a power of two).
    pub fn is_aligned(self, size: u64) -> bool {
        size == 0 || (self.value | self.mask) & (size - 1) == 0
    }
}

impl fmt::Display for Tnum {
    /// Linux's `tnum_strn`: `(value; mask)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}
