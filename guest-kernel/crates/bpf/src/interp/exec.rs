//! The fetch-execute loop.

use alloc::vec::Vec;

use super::alu::{alu32, alu64, cond32, cond64, endian, sign_extend};
use super::call::call_helper;
use super::memory::{map_base, Fault, Memory, FRAME_SIZE, MAP_HANDLE_TAG, MAX_FRAMES, STACK_TOP};
use super::{Input, Outcome, Trap, CTX_BASE};
use crate::helpers::HelperEnv;
use crate::isa::{AtomicOp, CallTarget, Imm64, Insn, Size, Src};
use crate::maps::MapSet;

/// A caller's state saved across a BPF-to-BPF call.
struct Frame {
    ret_pc: usize,
    saved: [u64; 4],
    fp: u64,
    init: u16,
}

const CALLER_SAVED: u16 = 0b11_1110;

fn fault(pc: usize, f: Fault) -> Trap {
    match f {
        Fault::OutOfBounds { addr, len, write } => Trap::OutOfBounds {
            pc,
            addr,
            len,
            write,
        },
        Fault::Uninit { addr } => Trap::UninitStack { pc, addr },
    }
}

fn ld_imm64(imm: Imm64, maps: &MapSet, pc: usize) -> Result<u64, Trap> {
    match imm {
        Imm64::Const(v) => Ok(v),
        Imm64::MapFd(fd) => {
            let i = maps.index_of(fd).ok_or(Trap::BadMap { pc })?;
            Ok(MAP_HANDLE_TAG | i as u64)
        }
        Imm64::MapValue { fd, off } => {
            let i = maps.index_of(fd).ok_or(Trap::BadMap { pc })?;
            Ok(map_base(i) + u64::from(off))
        }
        _ => Err(Trap::Unsupported { pc }),
    }
}

/// Atomic read-modify-write; returns the old value.
fn atomic(
    mem: &mut Memory<'_>,
    addr: u64,
    len: usize,
    op: AtomicOp,
    src: u64,
    r0: u64,
) -> Result<(u64, bool), Fault> {
    let old = mem.load(addr, len)?;
    let mask = if len == 8 { u64::MAX } else { 0xffff_ffff };
    let new = match op {
        AtomicOp::Add => old.wrapping_add(src),
        AtomicOp::Or => old | src,
        AtomicOp::And => old & src,
        AtomicOp::Xor => old ^ src,
        AtomicOp::Xchg => src,
        AtomicOp::CmpXchg if old == r0 & mask => src,
        AtomicOp::CmpXchg => return Ok((old, false)),
    };
    mem.store(addr, len, new & mask)?;
    Ok((old, true))
}

