//! Arithmetic instructions: scalar tracking, moves (with scalar ids), and
//! the pointer arithmetic rules (Linux's `check_alu_op`,
//! `adjust_reg_min_max_vals`, `adjust_ptr_min_max_vals`).

use super::bounds::Bounds;
use super::env::{Env, MAX_BPF_STACK, MAX_VAR_OFF};
use super::error::{access, inval, VResult};
use super::reg::{RegState, RegType};
use super::scalar_ops::{movsx, scalar_alu};
use crate::isa::{AluOp, Insn, Src};

/// Linux's `bpf_alu_string`.
fn alu_str(op: AluOp) -> &'static str {
    op.symbol()
}

impl<'a> Env<'a> {
    /// Check and apply an ALU instruction.
    pub fn check_alu(&mut self, insn: Insn) -> VResult<()> {
        match insn {
            Insn::Neg { dst, .. } | Insn::Endian { dst, .. } => {
                self.check_src(dst)?;
                if self.reg(dst).is_pointer() && !self.allow_ptr_leaks() {
                    return access!("R{dst} pointer arithmetic prohibited");
                }
                self.check_dst(dst)?;
                self.set_reg(dst, RegState::unknown());
                Ok(())
            }
            Insn::Alu {
                wide,
                op: op @ (AluOp::Mov | AluOp::MovSx(_)),
                dst,
                src,
            } => self.check_mov(wide, op, dst, src),
            Insn::Alu { wide, op, dst, src } => {
                if let Src::Reg(s) = src {
                    self.check_src(s)?;
                }
                self.check_src(dst)?;
                if let Src::Imm(imm) = src {
                    if matches!(op, AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod) && imm == 0
                    {
                        return inval!("div by zero");
                    }
                    let width = if wide { 64 } else { 32 };
                    if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh)
                        && !(0..width).contains(&imm)
                    {
                        return inval!("invalid shift {imm}");
                    }
                }
                self.check_dst(dst)?;
                self.adjust_reg(wide, op, dst, src)
            }
            _ => Ok(()),
        }
    }

    fn check_mov(&mut self, wide: bool, op: AluOp, dst: u8, src: Src) -> VResult<()> {
        let s = match src {
            Src::Imm(imm) => {
                self.check_dst(dst)?;
                let v = if wide {
                    imm as i64 as u64
                } else {
                    u64::from(imm as u32)
                };
                self.set_reg(dst, RegState::constant(v));
                return Ok(());
            }
            Src::Reg(s) => s,
        };
        self.check_src(s)?;
        self.check_dst(dst)?;
        let sreg = *self.reg(s);
        let need_id = sreg.is_scalar() && sreg.id == 0 && !sreg.b.is_const();
        let mut new = sreg;
        match (wide, op) {
            (true, _) if op == AluOp::Mov => {
                if need_id {
                    let id = self.new_id();
                    self.reg_mut(s).id = id;
                    new.id = id;
                }
            }
            (_, AluOp::MovSx(bits)) if sreg.is_pointer() => {
                if !self.allow_ptr_leaks() {
                    return access!("R{s} sign-extension part of pointer");
                }
                new = RegState::unknown();
                let _ = bits;
            }
            (_, AluOp::MovSx(bits)) => {
                let no_sext = sreg.b.umax < 1u64 << (bits - 1);
                if no_sext && need_id {
                    let id = self.new_id();
                    self.reg_mut(s).id = id;
                    new.id = id;
                }
                if !no_sext {
                    new.id = 0;
                }
                new.b = movsx(&sreg.b, bits, wide);
                new.precise = sreg.precise;
            }
            (false, _) if sreg.is_pointer() => {
                if !self.allow_ptr_leaks() {
                    return access!("R{s} partial copy of pointer");
                }
                new = RegState::unknown();
                new.b.zext32();
            }
            _ => {
                let fits = sreg.b.umax <= u64::from(u32::MAX);
                if fits && need_id {
                    let id = self.new_id();
                    self.reg_mut(s).id = id;
                    new.id = id;
                }
                if !fits {
                    new.id = 0;
                }
                new.b.zext32();
            }
        }
        self.set_reg(dst, new);
        Ok(())
    }

    fn adjust_reg(&mut self, wide: bool, op: AluOp, dst: u8, src: Src) -> VResult<()> {
        let d = *self.reg(dst);
        let (s, src_reg) = match src {
            Src::Reg(r) => (*self.reg(r), Some(r)),
            Src::Imm(imm) => (RegState::constant(imm as i64 as u64), None),
        };
        if s.is_pointer() {
            if d.is_pointer() {
                if op == AluOp::Sub && self.allow_ptr_leaks() {
                    self.set_reg(dst, RegState::unknown());
                    return Ok(());
                }
                return access!("R{dst} pointer {} pointer prohibited", alu_str(op));
            }
            // scalar += pointer
            self.mark_precise(dst)?;
            return self.adjust_ptr(wide, op, dst, s, d, true);
        }
        if d.is_pointer() {
            if let Some(r) = src_reg {
                self.mark_precise(r)?;
            }
            return self.adjust_ptr(wide, op, dst, d, s, false);
        }
        if d.precise {
            if let Some(r) = src_reg {
                self.mark_precise(r)?;
            }
        }
        let mut b = d.b;
        scalar_alu(op, &mut b, &s.b, wide);
        let mut new = RegState::scalar(b);
        new.precise = d.precise;
        self.set_reg(dst, new);
        self.sanity_check(dst)
    }

    /// An impossible register state: reset it to unknown, or fail with
    /// `EFAULT` under `BPF_F_TEST_REG_INVARIANTS`.
    pub fn sanity_check(&mut self, r: u8) -> VResult<()> {
        let reg = *self.reg(r);
        if reg.is_scalar() && reg.b.is_inconsistent() {
            let b = reg.b;
            let msg = alloc::format!(
                "REG INVARIANTS VIOLATION: R{r} u64=[{:#x}, {:#x}] s64=[{:#x}, {:#x}] u32=[{:#x}, {:#x}] s32=[{:#x}, {:#x}] var_off={}",
                b.umin, b.umax, b.smin, b.smax, b.u32_min, b.u32_max, b.s32_min, b.s32_max, b.var_off
            );
            if self.cfg.test_reg_invariants {
                return Err(super::error::Reject::new(super::error::Errno::Fault, msg));
            }
            self.log_line(&msg);
            self.reg_mut(r).b = Bounds::UNKNOWN;
        }
        Ok(())
    }

    /// `ptr op scalar` (or `scalar + ptr` when `swapped`).
    fn adjust_ptr(
        &mut self,
        wide: bool,
        op: AluOp,
        dst: u8,
        ptr: RegState,
        off: RegState,
        swapped: bool,
    ) -> VResult<()> {
        let name = ptr.type_name();
        if !wide {
            if op == AluOp::Sub && self.allow_ptr_leaks() {
                self.set_reg(dst, RegState::unknown());
                return Ok(());
            }
            return access!("R{dst} 32-bit pointer arithmetic prohibited");
        }
        if ptr.maybe_null {
            return access!("R{dst} pointer arithmetic on {name} prohibited, null-check it first");
        }
        let known = off.b.is_const();
        let (smin_v, smax_v, umin_v, umax_v) = (off.b.smin, off.b.smax, off.b.umin, off.b.umax);
        match ptr.ty {
            RegType::Ctx
            | RegType::MapValue
            | RegType::Stack
            | RegType::PacketMeta
            | RegType::Packet
            | RegType::Mem => {}
            RegType::ConstMap if known && smin_v == 0 && op == AluOp::Add => {}
            _ => return access!("R{dst} pointer arithmetic on {name} prohibited"),
        }
        if (known && (smin_v != smax_v || umin_v != umax_v)) || smin_v > smax_v || umin_v > umax_v {
            self.set_reg(dst, RegState::unknown());
            return Ok(());
        }
        self.check_sane_offset(&off, ptr.ty)?;
        self.check_sane_offset(&ptr, ptr.ty)?;
        let mut r = ptr;
        r.live = 0;
        r.precise = false;
        match op {
            AluOp::Add => {
                let fixed = i64::from(ptr.off) + smin_v;
                if known && i32::try_from(fixed).is_ok() {
                    r.off = fixed as i32;
                } else {
                    r.b = ptr_add(&ptr.b, &off.b);
                    if ptr.ty.is_pkt() {
                        r.id = self.new_id();
                        r.range = 0;
                    }
                }
            }
            AluOp::Sub => {
                if swapped {
                    return access!("R{dst} tried to subtract pointer from scalar");
                }
                if ptr.ty == RegType::Stack {
                    return access!("R{dst} subtraction from stack pointer prohibited");
                }
                let fixed = i64::from(ptr.off) - smin_v;
                if known && i32::try_from(fixed).is_ok() {
                    r.off = fixed as i32;
                } else {
                    r.b = ptr_sub(&ptr.b, &off.b);
                    if ptr.ty.is_pkt() {
                        r.id = self.new_id();
                        if smin_v < 0 {
                            r.range = 0;
                        }
                    }
                }
            }
            AluOp::And | AluOp::Or | AluOp::Xor => {
                return access!(
                    "R{dst} bitwise operator {} on pointer prohibited",
                    alu_str(op)
                );
            }
            _ => {
                return access!(
                    "R{dst} pointer arithmetic with {} operator prohibited",
                    alu_str(op)
                )
            }
        }
        r.b.unbound32();
        r.b.sync();
        self.check_sane_offset(&r, ptr.ty)?;
        if !self.allow_ptr_leaks() {
            self.sanitize_check_bounds(dst, &r)?;
        }
        self.set_reg(dst, r);
        Ok(())
    }

    fn check_sane_offset(&self, reg: &RegState, ty: RegType) -> VResult<()> {
        let name = ty.name();
        let known = reg.b.is_const();
        let val = reg.b.var_off.value as i64;
        if known && !(-MAX_VAR_OFF + 1..MAX_VAR_OFF).contains(&val) {
            return access!("math between {name} pointer and {val} is not allowed");
        }
        if !(-MAX_VAR_OFF + 1..MAX_VAR_OFF).contains(&i64::from(reg.off)) {
            return access!("{name} pointer offset {} is not allowed", reg.off);
        }
        if reg.b.smin == i64::MIN {
            return access!(
                "math between {name} pointer and register with unbounded min value is not allowed"
            );
        }
        if !(-MAX_VAR_OFF + 1..MAX_VAR_OFF).contains(&reg.b.smin) {
            return access!("value {} makes {name} pointer be out of bounds", reg.b.smin);
        }
        Ok(())
    }

    /// Unprivileged loaders: the result must stay inside its object.
    fn sanitize_check_bounds(&self, dst: u8, r: &RegState) -> VResult<()> {
        match r.ty {
            RegType::Stack => {
                if !r.b.is_const() {
                    return access!(
                        "R{dst} variable stack access prohibited for !root, var_off={} off={}",
                        r.b.var_off,
                        r.off
                    );
                }
                let off = i64::from(r.off) + r.b.var_off.value as i64;
                if !(-MAX_BPF_STACK..0).contains(&off) {
                    return access!("R{dst} stack pointer arithmetic goes out of range, prohibited for !root; off={off}");
                }
            }
            RegType::MapValue => {
                let size = i64::from(self.maps[r.map as usize].def.value_size);
                let lo = i64::from(r.off) + r.b.smin;
                let hi = i64::from(r.off) + r.b.umax as i64;
                if r.b.smin < 0 || lo < 0 || hi + 1 > size || r.b.umax >= MAX_VAR_OFF as u64 {
                    return access!("R{dst} pointer arithmetic of map value goes out of range, prohibited for !root");
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn ptr_add(p: &Bounds, o: &Bounds) -> Bounds {
    let mut r = Bounds::UNKNOWN;
    match (p.smin.checked_add(o.smin), p.smax.checked_add(o.smax)) {
        (Some(lo), Some(hi)) => (r.smin, r.smax) = (lo, hi),
        _ => (r.smin, r.smax) = (i64::MIN, i64::MAX),
    }
    match (p.umin.checked_add(o.umin), p.umax.checked_add(o.umax)) {
        (Some(lo), Some(hi)) => (r.umin, r.umax) = (lo, hi),
        _ => (r.umin, r.umax) = (0, u64::MAX),
    }
    r.var_off = p.var_off.add(o.var_off);
    r
}

fn ptr_sub(p: &Bounds, o: &Bounds) -> Bounds {
    let mut r = Bounds::UNKNOWN;
    match (p.smin.checked_sub(o.smax), p.smax.checked_sub(o.smin)) {
        (Some(lo), Some(hi)) => (r.smin, r.smax) = (lo, hi),
        _ => (r.smin, r.smax) = (i64::MIN, i64::MAX),
    }
    if p.umin < o.umax {
        (r.umin, r.umax) = (0, u64::MAX);
    } else {
        (r.umin, r.umax) = (p.umin - o.umax, p.umax - o.umin);
    }
    r.var_off = p.var_off.sub(o.var_off);
    r
}
