//! The abstract domains: tnum operations and range arithmetic are sound
//! (every concrete result lies in the abstract result), bounds sync keeps
//! every member and is idempotent, and the 6.8 vectors hold.

use guest_bpf::interp::{alu32, alu64};
use guest_bpf::isa::AluOp;
use guest_bpf::verifier::bounds::Bounds;
use guest_bpf::verifier::scalar_alu;
use guest_bpf::verifier::tnum::Tnum;
use proptest::prelude::*;

/// A tnum and a member of it.
fn tnum_and_member() -> impl Strategy<Value = (Tnum, u64)> {
    (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(v, m, x)| {
        let m = m & (m >> 7);
        let t = Tnum {
            value: v & !m,
            mask: m,
        };
        (t, t.value | (x & m))
    })
}

/// Bounds built from a concrete value: a random range around it, synced.
fn bounds_and_member() -> impl Strategy<Value = (Bounds, u64)> {
    (
        any::<u64>(),
        0u64..1 << 20,
        0u64..1 << 20,
        any::<bool>(),
        tnum_and_member(),
    )
        .prop_map(|(x, below, above, signed, (t, _))| {
            let mut b = Bounds::UNKNOWN;
            if signed {
                b.smin = (x as i64).saturating_sub(below as i64);
                b.smax = (x as i64).saturating_add(above as i64);
            } else {
                b.umin = x.saturating_sub(below);
                b.umax = x.saturating_add(above);
            }
            // keep only tnum bits that agree with x
            let mask = t.mask | (t.value ^ x);
            b.var_off = Tnum {
                value: x & !mask,
                mask,
            };
            b.sync();
            (b, x)
        })
}

proptest! {
    #[test]
    fn prop_tnum_ops_are_sound((a, x) in tnum_and_member(), (b, y) in tnum_and_member()) {
        prop_assert!(a.add(b).contains(x.wrapping_add(y)));
        prop_assert!(a.sub(b).contains(x.wrapping_sub(y)));
        prop_assert!(a.mul(b).contains(x.wrapping_mul(y)));
        prop_assert!(a.and(b).contains(x & y));
        prop_assert!(a.or(b).contains(x | y));
        prop_assert!(a.xor(b).contains(x ^ y));
        let k = (y % 64) as u32;
        prop_assert!(a.lshift(k).contains(x << k));
        prop_assert!(a.rshift(k).contains(x >> k));
        prop_assert!(a.arshift(k, 64).contains(((x as i64) >> k) as u64));
        prop_assert!(a.arshift(k % 32, 32).contains(u64::from(((x as u32 as i32) >> (k % 32)) as u32)));
        prop_assert!(a.subreg().contains(x & 0xffff_ffff));
        prop_assert!(a.includes(Tnum::constant(x)));
    }

    #[test]
    fn prop_tnum_range_covers_its_range(lo: u64, span in 0u64..1 << 40, off in 0u64..1 << 40) {
        let hi = lo.saturating_add(span);
        let v = lo.saturating_add(off.min(span));
        prop_assert!(Tnum::range(lo, hi).contains(v));
    }

    #[test]
    fn prop_sync_keeps_members_and_is_idempotent((b, x) in bounds_and_member()) {
        prop_assert!(b.contains(x), "{:?} lost {:#x}", b, x);
        let mut again = b;
        again.sync();
        prop_assert_eq!(again, b);
    }

    #[test]
    fn prop_scalar_alu_is_sound((a, x) in bounds_and_member(), (b, y) in bounds_and_member(), op in 0usize..13, wide: bool) {
        let ops = [AluOp::Add, AluOp::Sub, AluOp::Mul, AluOp::Div, AluOp::SDiv, AluOp::Or, AluOp::And, AluOp::Lsh, AluOp::Rsh, AluOp::Mod, AluOp::SMod, AluOp::Xor, AluOp::Arsh];
        let op = ops[op];
        // shifts: the verifier only computes for in-range amounts
        let (b, y) = if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) {
            let k = y % if wide { 64 } else { 32 };
            (Bounds::constant(k), k)
        } else {
            (b, y)
        };
        let mut r = a;
        scalar_alu(op, &mut r, &b, wide);
        let concrete = if wide { alu64(op, x, y) } else { u64::from(alu32(op, x as u32, y as u32)) };
        prop_assert!(r.contains(concrete), "{:?} {:?} {:?} = {:?} lost {:#x}", op, a, b, r, concrete);
    }
}

#[test]
fn test_exhaustive_8_bit_tnum_add_and_mul() {
    // every 4-bit-known tnum pair over 8-bit values, all members
    let tnums: Vec<Tnum> = (0..16u64)
        .flat_map(|m| {
            (0..16u64)
                .filter(move |v| v & m == 0)
                .map(move |v| Tnum { value: v, mask: m })
        })
        .collect();
    for a in &tnums {
        for b in &tnums {
            let (s, p) = (a.add(*b), a.mul(*b));
            for x in (0..16).filter(|x| a.contains(*x)) {
                for y in (0..16).filter(|y| b.contains(*y)) {
                    assert!(s.contains(x + y));
                    assert!(p.contains(x * y));
                }
            }
        }
    }
}

#[test]
fn test_6_8_range_vs_range_and_not_equal_vectors() {
    // r1 ∈ [0,10], r2 ∈ [20,30] (built from tnums/ranges); r1 > r2 never.
    let mut r1 = Bounds::UNKNOWN;
    r1.umin = 0;
    r1.umax = 10;
    r1.sync();
    let mut r2 = Bounds::UNKNOWN;
    r2.umin = 20;
    r2.umax = 30;
    r2.sync();
    assert!(
        r1.umax <= r2.umin,
        "r1 > r2 is decided never-taken from these bounds"
    );
    assert_eq!((r1.smin, r1.smax, r1.u32_max), (0, 10, 10));
    // sync derives the tnum from the range
    assert_eq!(
        r1.var_off,
        Tnum {
            value: 0,
            mask: 0xf
        }
    );
    let mut sub = Bounds::UNKNOWN;
    sub.smin = -3;
    sub.smax = -1;
    sub.sync();
    assert_eq!((sub.umin, sub.umax), (u64::MAX - 2, u64::MAX));
    assert_eq!((sub.s32_min, sub.s32_max), (-3, -1));
}
