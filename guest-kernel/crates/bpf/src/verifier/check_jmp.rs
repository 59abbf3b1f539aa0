//! Conditional jumps: deciding branches statically, refining both
//! operands on each edge, null checks and packet ranges (Linux's
//! `check_cond_jmp_op`, `is_branch_taken`, `regs_refine_cond_op`,
//! `mark_ptr_or_null_regs`, `try_match_pkt_pointers`).

use super::bounds::Bounds;
use super::env::{Env, MAX_PACKET_OFF};
use super::error::{access, VResult};
use super::explore::Flow;
use super::reg::{RegState, RegType};
use super::state::VState;
use crate::isa::{Insn, JmpOp, Src};

/// A comparison as refined on one edge (`JsetNot` is the false edge of
/// `JSET`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cond {
    Op(JmpOp),
    JsetNot,
}

/// The comparison that holds on the fall-through edge.
fn reverse(op: JmpOp) -> Cond {
    Cond::Op(match op {
        JmpOp::Jeq => JmpOp::Jne,
        JmpOp::Jne => JmpOp::Jeq,
        JmpOp::Jgt => JmpOp::Jle,
        JmpOp::Jge => JmpOp::Jlt,
        JmpOp::Jlt => JmpOp::Jge,
        JmpOp::Jle => JmpOp::Jgt,
        JmpOp::Jsgt => JmpOp::Jsle,
        JmpOp::Jsge => JmpOp::Jslt,
        JmpOp::Jslt => JmpOp::Jsge,
        JmpOp::Jsle => JmpOp::Jsgt,
        JmpOp::Jset => return Cond::JsetNot,
    })
}

/// Ranges of one width as (umin, umax, smin, smax, tnum).
fn view(b: &Bounds, wide: bool) -> (u64, u64, i64, i64, super::tnum::Tnum) {
    if wide {
        (b.umin, b.umax, b.smin, b.smax, b.var_off)
    } else {
        (
            u64::from(b.u32_min),
            u64::from(b.u32_max),
            i64::from(b.s32_min),
            i64::from(b.s32_max),
            b.var_off.subreg(),
        )
    }
}

/// Whether `op` is always (Some(true)) or never (Some(false)) true.
fn scalar_branch_taken(a: &Bounds, b: &Bounds, op: JmpOp, wide: bool) -> Option<bool> {
    let (umin1, umax1, smin1, smax1, t1) = view(a, wide);
    let (umin2, umax2, smin2, smax2, t2) = view(b, wide);
    let disjoint = || {
        umin1 > umax2
            || umax1 < umin2
            || smin1 > smax2
            || smax1 < smin2
            || (wide
                && (a.u32_min > b.u32_max
                    || a.u32_max < b.u32_min
                    || a.s32_min > b.s32_max
                    || a.s32_max < b.s32_min))
    };
    match op {
        JmpOp::Jeq | JmpOp::Jne => {
            let eq = if t1.is_const() && t2.is_const() {
                Some(t1.value == t2.value)
            } else if disjoint() {
                Some(false)
            } else {
                None
            };
            if op == JmpOp::Jne {
                eq.map(|e| !e)
            } else {
                eq
            }
        }
        JmpOp::Jset => {
            let (t1, t2) = if t2.is_const() { (t1, t2) } else { (t2, t1) };
            if !t2.is_const() {
                return None;
            }
            if t1.value & t2.value != 0 {
                Some(true)
            } else if (t1.mask | t1.value) & t2.value == 0 {
                Some(false)
            } else {
                None
            }
        }
        JmpOp::Jgt => decide(umin1 > umax2, umax1 <= umin2),
        JmpOp::Jge => decide(umin1 >= umax2, umax1 < umin2),
        JmpOp::Jlt => decide(umax1 < umin2, umin1 >= umax2),
        JmpOp::Jle => decide(umax1 <= umin2, umin1 > umax2),
        JmpOp::Jsgt => decide(smin1 > smax2, smax1 <= smin2),
        JmpOp::Jsge => decide(smin1 >= smax2, smax1 < smin2),
        JmpOp::Jslt => decide(smax1 < smin2, smin1 >= smax2),
        JmpOp::Jsle => decide(smax1 <= smin2, smin1 > smax2),
    }
}

fn decide(always: bool, never: bool) -> Option<bool> {
    if always {
        Some(true)
    } else if never {
        Some(false)
    } else {
        None
    }
}

/// Pointers that can never be NULL (Linux's `reg_not_null`, our types).
fn not_null(r: &RegState) -> bool {
    !r.maybe_null && matches!(r.ty, RegType::MapValue | RegType::Mem)
}

