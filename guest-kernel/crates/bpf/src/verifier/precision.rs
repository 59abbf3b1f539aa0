//! Precision tracking: when a scalar's exact value matters, walk the path
//! backwards and mark every register and stack slot it was computed from
//! as precise in the checkpoints along the way, so pruning compares them
//! (the idea of Linux's `__mark_chain_precision`).

use super::env::{Env, MAX_CALL_FRAMES};
use super::error::VResult;
use super::state::{Hist, VState};
use crate::isa::{AluOp, AtomicOp, CallTarget, Imm64, Insn, Src};

/// The registers and slots still being traced, per frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bt {
    regs: [u16; MAX_CALL_FRAMES],
    slots: [u64; MAX_CALL_FRAMES],
}

impl Bt {
    /// Trace register `r` of frame `f`.
    pub fn set_reg(&mut self, f: usize, r: usize) {
        self.regs[f] |= 1 << r;
    }

    /// Trace slot `spi` of frame `f`.
    pub fn set_slot(&mut self, f: usize, spi: usize) {
        if spi < 64 {
            self.slots[f] |= 1 << spi;
        }
    }

    fn reg(&self, f: usize, r: u8) -> bool {
        self.regs[f] & (1 << r) != 0
    }

    fn clear_reg(&mut self, f: usize, r: u8) {
        self.regs[f] &= !(1 << r);
    }

    fn slot(&self, f: usize, spi: usize) -> bool {
        spi < 64 && self.slots[f] & (1 << spi) != 0
    }

    fn clear_slot(&mut self, f: usize, spi: usize) {
        if spi < 64 {
            self.slots[f] &= !(1 << spi);
        }
    }

    /// Nothing left to trace.
    pub fn is_empty(&self) -> bool {
        self.regs.iter().all(|r| *r == 0) && self.slots.iter().all(|s| *s == 0)
    }
}

/// Backtracking met something it does not follow; fall back to marking
/// everything precise.
struct Unsupported;

/// Undo one instruction: which registers/slots fed the traced ones.
fn backtrack_insn(insn: &Insn, h: &Hist, bt: &mut Bt) -> Result<(), Unsupported> {
    let f = h.frame as usize;
    match *insn {
        Insn::Alu { op, dst, src, .. } => {
            if !bt.reg(f, dst) {
                return Ok(());
            }
            if matches!(op, AluOp::Mov | AluOp::MovSx(_)) {
                bt.clear_reg(f, dst);
            }
            if let Src::Reg(s) = src {
                bt.set_reg(f, s as usize);
            }
        }
        Insn::Neg { .. } | Insn::Endian { .. } | Insn::Ja { .. } => {}
        Insn::LdImm64 { dst, imm } => {
            if bt.reg(f, dst) {
                if !matches!(imm, Imm64::Const(_)) {
                    return Err(Unsupported);
                }
                bt.clear_reg(f, dst);
            }
        }
        Insn::LdPacket { .. } => {
            if bt.reg(f, 0) {
                bt.clear_reg(f, 0);
            }
            if (1..=5).any(|r| bt.reg(f, r)) {
                return Err(Unsupported);
            }
        }
        Insn::Ldx { dst, .. } => {
            if !bt.reg(f, dst) {
                return Ok(());
            }
            bt.clear_reg(f, dst);
            if let Some((sf, spi)) = h.stack {
                bt.set_slot(sf as usize, spi as usize);
            }
        }
        Insn::St { .. } | Insn::Stx { .. } => {
            let Some((sf, spi)) = h.stack else {
                return Ok(());
            };
            if !bt.slot(sf as usize, spi as usize) {
                return Ok(());
            }
            bt.clear_slot(sf as usize, spi as usize);
            if let Insn::Stx { src, .. } = *insn {
                bt.set_reg(f, src as usize);
            }
        }
        Insn::Atomic { op, fetch, src, .. } => {
            if op == AtomicOp::CmpXchg && bt.reg(f, 0) {
                bt.clear_reg(f, 0);
            } else if fetch && bt.reg(f, src) {
                bt.clear_reg(f, src);
            }
        }
        Insn::Jmp {
            dst,
            src: Src::Reg(s),
            ..
        } => {
            if bt.reg(f, dst) || bt.reg(f, s) {
                bt.set_reg(f, dst as usize);
                bt.set_reg(f, s as usize);
            }
        }
        Insn::Jmp { .. } => {}
        Insn::Call(CallTarget::Local(_)) => {
            // Going back from the callee's first instruction into the
            // caller: the callee's r1-r5 were the caller's.
            if f + 1 < MAX_CALL_FRAMES {
                for r in 1..=5u8 {
                    if bt.reg(f + 1, r) {
                        bt.set_reg(f, r as usize);
                    }
                }
                bt.regs[f + 1] = 0;
                bt.slots[f + 1] = 0;
            }
            bt.clear_reg(f, 0);
        }
        Insn::Call(_) => {
            bt.clear_reg(f, 0);
            if (1..=5).any(|r| bt.reg(f, r)) {
                return Err(Unsupported);
            }
        }
        Insn::Exit => {
            // Going back from the caller (after the return) into the callee.
            if f >= 1 {
                if bt.reg(f - 1, 0) {
                    bt.clear_reg(f - 1, 0);
                    bt.set_reg(f, 0);
                }
                for r in 1..=5u8 {
                    bt.clear_reg(f - 1, r);
                }
            }
        }
        Insn::Imm64Tail => return Err(Unsupported),
    }
    Ok(())
}

