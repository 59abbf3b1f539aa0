//! Raw slots to typed instructions, rejecting every malformed encoding.

use alloc::vec::Vec;

use super::error::{DecodeError, DecodeErrorKind as K};
use super::insn::{AluOp, AtomicOp, ByteOrder, CallTarget, Imm64, Insn, JmpOp, Size, Src, MAX_REG};
use super::opcode::{alu, atomic, class, jmp, mode, pseudo, size, src};
use super::raw::RawInsn;

type Result<T> = core::result::Result<T, K>;

/// Decode a whole program: one [`Insn`] per slot, the second slot of each
/// `LD_IMM64` decoding as [`Insn::Imm64Tail`].
pub fn decode_program(slots: &[RawInsn]) -> core::result::Result<Vec<Insn>, DecodeError> {
    let mut out = Vec::with_capacity(slots.len());
    let mut pc = 0;
    while pc < slots.len() {
        let insn = decode_at(slots, pc).map_err(|kind| DecodeError { pc, kind })?;
        out.push(insn);
        if insn.slots() == 2 {
            out.push(Insn::Imm64Tail);
        }
        pc += insn.slots();
    }
    Ok(out)
}

/// Decode the instruction starting at `slots[pc]` (which may need `pc + 1`).
pub fn decode_at(slots: &[RawInsn], pc: usize) -> Result<Insn> {
    let raw = slots[pc];
    match raw.code & 7 {
        class::ALU | class::ALU64 => decode_alu(raw),
        class::JMP | class::JMP32 => decode_jmp(raw),
        class::LDX => decode_ldx(raw),
        class::ST => decode_st(raw),
        class::STX => decode_stx(raw),
        _ => decode_ld(raw, slots.get(pc + 1).copied()),
    }
}

fn reg(r: u8) -> Result<u8> {
    if r > MAX_REG {
        Err(K::InvalidRegister(r))
    } else {
        Ok(r)
    }
}

fn size_of(code: u8) -> Size {
    match code & 0x18 {
        size::W => Size::W,
        size::H => Size::H,
        size::B => Size::B,
        _ => Size::DW,
    }
}

fn require(ok: bool, what: &'static str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(K::ReservedFields(what))
    }
}

fn decode_alu(raw: RawInsn) -> Result<Insn> {
    let wide = raw.code & 7 == class::ALU64;
    let op = raw.code & 0xf0;
    let x = raw.code & 0x08 == src::X;
    let dst = reg(raw.dst)?;
    match op {
        alu::NEG => {
            require(
                !x && raw.src == 0 && raw.off == 0 && raw.imm == 0,
                "BPF_NEG",
            )?;
            Ok(Insn::Neg { wide, dst })
        }
        alu::END => {
            require(raw.src == 0 && raw.off == 0 && !(wide && x), "BPF_END")?;
            if !matches!(raw.imm, 16 | 32 | 64) {
                return Err(K::InvalidEndianWidth(raw.imm));
            }
            let order = match (wide, x) {
                (true, _) => ByteOrder::Swap,
                (false, false) => ByteOrder::ToLe,
                (false, true) => ByteOrder::ToBe,
            };
            Ok(Insn::Endian {
                order,
                bits: raw.imm as u8,
                dst,
            })
        }
        alu::MOV => {
            let op = if x {
                let ok_off = match raw.off {
                    0 | 8 | 16 => true,
                    32 => wide,
                    _ => false,
                };
                require(ok_off && raw.imm == 0, "BPF_MOV")?;
                if raw.off == 0 {
                    AluOp::Mov
                } else {
                    AluOp::MovSx(raw.off as u8)
                }
            } else {
                require(raw.src == 0 && raw.off == 0, "BPF_MOV")?;
                AluOp::Mov
            };
            Ok(Insn::Alu {
                wide,
                op,
                dst,
                src: operand(raw, x)?,
            })
        }
        0xe0 | 0xf0 => Err(K::UnknownOpcode(raw.code)),
        _ => {
            let signed_ok = matches!(op, alu::DIV | alu::MOD);
            let off_ok = raw.off == 0 || (raw.off == 1 && signed_ok);
            let fields_ok = if x { raw.imm == 0 } else { raw.src == 0 };
            require(off_ok && fields_ok, "BPF_ALU")?;
            let signed = raw.off == 1;
            let op = match op {
                alu::ADD => AluOp::Add,
                alu::SUB => AluOp::Sub,
                alu::MUL => AluOp::Mul,
                alu::DIV if signed => AluOp::SDiv,
                alu::DIV => AluOp::Div,
                alu::OR => AluOp::Or,
                alu::AND => AluOp::And,
                alu::LSH => AluOp::Lsh,
                alu::RSH => AluOp::Rsh,
                alu::MOD if signed => AluOp::SMod,
                alu::MOD => AluOp::Mod,
                alu::XOR => AluOp::Xor,
                _ => AluOp::Arsh,
            };
            Ok(Insn::Alu {
                wide,
                op,
                dst,
                src: operand(raw, x)?,
            })
        }
    }
}

