//! Typed instructions back to raw slots.

use alloc::vec::Vec;

use super::insn::{AluOp, AtomicOp, ByteOrder, CallTarget, Imm64, Insn, JmpOp, Size, Src};
use super::opcode::{alu, atomic, class, jmp, mode, pseudo, size, src};
use super::raw::RawInsn;

fn size_bits(s: Size) -> u8 {
    match s {
        Size::W => size::W,
        Size::H => size::H,
        Size::B => size::B,
        Size::DW => size::DW,
    }
}

fn alu_code(op: AluOp) -> (u8, i16) {
    match op {
        AluOp::Add => (alu::ADD, 0),
        AluOp::Sub => (alu::SUB, 0),
        AluOp::Mul => (alu::MUL, 0),
        AluOp::Div => (alu::DIV, 0),
        AluOp::SDiv => (alu::DIV, 1),
        AluOp::Or => (alu::OR, 0),
        AluOp::And => (alu::AND, 0),
        AluOp::Lsh => (alu::LSH, 0),
        AluOp::Rsh => (alu::RSH, 0),
        AluOp::Mod => (alu::MOD, 0),
        AluOp::SMod => (alu::MOD, 1),
        AluOp::Xor => (alu::XOR, 0),
        AluOp::Mov => (alu::MOV, 0),
        AluOp::MovSx(bits) => (alu::MOV, i16::from(bits)),
        AluOp::Arsh => (alu::ARSH, 0),
    }
}

fn jmp_code(op: JmpOp) -> u8 {
    match op {
        JmpOp::Jeq => jmp::JEQ,
        JmpOp::Jgt => jmp::JGT,
        JmpOp::Jge => jmp::JGE,
        JmpOp::Jset => jmp::JSET,
        JmpOp::Jne => jmp::JNE,
        JmpOp::Jsgt => jmp::JSGT,
        JmpOp::Jsge => jmp::JSGE,
        JmpOp::Jlt => jmp::JLT,
        JmpOp::Jle => jmp::JLE,
        JmpOp::Jslt => jmp::JSLT,
        JmpOp::Jsle => jmp::JSLE,
    }
}

fn operand(s: Src) -> (u8, u8, i32) {
    match s {
        Src::Reg(r) => (src::X, r, 0),
        Src::Imm(i) => (src::K, 0, i),
    }
}

/// Encode one instruction into its one or two slots ([`Insn::Imm64Tail`]
/// encodes to nothing: its slot comes with the `LD_IMM64`).
pub fn encode(insn: &Insn, out: &mut Vec<RawInsn>) {
    let r = RawInsn::new;
    match *insn {
        Insn::Alu {
            wide,
            op,
            dst,
            src: s,
        } => {
            let cls = if wide { class::ALU64 } else { class::ALU };
            let (code, off) = alu_code(op);
            let (x, sreg, imm) = operand(s);
            out.push(r(cls | code | x, dst, sreg, off, imm));
        }
        Insn::Neg { wide, dst } => {
            let cls = if wide { class::ALU64 } else { class::ALU };
            out.push(r(cls | alu::NEG, dst, 0, 0, 0));
        }
        Insn::Endian { order, bits, dst } => {
            let code = match order {
                ByteOrder::ToLe => class::ALU | alu::END,
                ByteOrder::ToBe => class::ALU | alu::END | src::X,
                ByteOrder::Swap => class::ALU64 | alu::END,
            };
            out.push(r(code, dst, 0, 0, i32::from(bits)));
        }
        Insn::LdImm64 { dst, imm } => {
            let (s, lo, hi) = match imm {
                Imm64::Const(v) => (0, v as u32 as i32, (v >> 32) as u32 as i32),
                Imm64::MapFd(fd) => (pseudo::MAP_FD, fd, 0),
                Imm64::MapValue { fd, off } => (pseudo::MAP_VALUE, fd, off as i32),
                Imm64::BtfId(id) => (pseudo::BTF_ID, id, 0),
                Imm64::Func(off) => (pseudo::FUNC, off, 0),
                Imm64::MapIdx(i) => (pseudo::MAP_IDX, i, 0),
                Imm64::MapIdxValue { idx, off } => (pseudo::MAP_IDX_VALUE, idx, off as i32),
            };
            out.push(r(class::LD | mode::IMM | size::DW, dst, s, 0, lo));
            out.push(r(0, 0, 0, 0, hi));
        }
        Insn::Imm64Tail => {}
        Insn::LdPacket {
            indirect,
            size: sz,
            src: s,
            imm,
        } => {
            let m = if indirect { mode::IND } else { mode::ABS };
            out.push(r(class::LD | m | size_bits(sz), 0, s, 0, imm));
        }
        Insn::Ldx {
            size: sz,
            sx,
            dst,
            src: s,
            off,
        } => {
            let m = if sx { mode::MEMSX } else { mode::MEM };
            out.push(r(class::LDX | m | size_bits(sz), dst, s, off, 0));
        }
        Insn::St {
            size: sz,
            dst,
            off,
            imm,
        } => {
            out.push(r(class::ST | mode::MEM | size_bits(sz), dst, 0, off, imm));
        }
        Insn::Stx {
            size: sz,
            dst,
            src: s,
            off,
        } => {
            out.push(r(class::STX | mode::MEM | size_bits(sz), dst, s, off, 0));
        }
        Insn::Atomic {
            size: sz,
            op,
            fetch,
            dst,
            src: s,
            off,
        } => {
            let f = if fetch { atomic::FETCH } else { 0 };
            let imm = match op {
                AtomicOp::Add => atomic::ADD | f,
                AtomicOp::Or => atomic::OR | f,
                AtomicOp::And => atomic::AND | f,
                AtomicOp::Xor => atomic::XOR | f,
                AtomicOp::Xchg => atomic::XCHG,
                AtomicOp::CmpXchg => atomic::CMPXCHG,
            };
            out.push(r(
                class::STX | mode::ATOMIC | size_bits(sz),
                dst,
                s,
                off,
                imm,
            ));
        }
        Insn::Ja { off, long: false } => out.push(r(class::JMP | jmp::JA, 0, 0, off as i16, 0)),
        Insn::Ja { off, long: true } => out.push(r(class::JMP32 | jmp::JA, 0, 0, 0, off)),
        Insn::Jmp {
            wide,
            op,
            dst,
            src: s,
            off,
        } => {
            let cls = if wide { class::JMP } else { class::JMP32 };
            let (x, sreg, imm) = operand(s);
            out.push(r(cls | jmp_code(op) | x, dst, sreg, off, imm));
        }
        Insn::Call(t) => {
            let (s, imm) = match t {
                CallTarget::Helper(id) => (0, id),
                CallTarget::Local(off) => (pseudo::CALL, off),
                CallTarget::Kfunc(id) => (pseudo::KFUNC_CALL, id),
            };
            out.push(r(class::JMP | jmp::CALL, 0, s, 0, imm));
        }
        Insn::Exit => out.push(r(class::JMP | jmp::EXIT, 0, 0, 0, 0)),
    }
}

/// Encode a list of instructions (without [`Insn::Imm64Tail`] entries, or
/// with them: they are skipped).
pub fn encode_program(insns: &[Insn]) -> Vec<RawInsn> {
    let mut out = Vec::with_capacity(insns.len());
    for i in insns {
        encode(i, &mut out);
    }
    out
}

/// Encode to the flat little-endian byte image.
pub fn to_bytes(slots: &[RawInsn]) -> Vec<u8> {
    slots.iter().flat_map(|s| s.to_bytes()).collect()
}