fn branch_taken(a: &RegState, b: &RegState, op: JmpOp, wide: bool) -> Option<bool> {
    if is_pkt_any(a) && is_pkt_any(b) && wide {
        return None;
    }
    if a.is_pointer() || b.is_pointer() {
        let (p, s) = if b.is_scalar() && b.b.const_value(wide).is_some() {
            (a, b)
        } else {
            (b, a)
        };
        if !s.is_scalar() || s.b.const_value(wide) != Some(0) || !not_null(p) {
            return None;
        }
        return match op {
            JmpOp::Jeq => Some(false),
            JmpOp::Jne => Some(true),
            _ => None,
        };
    }
    scalar_branch_taken(&a.b, &b.b, op, wide)
}

/// Refine `a` and `b` assuming `cond` holds between them.
fn refine(a: &mut Bounds, b: &mut Bounds, cond: Cond, wide: bool) {
    let op = match cond {
        Cond::JsetNot => {
            if let Some(v) = b.const_value(wide) {
                let keep = super::tnum::Tnum::constant(!v);
                if wide {
                    a.var_off = a.var_off.and(keep);
                } else {
                    a.var_off = a.var_off.with_subreg(a.var_off.subreg().and(keep));
                }
            } else if let Some(v) = a.const_value(wide) {
                let keep = super::tnum::Tnum::constant(!v);
                if wide {
                    b.var_off = b.var_off.and(keep);
                } else {
                    b.var_off = b.var_off.with_subreg(b.var_off.subreg().and(keep));
                }
            }
            return;
        }
        Cond::Op(op) => op,
    };
    match op {
        JmpOp::Jgt | JmpOp::Jge | JmpOp::Jsgt | JmpOp::Jsge => {
            refine(b, a, Cond::Op(op.flip()), wide)
        }
        JmpOp::Jeq if wide => {
            a.umin = a.umin.max(b.umin);
            a.umax = a.umax.min(b.umax);
            a.smin = a.smin.max(b.smin);
            a.smax = a.smax.min(b.smax);
            a.var_off = a.var_off.intersect(b.var_off);
            (b.umin, b.umax, b.smin, b.smax, b.var_off) =
                (a.umin, a.umax, a.smin, a.smax, a.var_off);
        }
        JmpOp::Jeq => {
            a.u32_min = a.u32_min.max(b.u32_min);
            a.u32_max = a.u32_max.min(b.u32_max);
            a.s32_min = a.s32_min.max(b.s32_min);
            a.s32_max = a.s32_max.min(b.s32_max);
            (b.u32_min, b.u32_max, b.s32_min, b.s32_max) =
                (a.u32_min, a.u32_max, a.s32_min, a.s32_max);
            let t = a.var_off.subreg().intersect(b.var_off.subreg());
            a.var_off = a.var_off.with_subreg(t);
            b.var_off = b.var_off.with_subreg(t);
        }
        JmpOp::Jne => {
            let (x, v) = match (b.const_value(wide), a.const_value(wide)) {
                (Some(v), _) => (a, v),
                (None, Some(v)) => (b, v),
                _ => return,
            };
            if wide {
                if x.umin == v {
                    x.umin = x.umin.wrapping_add(1);
                }
                if x.umax == v {
                    x.umax = x.umax.wrapping_sub(1);
                }
                if x.smin == v as i64 {
                    x.smin = x.smin.wrapping_add(1);
                }
                if x.smax == v as i64 {
                    x.smax = x.smax.wrapping_sub(1);
                }
            } else {
                if x.u32_min == v as u32 {
                    x.u32_min = x.u32_min.wrapping_add(1);
                }
                if x.u32_max == v as u32 {
                    x.u32_max = x.u32_max.wrapping_sub(1);
                }
                if x.s32_min == v as i32 {
                    x.s32_min = x.s32_min.wrapping_add(1);
                }
                if x.s32_max == v as i32 {
                    x.s32_max = x.s32_max.wrapping_sub(1);
                }
            }
        }
        JmpOp::Jset => {
            let (x, v) = match (b.const_value(wide), a.const_value(wide)) {
                (Some(v), _) => (a, v),
                (None, Some(v)) => (b, v),
                _ => return,
            };
            if !v.is_power_of_two() {
                return;
            }
            let bit = super::tnum::Tnum::constant(v);
            if wide {
                x.var_off = x.var_off.or(bit);
            } else {
                x.var_off = x.var_off.with_subreg(x.var_off.subreg().or(bit));
            }
        }
        JmpOp::Jle if wide => {
            a.umax = a.umax.min(b.umax);
            b.umin = a.umin.max(b.umin);
        }
        JmpOp::Jle => {
            a.u32_max = a.u32_max.min(b.u32_max);
            b.u32_min = a.u32_min.max(b.u32_min);
        }
        JmpOp::Jlt if wide => {
            a.umax = a.umax.min(b.umax.wrapping_sub(1));
            b.umin = a.umin.wrapping_add(1).max(b.umin);
        }
        JmpOp::Jlt => {
            a.u32_max = a.u32_max.min(b.u32_max.wrapping_sub(1));
            b.u32_min = a.u32_min.wrapping_add(1).max(b.u32_min);
        }
        JmpOp::Jsle if wide => {
            a.smax = a.smax.min(b.smax);
            b.smin = a.smin.max(b.smin);
        }
        JmpOp::Jsle => {
            a.s32_max = a.s32_max.min(b.s32_max);
            b.s32_min = a.s32_min.max(b.s32_min);
        }
        JmpOp::Jslt if wide => {
            a.smax = a.smax.min(b.smax.wrapping_sub(1));
            b.smin = a.smin.wrapping_add(1).max(b.smin);
        }
        JmpOp::Jslt => {
            a.s32_max = a.s32_max.min(b.s32_max.wrapping_sub(1));
            b.s32_min = a.s32_min.wrapping_add(1).max(b.s32_min);
        }
    }
}