fn operand(raw: RawInsn, x: bool) -> Result<Src> {
    if x {
        Ok(Src::Reg(reg(raw.src)?))
    } else {
        Ok(Src::Imm(raw.imm))
    }
}

fn decode_jmp(raw: RawInsn) -> Result<Insn> {
    let wide = raw.code & 7 == class::JMP;
    let x = raw.code & 0x08 == src::X;
    let op = match raw.code & 0xf0 {
        jmp::JA => {
            let ok = !x
                && raw.src == 0
                && raw.dst == 0
                && if wide { raw.imm == 0 } else { raw.off == 0 };
            require(ok, "BPF_JA")?;
            let off = if wide { i32::from(raw.off) } else { raw.imm };
            return Ok(Insn::Ja { off, long: !wide });
        }
        jmp::CALL => {
            if !wide {
                return Err(K::UnknownOpcode(raw.code));
            }
            require(!x && raw.off == 0 && raw.dst == 0, "BPF_CALL")?;
            let target = match raw.src {
                0 => CallTarget::Helper(raw.imm),
                pseudo::CALL => CallTarget::Local(raw.imm),
                pseudo::KFUNC_CALL => CallTarget::Kfunc(raw.imm),
                s => return Err(K::InvalidCallSrc(s)),
            };
            return Ok(Insn::Call(target));
        }
        jmp::EXIT => {
            if !wide {
                return Err(K::UnknownOpcode(raw.code));
            }
            require(
                !x && raw.imm == 0 && raw.src == 0 && raw.dst == 0 && raw.off == 0,
                "BPF_EXIT",
            )?;
            return Ok(Insn::Exit);
        }
        jmp::JEQ => JmpOp::Jeq,
        jmp::JGT => JmpOp::Jgt,
        jmp::JGE => JmpOp::Jge,
        jmp::JSET => JmpOp::Jset,
        jmp::JNE => JmpOp::Jne,
        jmp::JSGT => JmpOp::Jsgt,
        jmp::JSGE => JmpOp::Jsge,
        jmp::JLT => JmpOp::Jlt,
        jmp::JLE => JmpOp::Jle,
        jmp::JSLT => JmpOp::Jslt,
        jmp::JSLE => JmpOp::Jsle,
        _ => return Err(K::UnknownOpcode(raw.code)),
    };
    require(if x { raw.imm == 0 } else { raw.src == 0 }, "BPF_JMP/JMP32")?;
    Ok(Insn::Jmp {
        wide,
        op,
        dst: reg(raw.dst)?,
        src: operand(raw, x)?,
        off: raw.off,
    })
}

fn decode_ldx(raw: RawInsn) -> Result<Insn> {
    let size = size_of(raw.code);
    let sx = match raw.code & 0xe0 {
        mode::MEM => false,
        mode::MEMSX if size != Size::DW => true,
        _ => return Err(K::UnknownOpcode(raw.code)),
    };
    require(raw.imm == 0, "BPF_LDX")?;
    Ok(Insn::Ldx {
        size,
        sx,
        dst: reg(raw.dst)?,
        src: reg(raw.src)?,
        off: raw.off,
    })
}

