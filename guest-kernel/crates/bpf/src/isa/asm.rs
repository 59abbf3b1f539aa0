//! Constructors in the spirit of Linux's `BPF_*` macros (`BPF_MOV64_IMM`,
//! `BPF_LDX_MEM`, ...), for tests and hand-written programs.
//!
//! Jump offsets count slots, so an `LD_IMM64` counts as two, as in C.

use alloc::vec::Vec;

use super::encode::encode_program;
use super::insn::{AluOp, AtomicOp, CallTarget, Imm64, Insn, JmpOp, Size, Src};
use super::raw::RawInsn;

/// `dst = imm` (64-bit, sign-extended).
pub const fn mov64_imm(dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        wide: true,
        op: AluOp::Mov,
        dst,
        src: Src::Imm(imm),
    }
}

/// `dst = src` (64-bit).
pub const fn mov64_reg(dst: u8, src: u8) -> Insn {
    Insn::Alu {
        wide: true,
        op: AluOp::Mov,
        dst,
        src: Src::Reg(src),
    }
}

/// `w_dst = imm` (32-bit, zero-extended).
pub const fn mov32_imm(dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        wide: false,
        op: AluOp::Mov,
        dst,
        src: Src::Imm(imm),
    }
}

/// `w_dst = w_src`.
pub const fn mov32_reg(dst: u8, src: u8) -> Insn {
    Insn::Alu {
        wide: false,
        op: AluOp::Mov,
        dst,
        src: Src::Reg(src),
    }
}

/// `dst = (s<bits>) src` (64-bit sign-extending move).
pub const fn movsx64(dst: u8, src: u8, bits: u8) -> Insn {
    Insn::Alu {
        wide: true,
        op: AluOp::MovSx(bits),
        dst,
        src: Src::Reg(src),
    }
}

/// `w_dst = (s<bits>) w_src` (32-bit sign-extending move, zero-extended).
pub const fn movsx32(dst: u8, src: u8, bits: u8) -> Insn {
    Insn::Alu {
        wide: false,
        op: AluOp::MovSx(bits),
        dst,
        src: Src::Reg(src),
    }
}

/// `dst op= imm` (64-bit).
pub const fn alu64_imm(op: AluOp, dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        wide: true,
        op,
        dst,
        src: Src::Imm(imm),
    }
}

/// `dst op= src` (64-bit).
pub const fn alu64_reg(op: AluOp, dst: u8, src: u8) -> Insn {
    Insn::Alu {
        wide: true,
        op,
        dst,
        src: Src::Reg(src),
    }
}

/// `w_dst op= imm` (32-bit).
pub const fn alu32_imm(op: AluOp, dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        wide: false,
        op,
        dst,
        src: Src::Imm(imm),
    }
}

/// `w_dst op= w_src` (32-bit).
pub const fn alu32_reg(op: AluOp, dst: u8, src: u8) -> Insn {
    Insn::Alu {
        wide: false,
        op,
        dst,
        src: Src::Reg(src),
    }
}

/// `dst = -dst` (64-bit).
pub const fn neg64(dst: u8) -> Insn {
    Insn::Neg { wide: true, dst }
}

/// `dst = imm64`.
pub const fn ld_imm64(dst: u8, imm: u64) -> Insn {
    Insn::LdImm64 {
        dst,
        imm: Imm64::Const(imm),
    }
}

/// `dst = map` by file descriptor (`BPF_LD_MAP_FD`).
pub const fn ld_map_fd(dst: u8, fd: i32) -> Insn {
    Insn::LdImm64 {
        dst,
        imm: Imm64::MapFd(fd),
    }
}

/// `dst = &map_value[0] + off` (`BPF_LD_MAP_VALUE`).
pub const fn ld_map_value(dst: u8, fd: i32, off: u32) -> Insn {
    Insn::LdImm64 {
        dst,
        imm: Imm64::MapValue { fd, off },
    }
}

/// `dst = *(size *)(src + off)`.
pub const fn ldx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Ldx {
        size,
        sx: false,
        dst,
        src,
        off,
    }
}

/// `dst = *(s<size> *)(src + off)` (sign-extending load).
pub const fn ldxsx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Ldx {
        size,
        sx: true,
        dst,
        src,
        off,
    }
}

/// `*(size *)(dst + off) = imm`.
pub const fn st(size: Size, dst: u8, off: i16, imm: i32) -> Insn {
    Insn::St {
        size,
        dst,
        off,
        imm,
    }
}

/// `*(size *)(dst + off) = src`.
pub const fn stx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Stx {
        size,
        dst,
        src,
        off,
    }
}

/// Atomic `op` on `*(size *)(dst + off)` with `src`.
pub const fn atomic(size: Size, op: AtomicOp, fetch: bool, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Atomic {
        size,
        op,
        fetch,
        dst,
        src,
        off,
    }
}

/// `goto pc + 1 + off`.
pub const fn ja(off: i16) -> Insn {
    Insn::Ja {
        off: off as i32,
        long: false,
    }
}

/// `if dst op imm goto pc + 1 + off` (64-bit compare).
pub const fn jmp_imm(op: JmpOp, dst: u8, imm: i32, off: i16) -> Insn {
    Insn::Jmp {
        wide: true,
        op,
        dst,
        src: Src::Imm(imm),
        off,
    }
}

/// `if dst op src goto pc + 1 + off` (64-bit compare).
pub const fn jmp_reg(op: JmpOp, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Jmp {
        wide: true,
        op,
        dst,
        src: Src::Reg(src),
        off,
    }
}

/// `if w_dst op imm goto pc + 1 + off` (32-bit compare).
pub const fn jmp32_imm(op: JmpOp, dst: u8, imm: i32, off: i16) -> Insn {
    Insn::Jmp {
        wide: false,
        op,
        dst,
        src: Src::Imm(imm),
        off,
    }
}

/// `if w_dst op w_src goto pc + 1 + off` (32-bit compare).
pub const fn jmp32_reg(op: JmpOp, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Jmp {
        wide: false,
        op,
        dst,
        src: Src::Reg(src),
        off,
    }
}

/// Call helper `id`.
pub const fn call(id: i32) -> Insn {
    Insn::Call(CallTarget::Helper(id))
}

/// Call the BPF function at `pc + 1 + off`.
pub const fn call_local(off: i32) -> Insn {
    Insn::Call(CallTarget::Local(off))
}

/// Return r0.
pub const fn exit() -> Insn {
    Insn::Exit
}

/// Encode instructions into raw slots.
pub fn assemble(insns: &[Insn]) -> Vec<RawInsn> {
    encode_program(insns)
}
