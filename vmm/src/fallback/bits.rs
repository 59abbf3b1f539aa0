//! popcnt, lzcnt, tzcnt and the BMI1/BMI2 instructions, as the SDM defines
//! their results and flags (flags the SDM leaves undefined are cleared).

use iced_x86::{Instruction, Mnemonic};

use super::cpu::{CpuError, GuestCpu};
use super::flags::{cf, sf, with_arith, zf};
use super::{operand, Step};

/// All ones in a `width`-byte value.
fn mask(width: usize) -> u64 {
    if width >= 8 {
        u64::MAX
    } else {
        (1u64 << (width * 8)) - 1
    }
}

/// The result of a bit instruction: destination value(s) and arithmetic flags.
#[derive(Debug, PartialEq, Eq)]
pub struct BitResult {
    /// Value for operand 0.
    pub dest: u64,
    /// Value for operand 1 (mulx's low half), if written.
    pub dest2: Option<u64>,
    /// New arithmetic flags, or None when the instruction leaves flags alone.
    pub flags: Option<u64>,
}

fn value(dest: u64, flags: u64) -> BitResult {
    BitResult {
        dest,
        dest2: None,
        flags: Some(flags),
    }
}

fn no_flags(dest: u64) -> BitResult {
    BitResult {
        dest,
        dest2: None,
        flags: None,
    }
}

/// Computes `mnemonic` on `width`-byte sources (`a`, `b`; `rdx` for mulx).
pub fn compute(mnemonic: Mnemonic, width: usize, a: u64, b: u64, rdx: u64) -> Option<BitResult> {
    let m = mask(width);
    let bits = (width * 8) as u64;
    let (a, b) = (a & m, b & m);
    Some(match mnemonic {
        Mnemonic::Popcnt => value(u64::from(a.count_ones()), zf(a)),
        Mnemonic::Lzcnt => {
            let r = if a == 0 {
                bits
            } else {
                u64::from(a.leading_zeros()) - (64 - bits)
            };
            value(r, cf(a == 0) | zf(r))
        }
        Mnemonic::Tzcnt => {
            let r = if a == 0 {
                bits
            } else {
                u64::from(a.trailing_zeros())
            };
            value(r, cf(a == 0) | zf(r))
        }
        // andn dest, src1, src2: !src1 & src2
        Mnemonic::Andn => {
            let r = !a & b & m;
            value(r, zf(r) | sf(r, width))
        }
        // bextr dest, src, control: start = control[7:0], length = control[15:8]
        Mnemonic::Bextr => {
            let (start, len) = (b & 0xff, (b >> 8) & 0xff);
            let shifted = if start >= bits { 0 } else { a >> start };
            let r = if len >= bits {
                shifted
            } else {
                shifted & ((1u64 << len) - 1)
            };
            value(r & m, zf(r & m))
        }
        Mnemonic::Blsi => {
            let r = a.wrapping_neg() & a & m;
            value(r, zf(r) | sf(r, width) | cf(a != 0))
        }
        Mnemonic::Blsmsk => {
            let r = (a.wrapping_sub(1) ^ a) & m;
            value(r, sf(r, width) | cf(a == 0))
        }
        Mnemonic::Blsr => {
            let r = a.wrapping_sub(1) & a & m;
            value(r, zf(r) | sf(r, width) | cf(a == 0))
        }
        // bzhi dest, src, index: clear bits from index[7:0] up
        Mnemonic::Bzhi => {
            let n = b & 0xff;
            let r = if n < bits { a & ((1u64 << n) - 1) } else { a };
            value(r, zf(r) | sf(r, width) | cf(n > bits - 1))
        }
        Mnemonic::Sarx => {
            let count = b & (bits - 1);
            let signed = ((a << (64 - bits)) as i64) >> (64 - bits);
            no_flags((signed >> count) as u64 & m)
        }
        Mnemonic::Shlx => no_flags((a << (b & (bits - 1))) & m),
        Mnemonic::Shrx => no_flags(a >> (b & (bits - 1))),
        Mnemonic::Rorx => {
            let count = (b & (bits - 1)) as u32;
            let r = if count == 0 {
                a
            } else {
                ((a >> count) | (a << (bits as u32 - count))) & m
            };
            no_flags(r)
        }
        // pdep dest, src, mask: deposit src's low bits where mask has ones
        Mnemonic::Pdep => {
            let (mut r, mut k) = (0u64, 0);
            for i in 0..bits {
                if (b >> i) & 1 == 1 {
                    r |= ((a >> k) & 1) << i;
                    k += 1;
                }
            }
            no_flags(r)
        }
        // pext dest, src, mask: gather src's bits where mask has ones
        Mnemonic::Pext => {
            let (mut r, mut k) = (0u64, 0);
            for i in 0..bits {
                if (b >> i) & 1 == 1 {
                    r |= ((a >> i) & 1) << k;
                    k += 1;
                }
            }
            no_flags(r)
        }
        // mulx hi, lo, src: rdx * src
        Mnemonic::Mulx => {
            let product = u128::from(rdx & m) * u128::from(a);
            let lo = (product & u128::from(m)) as u64;
            let hi = (product >> bits) as u64 & m;
            BitResult {
                dest: hi,
                dest2: Some(lo),
                flags: None,
            }
        }
        _ => return None,
    })
}

/// Which operands are the sources (a, b) for each instruction form.
fn source_operands(mnemonic: Mnemonic) -> (u32, Option<u32>) {
    match mnemonic {
        Mnemonic::Popcnt | Mnemonic::Lzcnt | Mnemonic::Tzcnt => (1, None),
        Mnemonic::Blsi | Mnemonic::Blsmsk | Mnemonic::Blsr => (1, None),
        Mnemonic::Mulx => (2, None),
        _ => (1, Some(2)),
    }
}