/// Every scalar sharing `known`'s id takes its refined value.
fn find_equal_scalars(st: &mut VState, known: &RegState) {
    if known.id == 0 {
        return;
    }
    for fs in &mut st.frames {
        for r in fs.regs.iter_mut() {
            if r.is_scalar() && r.id == known.id {
                r.set(*known);
            }
        }
        for s in fs.stack.iter_mut() {
            if s.is_spilled_scalar() && s.spilled.id == known.id {
                s.spilled.set(*known);
            }
        }
    }
}

/// Null check of pointers with `id`: null → scalar 0, otherwise not null.
fn mark_ptr_or_null(st: &mut VState, id: u32, is_null: bool) {
    let fix = |r: &mut RegState| {
        if r.maybe_null && r.id == id {
            if is_null {
                r.set(RegState::constant(0));
            } else {
                r.maybe_null = false;
                r.id = 0;
            }
        }
    };
    for fs in &mut st.frames {
        fs.regs.iter_mut().for_each(fix);
        for s in fs.stack.iter_mut() {
            if s.is_spill() {
                fix(&mut s.spilled);
            }
        }
    }
}

/// Packet pointers with `dst`'s id and type are readable up to its offset.
fn find_good_pkt_pointers(st: &mut VState, dst: &RegState, right_open: bool) {
    if dst.off < 0 || (dst.off == 0 && right_open) {
        return;
    }
    if dst.b.umax > MAX_PACKET_OFF || dst.b.umax + dst.off as u64 > MAX_PACKET_OFF {
        return;
    }
    let new_range = dst.off as u32 + u32::from(right_open);
    let (ty, id) = (dst.ty, dst.id);
    for fs in &mut st.frames {
        for r in fs.regs.iter_mut().chain(
            fs.stack
                .iter_mut()
                .filter(|s| s.is_spill())
                .map(|s| &mut s.spilled),
        ) {
            if r.ty == ty && r.id == id {
                r.range = r.range.max(new_range);
            }
        }
    }
}

fn is_init_pkt(r: &RegState, ty: RegType) -> bool {
    r.ty == ty && r.off == 0 && r.b.const_value(true) == Some(0)
}