pub(super) fn execute<E: HelperEnv + ?Sized, const CHECKED: bool>(
    prog: &[Insn],
    input: Input<'_>,
    maps: &mut MapSet,
    env: &mut E,
    max_insns: u64,
) -> Result<Outcome, Trap> {
    let ctx_len = input.ctx.len() as u64;
    let mut mem = Memory::new(input.ctx, input.packet, maps, CHECKED);
    let mut reg = [0u64; 11];
    reg[1] = CTX_BASE;
    reg[2] = ctx_len;
    reg[10] = STACK_TOP;
    let mut init: u16 = 1 << 1 | 1 << 2 | 1 << 10;
    let mut frames: Vec<Frame> = Vec::new();
    let mut pc = 0usize;
    let mut executed = 0u64;

    macro_rules! get {
        ($r:expr) => {{
            let r = $r;
            if CHECKED && init & (1 << r) == 0 {
                return Err(Trap::UninitReg { pc, reg: r });
            }
            reg[r as usize]
        }};
    }
    macro_rules! set {
        ($r:expr, $v:expr) => {{
            let v = $v;
            let r = $r as usize;
            reg[r] = v;
            if CHECKED {
                init |= 1 << r;
            }
        }};
    }

    loop {
        let insn = *prog.get(pc).ok_or(Trap::BadJump { pc })?;
        executed += 1;
        if executed > max_insns {
            return Err(Trap::InstructionLimit);
        }
        let mut next = pc + 1;
        match insn {
            Insn::Alu { wide, op, dst, src } => {
                let s = match src {
                    Src::Reg(r) => get!(r),
                    Src::Imm(i) if wide => i as i64 as u64,
                    Src::Imm(i) => u64::from(i as u32),
                };
                let d = if matches!(op, crate::isa::AluOp::Mov | crate::isa::AluOp::MovSx(_)) {
                    0
                } else {
                    get!(dst)
                };
                let v = if wide {
                    alu64(op, d, s)
                } else {
                    u64::from(alu32(op, d as u32, s as u32))
                };
                set!(dst, v);
            }
            Insn::Neg { wide, dst } => {
                let d = get!(dst);
                let v = if wide {
                    d.wrapping_neg()
                } else {
                    u64::from((d as u32).wrapping_neg())
                };
                set!(dst, v);
            }
            Insn::Endian { order, bits, dst } => {
                let d = get!(dst);
                set!(dst, endian(order, bits, d));
            }
            Insn::LdImm64 { dst, imm } => {
                set!(dst, ld_imm64(imm, mem.maps(), pc)?);
                next = pc + 2;
            }
            Insn::Imm64Tail => return Err(Trap::BadJump { pc }),
            Insn::LdPacket {
                indirect,
                size,
                src,
                imm,
            } => {
                let base = if indirect { get!(src) as u32 } else { 0 };
                let off = base.wrapping_add(imm as u32);
                let len = size.bytes() as usize;
                match mem.load(super::PACKET_BASE + u64::from(off), len) {
                    Ok(v) => set!(
                        0,
                        endian(crate::isa::ByteOrder::ToBe, (len * 8) as u8, v) & size_mask(size)
                    ),
                    Err(_) => return Ok(Outcome { r0: 0, executed }),
                }
                if CHECKED {
                    init &= !CALLER_SAVED;
                }
            }
            Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => {
                let addr = get!(src).wrapping_add(off as i64 as u64);
                let len = size.bytes();
                let v = mem.load(addr, len as usize).map_err(|f| fault(pc, f))?;
                set!(dst, if sx { sign_extend(v, len) } else { v });
            }
            Insn::St {
                size,
                dst,
                off,
                imm,
            } => {
                let addr = get!(dst).wrapping_add(off as i64 as u64);
                mem.store(addr, size.bytes() as usize, imm as i64 as u64)
                    .map_err(|f| fault(pc, f))?;
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                let addr = get!(dst).wrapping_add(off as i64 as u64);
                let v = get!(src);
                mem.store(addr, size.bytes() as usize, v)
                    .map_err(|f| fault(pc, f))?;
            }
            Insn::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => {
                let addr = get!(dst).wrapping_add(off as i64 as u64);
                let s = get!(src);
                let r0 = if op == AtomicOp::CmpXchg { get!(0) } else { 0 };
                let len = size.bytes() as usize;
                let (old, _) = atomic(&mut mem, addr, len, op, s, r0).map_err(|f| fault(pc, f))?;
                if op == AtomicOp::CmpXchg {
                    set!(0, old);
                } else if fetch {
                    set!(src, old);
                }
            }
            Insn::Ja { off, .. } => next = (pc as i64 + 1 + i64::from(off)) as usize,
            Insn::Jmp {
                wide,
                op,
                dst,
                src,
                off,
            } => {
                let a = get!(dst);
                let b = match src {
                    Src::Reg(r) => get!(r),
                    Src::Imm(i) => i as i64 as u64,
                };
                let taken = if wide {
                    cond64(op, a, b)
                } else {
                    cond32(op, a as u32, b as u32)
                };
                if taken {
                    next = (pc as i64 + 1 + i64::from(off)) as usize;
                }
            }
            Insn::Call(CallTarget::Helper(id)) => {
                let args = [reg[1], reg[2], reg[3], reg[4], reg[5]];
                let r0 = call_helper(id, args, &mut mem, env, pc)?;
                set!(0, r0);
                if CHECKED {
                    init &= !CALLER_SAVED;
                }
            }
            Insn::Call(CallTarget::Local(off)) => {
                if frames.len() + 1 >= MAX_FRAMES {
                    return Err(Trap::CallDepth { pc });
                }
                frames.push(Frame {
                    ret_pc: pc + 1,
                    saved: [reg[6], reg[7], reg[8], reg[9]],
                    fp: reg[10],
                    init,
                });
                reg[10] -= FRAME_SIZE as u64;
                mem.depth = frames.len();
                if CHECKED {
                    init = (init & CALLER_SAVED) | 1 << 10;
                }
                next = (pc as i64 + 1 + i64::from(off)) as usize;
            }
            Insn::Call(CallTarget::Kfunc(_)) => return Err(Trap::Unsupported { pc }),
            Insn::Exit => {
                let r0 = get!(0);
                match frames.pop() {
                    None => return Ok(Outcome { r0, executed }),
                    Some(f) => {
                        mem.drop_frame(frames.len() + 1);
                        mem.depth = frames.len();
                        reg[6..10].copy_from_slice(&f.saved);
                        reg[10] = f.fp;
                        init = (f.init & !CALLER_SAVED) | 1;
                        next = f.ret_pc;
                    }
                }
            }
        }
        pc = next;
    }
}

fn size_mask(size: Size) -> u64 {
    match size {
        Size::B => 0xff,
        Size::H => 0xffff,
        Size::W => 0xffff_ffff,
        Size::DW => u64::MAX,
    }
}