/// Completes a bit instruction on the vCPU.
pub fn execute(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    let mnemonic = instr.mnemonic();
    let width = operand::width(instr, 0);
    let (a_op, b_op) = source_operands(mnemonic);
    let a = match operand::read(instr, a_op, cpu)? {
        Ok(v) => v,
        Err(e) => return Ok(Step::Raise(e)),
    };
    let b = match b_op.map(|op| operand::read(instr, op, cpu)).transpose()? {
        Some(Err(e)) => return Ok(Step::Raise(e)),
        Some(Ok(v)) => v,
        None => 0,
    };
    let rdx = cpu.regs()?.rdx;
    let result = compute(mnemonic, width, a, b, rdx)
        .ok_or_else(|| CpuError(format!("{mnemonic:?} is not a bit instruction")))?;
    if let Some(lo) = result.dest2 {
        operand::write_reg(instr, 1, cpu, lo)?;
    }
    // For mulx with both destinations the same register, the high half wins.
    operand::write_reg(instr, 0, cpu, result.dest)?;
    if let Some(flags) = result.flags {
        let regs = cpu.regs()?;
        regs.rflags = with_arith(regs.rflags, flags);
    }
    Ok(Step::Done)
}

#[cfg(test)]
mod tests {
    use super::super::flags::{CF, SF, ZF};
    use super::*;

    fn r(m: Mnemonic, w: usize, a: u64, b: u64) -> BitResult {
        compute(m, w, a, b, 0).unwrap()
    }

    #[test]
    fn test_popcnt_counts_and_sets_zf_only_for_zero() {
        assert_eq!(r(Mnemonic::Popcnt, 4, 0xf0f0, 0), value(8, 0));
        assert_eq!(r(Mnemonic::Popcnt, 8, 0, 0), value(0, ZF));
        assert_eq!(r(Mnemonic::Popcnt, 2, 0xffff_ffff, 0), value(16, 0));
    }

    #[test]
    fn test_lzcnt_tzcnt_of_zero_is_operand_size_with_cf() {
        assert_eq!(r(Mnemonic::Lzcnt, 4, 0, 0), value(32, CF));
        assert_eq!(r(Mnemonic::Lzcnt, 4, 1, 0), value(31, 0));
        assert_eq!(r(Mnemonic::Lzcnt, 8, 1 << 63, 0), value(0, ZF));
        assert_eq!(r(Mnemonic::Tzcnt, 2, 0, 0), value(16, CF));
        assert_eq!(r(Mnemonic::Tzcnt, 8, 0x80, 0), value(7, 0));
    }

    #[test]
    fn test_bmi1_results_and_flags() {
        assert_eq!(r(Mnemonic::Andn, 4, 0xff00, 0xffff), value(0xff, 0));
        assert_eq!(r(Mnemonic::Bextr, 8, 0xabcd_ef00, 0x0808), value(0xef, 0));
        assert_eq!(r(Mnemonic::Bextr, 4, 0xabcd, 0x0040), value(0, ZF));
        assert_eq!(r(Mnemonic::Blsi, 4, 0b1100, 0), value(0b100, CF));
        assert_eq!(r(Mnemonic::Blsi, 4, 0, 0), value(0, ZF));
        assert_eq!(r(Mnemonic::Blsmsk, 4, 0b1100, 0), value(0b111, 0));
        assert_eq!(r(Mnemonic::Blsmsk, 4, 0, 0), value(0xffff_ffff, SF | CF));
        assert_eq!(r(Mnemonic::Blsr, 4, 0b1100, 0), value(0b1000, 0));
        assert_eq!(r(Mnemonic::Blsr, 4, 0, 0), value(0, ZF | CF));
    }

    #[test]
    fn test_bmi2_shifts_rotates_and_bit_moves() {
        assert_eq!(r(Mnemonic::Bzhi, 4, 0xffff_ffff, 4), value(0xf, 0));
        assert_eq!(
            r(Mnemonic::Bzhi, 4, 0xffff_ffff, 40),
            value(0xffff_ffff, SF | CF)
        );
        assert_eq!(r(Mnemonic::Shrx, 8, 0x100, 68), no_flags(0x10));
        assert_eq!(r(Mnemonic::Shlx, 4, 0x8000_0001, 1), no_flags(2));
        assert_eq!(r(Mnemonic::Sarx, 4, 0x8000_0000, 4), no_flags(0xf800_0000));
        assert_eq!(r(Mnemonic::Rorx, 4, 0x1, 1), no_flags(0x8000_0000));
        assert_eq!(r(Mnemonic::Rorx, 8, 0x12, 0), no_flags(0x12));
        assert_eq!(
            r(Mnemonic::Pdep, 4, 0b101, 0b1111_0000),
            no_flags(0b0101_0000)
        );
        assert_eq!(
            r(Mnemonic::Pext, 4, 0b1010_0000, 0b1111_0000),
            no_flags(0b1010)
        );
    }

    #[test]
    fn test_mulx_splits_the_product() {
        let res = compute(Mnemonic::Mulx, 8, u64::MAX, 0, 2).unwrap();
        assert_eq!(
            (res.dest, res.dest2, res.flags),
            (1, Some(u64::MAX - 1), None)
        );
        let res = compute(Mnemonic::Mulx, 4, 0x1_0000, 0, 0x1_0000).unwrap();
        assert_eq!((res.dest, res.dest2), (1, Some(0)));
    }

    #[test]
    fn test_compute_rejects_other_mnemonics() {
        assert!(compute(Mnemonic::Add, 4, 1, 1, 0).is_none());
    }
}