/// Mark what `bt` names precise in a checkpoint state; drop from `bt` what
/// is not a scalar or was already precise.
fn mark_in_state(st: &mut VState, bt: &mut Bt) {
    for f in 0..MAX_CALL_FRAMES {
        if f >= st.frames.len() {
            bt.regs[f] = 0;
            bt.slots[f] = 0;
            continue;
        }
        let fs = &mut st.frames[f];
        for r in 0..11u8 {
            if !bt.reg(f, r) {
                continue;
            }
            let reg = &mut fs.regs[r as usize];
            if !reg.is_scalar() || reg.precise {
                bt.clear_reg(f, r);
            } else {
                reg.precise = true;
            }
        }
        for spi in 0..64usize {
            if !bt.slot(f, spi) {
                continue;
            }
            match fs.stack.get_mut(spi) {
                Some(slot) if slot.is_spilled_scalar() && !slot.spilled.precise => {
                    slot.spilled.precise = true
                }
                _ => bt.clear_slot(f, spi),
            }
        }
    }
}

fn mark_all_precise(st: &mut VState) {
    for fs in &mut st.frames {
        for r in fs.regs.iter_mut().filter(|r| r.is_scalar()) {
            r.precise = true;
        }
        for s in fs.stack.iter_mut().filter(|s| s.is_spilled_scalar()) {
            s.spilled.precise = true;
        }
    }
}

impl<'a> Env<'a> {
    /// Make register `r` of the current frame precise along the path.
    pub fn mark_precise(&mut self, r: u8) -> VResult<()> {
        if !self.reg(r).is_scalar() {
            return Ok(());
        }
        let mut bt = Bt::default();
        bt.set_reg(self.cur.curframe(), r as usize);
        self.mark_chain_precision(bt, true)
    }

    /// Backtrack `bt` through the current history (skipping the
    /// instruction being processed when `skip_current`) and the parent
    /// checkpoints.
    pub fn mark_chain_precision(&mut self, mut bt: Bt, skip_current: bool) -> VResult<()> {
        if bt.is_empty() {
            return Ok(());
        }
        let n = self.cur.history.len();
        let upto = if skip_current { n.saturating_sub(1) } else { n };
        let mut ok = true;
        for h in self.cur.history[..upto].iter().rev() {
            if backtrack_insn(&self.prog[h.idx as usize], h, &mut bt).is_err() {
                ok = false;
                break;
            }
        }
        let mut cp = self.cur.parent;
        while ok {
            let Some(i) = cp else { break };
            let c = &mut self.cps[i as usize];
            mark_in_state(&mut c.state, &mut bt);
            if bt.is_empty() {
                return Ok(());
            }
            for h in c.state.history.iter().rev() {
                if backtrack_insn(&self.prog[h.idx as usize], h, &mut bt).is_err() {
                    ok = false;
                    break;
                }
            }
            cp = c.state.parent;
        }
        if !ok {
            let mut cp = self.cur.parent;
            while let Some(i) = cp {
                let c = &mut self.cps[i as usize];
                mark_all_precise(&mut c.state);
                cp = c.state.parent;
            }
        }
        Ok(())
    }
}
