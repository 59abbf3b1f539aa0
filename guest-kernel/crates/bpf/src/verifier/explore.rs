//! The depth-first walk over all paths: the worklist of pending branch
//! states, checkpoints at prune points, loop detection and the complexity
//! limits (Linux's `do_check` and `is_state_visited`).

use alloc::format;
use alloc::vec::Vec;

use super::env::{Env, COMPLEXITY_LIMIT_INSNS, COMPLEXITY_LIMIT_JMP_SEQ};
use super::error::{inval, Errno, Reject, VResult};
use super::precision::Bt;
use super::prune::{states_equal, states_equal_all_precise, states_maybe_looping};
use super::state::{Checkpoint, Hist, VState};
use crate::isa::{CallTarget, Insn};

/// Where control goes after an instruction.
pub enum Flow {
    /// Continue at this instruction.
    Next(usize),
    /// The path ended (exit from the main program).
    Done,
}

impl<'a> Env<'a> {
    /// Explore every path from the current state.
    pub fn do_check(&mut self) -> VResult<()> {
        loop {
            let idx = self.cur.insn;
            if idx >= self.prog.len() {
                return inval!("invalid insn idx {idx} insn_cnt {}", self.prog.len());
            }
            self.insn_processed += 1;
            if self.insn_processed > COMPLEXITY_LIMIT_INSNS {
                return Err(Reject::new(
                    Errno::TooBig,
                    format!(
                        "BPF program is too large. Processed {} insn",
                        self.insn_processed
                    ),
                ));
            }
            if self.prune_point[idx] && self.is_state_visited(idx)? {
                self.prune_hits += 1;
                if !self.next_path() {
                    return Ok(());
                }
                continue;
            }
            let frame = self.cur.curframe() as u8;
            self.cur.history.push(Hist {
                idx: idx as u32,
                frame,
                stack: None,
            });
            let insn = self.prog[idx];
            if matches!(
                insn,
                Insn::Ja { .. } | Insn::Jmp { .. } | Insn::Call(_) | Insn::Exit
            ) {
                self.jmps_processed += 1;
            }
            match self.step(idx, insn)? {
                Flow::Next(n) => self.cur.insn = n,
                Flow::Done => {
                    if !self.next_path() {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn step(&mut self, idx: usize, insn: Insn) -> VResult<Flow> {
        match insn {
            Insn::Alu { .. } | Insn::Neg { .. } | Insn::Endian { .. } => self.check_alu(insn)?,
            Insn::LdImm64 { dst, imm } => {
                self.check_ld_imm64(dst, imm)?;
                return Ok(Flow::Next(idx + 2));
            }
            Insn::Imm64Tail => return inval!("invalid BPF_LD_IMM insn"),
            Insn::LdPacket { indirect, src, .. } => self.check_ld_abs(indirect, src)?,
            Insn::Ldx { .. } | Insn::St { .. } | Insn::Stx { .. } => self.check_load_store(insn)?,
            Insn::Atomic { .. } => self.check_atomic(insn)?,
            Insn::Ja { off, .. } => {
                return Ok(Flow::Next((idx as i64 + 1 + i64::from(off)) as usize))
            }
            Insn::Jmp { .. } => return self.check_cond_jmp(idx, insn),
            Insn::Call(CallTarget::Helper(id)) => self.check_helper_call(id)?,
            Insn::Call(CallTarget::Local(off)) => return self.check_subprog_call(idx, off),
            Insn::Call(CallTarget::Kfunc(_)) => {
                return inval!("calling kernel functions is not supported")
            }
            Insn::Exit => return self.check_exit(),
        }
        Ok(Flow::Next(idx + 1))
    }

    /// Queue a copy of the current state to continue at `target`.
    pub fn push_branch(&mut self, st: VState) -> VResult<()> {
        if let Some(p) = st.parent {
            self.cps[p as usize].branches += 1;
        }
        self.worklist.push(st);
        self.peak_states = self.peak_states.max(self.worklist.len());
        if self.worklist.len() > COMPLEXITY_LIMIT_JMP_SEQ {
            return Err(Reject::new(
                Errno::TooBig,
                format!(
                    "The sequence of {} jumps is too complex.",
                    self.worklist.len()
                ),
            ));
        }
        Ok(())
    }

    /// The current path ended: update branch counts and take the next
    /// pending state. False when none is left.
    fn next_path(&mut self) -> bool {
        let mut cp = self.cur.parent;
        while let Some(i) = cp {
            let c = &mut self.cps[i as usize];
            c.branches -= 1;
            if c.branches > 0 {
                break;
            }
            c.state.history = Vec::new();
            cp = c.state.parent;
        }
        match self.worklist.pop() {
            Some(s) => {
                self.cur = s;
                true
            }
            None => false,
        }
    }

    /// Compare the current state with the checkpoints at `idx`: true when
    /// one covers it (prune). Otherwise maybe record a new checkpoint.
    fn is_state_visited(&mut self, idx: usize) -> VResult<bool> {
        let mut add_new =
            self.jmps_processed - self.prev_jmps >= 2 && self.insn_processed - self.prev_insns >= 8;
        let list = core::mem::take(&mut self.at_insn[idx]);
        let mut keep = Vec::with_capacity(list.len());
        let mut pruned_by = None;
        for &i in &list {
            if pruned_by.is_some() {
                keep.push(i);
                continue;
            }
            let c = &self.cps[i as usize];
            if c.branches > 0 {
                if states_maybe_looping(&c.state, &self.cur)
                    && states_equal(&c.state, &self.cur, true)
                {
                    self.at_insn[idx] = list;
                    return inval!("infinite loop detected at insn {idx}");
                }
                if self.jmps_processed - self.prev_jmps < 20
                    && self.insn_processed - self.prev_insns < 100
                {
                    add_new = false;
                }
                let c = &mut self.cps[i as usize];
                c.misses += 1;
                // Loop states that keep missing leave the list (they stay
                // in memory: descendants' parent chains walk them).
                if c.misses <= c.hits * 3 + 3 {
                    keep.push(i);
                }
                continue;
            }
            let covered = if self.bpf_capable() {
                states_equal(&c.state, &self.cur, false)
            } else {
                states_equal_all_precise(&c.state, &self.cur)
            };
            if covered {
                self.cps[i as usize].hits += 1;
                pruned_by = Some(i);
                keep.push(i);
                continue;
            }
            let c = &mut self.cps[i as usize];
            c.misses += 1;
            // Evict states that keep missing (their liveness is final).
            if c.misses > c.hits * 3 + 3 {
                continue;
            }
            keep.push(i);
        }
        self.at_insn[idx] = keep;
        if let Some(i) = pruned_by {
            self.propagate_from(i)?;
            return Ok(true);
        }
        if add_new {
            self.new_checkpoint(idx);
        }
        Ok(false)
    }

    /// A prune hit: what the old state's continuation read and needed
    /// precise, the current path reads and needs too.
    fn propagate_from(&mut self, i: u32) -> VResult<()> {
        let old = self.cps[i as usize].state.clone();
        let mut bt = Bt::default();
        for (f, fs) in old.frames.iter().enumerate() {
            for (r, reg) in fs.regs.iter().enumerate() {
                if reg.live & super::reg::LIVE_READ != 0 {
                    self.mark_reg_read(f, r);
                }
                if reg.is_scalar() && reg.precise {
                    bt.set_reg(f, r);
                }
            }
            for (spi, slot) in fs.stack.iter().enumerate() {
                if slot.spilled.live & super::reg::LIVE_READ != 0
                    && spi < self.cur.frames[f].stack.len()
                {
                    self.mark_slot_read(f, spi);
                }
                if slot.is_spilled_scalar() && slot.spilled.precise {
                    bt.set_slot(f, spi);
                }
            }
        }
        self.mark_chain_precision(bt, false)
    }

    fn new_checkpoint(&mut self, idx: usize) {
        let n = self.cps.len() as u32;
        let history = core::mem::take(&mut self.cur.history);
        let mut saved = self.cur.clone();
        saved.history = history;
        self.cps.push(Checkpoint {
            state: saved,
            branches: 1,
            hits: 0,
            misses: 0,
        });
        self.at_insn[idx].push(n);
        self.prev_jmps = self.jmps_processed;
        self.prev_insns = self.insn_processed;
        self.cur.parent = Some(n);
        let imprecise = self.bpf_capable();
        for fs in &mut self.cur.frames {
            fs.parent = Some(n);
            for r in fs.regs.iter_mut() {
                r.live = 0;
                if imprecise {
                    r.precise = false;
                }
            }
            for s in fs.stack.iter_mut() {
                s.spilled.live = 0;
                if imprecise {
                    s.spilled.precise = false;
                }
            }
        }
    }
}