impl<'a> Env<'a> {
    /// A conditional jump at `idx`.
    pub fn check_cond_jmp(&mut self, idx: usize, insn: Insn) -> VResult<Flow> {
        let Insn::Jmp {
            wide,
            op,
            dst,
            src,
            off,
        } = insn
        else {
            return Ok(Flow::Next(idx + 1));
        };
        let target = (idx as i64 + 1 + i64::from(off)) as usize;
        let mut d = *self.reg(dst);
        if let Src::Reg(s) = src {
            self.check_src(s)?;
            let sr = *self.reg(s);
            d = *self.reg(dst);
            let both_pkt = is_pkt_any(&d) && is_pkt_any(&sr);
            if !both_pkt && sr.is_pointer() && !self.allow_ptr_leaks() {
                return access!("R{s} pointer comparison prohibited");
            }
        }
        self.check_src(dst)?;
        let s = match src {
            Src::Reg(r) => *self.reg(r),
            Src::Imm(i) => RegState::constant(i as i64 as u64),
        };
        if let Some(taken) = branch_taken(&d, &s, op, wide) {
            if !d.is_pointer() {
                self.mark_precise(dst)?;
            }
            if let Src::Reg(r) = src {
                if !s.is_pointer() {
                    self.mark_precise(r)?;
                }
            }
            return Ok(Flow::Next(if taken { target } else { idx + 1 }));
        }
        let mut other = self.cur.clone();
        other.insn = target;
        // Scalar refinement on both edges.
        if d.is_scalar() && s.is_scalar() {
            let (mut fd, mut fs) = (d.b, s.b);
            refine(&mut fd, &mut fs, reverse(op), wide);
            let (mut td, mut ts) = (d.b, s.b);
            refine(&mut td, &mut ts, Cond::Op(op), wide);
            for b in [&mut fd, &mut fs, &mut td, &mut ts] {
                b.sync();
            }
            self.apply_refined(&mut other, dst, td, src, ts)?;
            self.apply_refined_cur(dst, fd, src, fs)?;
            self.push_branch(other)?;
            return Ok(Flow::Next(idx + 1));
        }
        if wide && src == Src::Imm(0) && matches!(op, JmpOp::Jeq | JmpOp::Jne) && d.maybe_null {
            let id = d.id;
            mark_ptr_or_null(&mut self.cur, id, op == JmpOp::Jne);
            mark_ptr_or_null(&mut other, id, op == JmpOp::Jeq);
        } else if !self.match_pkt_pointers(wide, op, dst, src, &d, &s, &mut other)
            && d.is_pointer()
            && !self.allow_ptr_leaks()
        {
            return access!("R{dst} pointer comparison prohibited");
        }
        self.push_branch(other)?;
        Ok(Flow::Next(idx + 1))
    }

    /// Write refined scalars into `st` (the taken edge) and propagate them
    /// to linked registers.
    fn apply_refined(
        &mut self,
        st: &mut VState,
        dst: u8,
        db: Bounds,
        src: Src,
        sb: Bounds,
    ) -> VResult<()> {
        core::mem::swap(&mut self.cur, st);
        let r = self.apply_refined_cur(dst, db, src, sb);
        core::mem::swap(&mut self.cur, st);
        r
    }

    fn apply_refined_cur(&mut self, dst: u8, db: Bounds, src: Src, sb: Bounds) -> VResult<()> {
        self.reg_mut(dst).b = db;
        self.sanity_check(dst)?;
        if let Src::Reg(s) = src {
            self.reg_mut(s).b = sb;
            self.sanity_check(s)?;
            let known = *self.reg(s);
            find_equal_scalars(&mut self.cur, &known);
        }
        let known = *self.reg(dst);
        find_equal_scalars(&mut self.cur, &known);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn match_pkt_pointers(
        &mut self,
        wide: bool,
        op: JmpOp,
        dst: u8,
        src: Src,
        d: &RegState,
        s: &RegState,
        other: &mut VState,
    ) -> bool {
        let Src::Reg(_) = src else { return false };
        if !wide {
            return false;
        }
        let _ = dst;
        let left = (d.ty == RegType::Packet && s.ty == RegType::PacketEnd)
            || (d.ty == RegType::PacketMeta && is_init_pkt(s, RegType::Packet));
        let right = (d.ty == RegType::PacketEnd && s.ty == RegType::Packet)
            || (is_init_pkt(d, RegType::Packet) && s.ty == RegType::PacketMeta);
        // (state to refine: fall-through = false, taken = true; which reg; right_open)
        let plan = match op {
            JmpOp::Jgt if left => (false, *d, false),
            JmpOp::Jgt if right => (true, *s, true),
            JmpOp::Jlt if left => (true, *d, true),
            JmpOp::Jlt if right => (false, *s, false),
            JmpOp::Jge if left => (false, *d, true),
            JmpOp::Jge if right => (true, *s, false),
            JmpOp::Jle if left => (true, *d, false),
            JmpOp::Jle if right => (false, *s, true),
            _ => return false,
        };
        let (taken, reg, open) = plan;
        if taken {
            find_good_pkt_pointers(other, &reg, open);
        } else {
            find_good_pkt_pointers(&mut self.cur, &reg, open);
        }
        true
    }
}

fn is_pkt_any(r: &RegState) -> bool {
    matches!(
        r.ty,
        RegType::Packet | RegType::PacketMeta | RegType::PacketEnd
    )
}