fn decode_st(raw: RawInsn) -> Result<Insn> {
    if raw.code & 0xe0 != mode::MEM {
        return Err(K::UnknownOpcode(raw.code));
    }
    require(raw.src == 0, "BPF_ST")?;
    Ok(Insn::St {
        size: size_of(raw.code),
        dst: reg(raw.dst)?,
        off: raw.off,
        imm: raw.imm,
    })
}

fn decode_stx(raw: RawInsn) -> Result<Insn> {
    let size = size_of(raw.code);
    let (dst, src_reg, off) = (reg(raw.dst)?, reg(raw.src)?, raw.off);
    match raw.code & 0xe0 {
        mode::MEM => {
            require(raw.imm == 0, "BPF_STX")?;
            Ok(Insn::Stx {
                size,
                dst,
                src: src_reg,
                off,
            })
        }
        mode::ATOMIC => {
            if !matches!(size, Size::W | Size::DW) {
                return Err(K::InvalidAtomicSize);
            }
            let fetch = raw.imm & atomic::FETCH != 0;
            let op = match raw.imm {
                atomic::XCHG => AtomicOp::Xchg,
                atomic::CMPXCHG => AtomicOp::CmpXchg,
                i if i & !atomic::FETCH == atomic::ADD => AtomicOp::Add,
                i if i & !atomic::FETCH == atomic::OR => AtomicOp::Or,
                i if i & !atomic::FETCH == atomic::AND => AtomicOp::And,
                i if i & !atomic::FETCH == atomic::XOR => AtomicOp::Xor,
                i => return Err(K::InvalidAtomicOp(i)),
            };
            Ok(Insn::Atomic {
                size,
                op,
                fetch,
                dst,
                src: src_reg,
                off,
            })
        }
        _ => Err(K::UnknownOpcode(raw.code)),
    }
}

fn decode_ld(raw: RawInsn, next: Option<RawInsn>) -> Result<Insn> {
    let size = size_of(raw.code);
    match raw.code & 0xe0 {
        mode::IMM if size == Size::DW => {
            let next = next.ok_or(K::InvalidLdImm64)?;
            if next.code != 0 || next.dst != 0 || next.src != 0 || next.off != 0 || raw.off != 0 {
                return Err(K::InvalidLdImm64);
            }
            let dst = reg(raw.dst)?;
            let lo = raw.imm as u32 as u64;
            let hi = next.imm as u32 as u64;
            let must_be_zero = |imm: Imm64| {
                if next.imm == 0 {
                    Ok(imm)
                } else {
                    Err(K::UnknownLdImm64Src(raw.src))
                }
            };
            let imm = match raw.src {
                0 => Imm64::Const(lo | (hi << 32)),
                pseudo::MAP_FD => must_be_zero(Imm64::MapFd(raw.imm))?,
                pseudo::MAP_VALUE => Imm64::MapValue {
                    fd: raw.imm,
                    off: next.imm as u32,
                },
                pseudo::BTF_ID => must_be_zero(Imm64::BtfId(raw.imm))?,
                pseudo::FUNC => must_be_zero(Imm64::Func(raw.imm))?,
                pseudo::MAP_IDX => must_be_zero(Imm64::MapIdx(raw.imm))?,
                pseudo::MAP_IDX_VALUE => Imm64::MapIdxValue {
                    idx: raw.imm,
                    off: next.imm as u32,
                },
                s => return Err(K::UnknownLdImm64Src(s)),
            };
            Ok(Insn::LdImm64 { dst, imm })
        }
        mode::ABS | mode::IND if size != Size::DW => {
            let indirect = raw.code & 0xe0 == mode::IND;
            let ok = raw.dst == 0 && raw.off == 0 && (indirect || raw.src == 0);
            require(ok, "BPF_LD_[ABS|IND]")?;
            Ok(Insn::LdPacket {
                indirect,
                size,
                src: reg(raw.src)?,
                imm: raw.imm,
            })
        }
        _ => Err(K::UnknownOpcode(raw.code)),
    }
}
