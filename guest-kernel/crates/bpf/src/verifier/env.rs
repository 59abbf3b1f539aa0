//! The verifier's working state and the register primitives every check
//! uses (reads mark liveness, writes mark it written).

use alloc::string::String;
use alloc::vec::Vec;

use super::cfg::Subprog;
use super::config::Config;
use super::error::{access, VResult};
use super::reg::{RegState, LIVE_READ, LIVE_WRITTEN};
use super::state::{Checkpoint, StackRef, VState};
use crate::isa::Insn;
use crate::maps::MapDef;

/// `BPF_COMPLEXITY_LIMIT_INSNS`.
pub const COMPLEXITY_LIMIT_INSNS: u64 = 1_000_000;
/// `BPF_COMPLEXITY_LIMIT_JMP_SEQ`.
pub const COMPLEXITY_LIMIT_JMP_SEQ: usize = 8192;
/// `MAX_BPF_STACK`.
pub const MAX_BPF_STACK: i64 = 512;
/// `BPF_MAX_VAR_OFF`.
pub const MAX_VAR_OFF: i64 = 1 << 29;
/// `BPF_MAX_VAR_SIZ`.
pub const MAX_VAR_SIZ: u64 = 1 << 29;
/// `MAX_PACKET_OFF`.
pub const MAX_PACKET_OFF: u64 = 0xffff;
/// `MAX_CALL_FRAMES`.
pub const MAX_CALL_FRAMES: usize = 8;

/// A map the program may reference.
#[derive(Clone, Copy, Debug)]
pub struct MapInfo {
    /// File descriptor.
    pub fd: i32,
    /// Definition.
    pub def: MapDef,
}

/// Everything one verification run keeps.
pub struct Env<'a> {
    /// The program, one entry per slot.
    pub prog: &'a [Insn],
    /// The request.
    pub cfg: Config,
    /// Maps by index.
    pub maps: Vec<MapInfo>,
    /// Log text.
    pub log: String,
    /// Last id handed out.
    pub id_gen: u32,
    /// The state being explored.
    pub cur: VState,
    /// States waiting to be explored (the other sides of branches).
    pub worklist: Vec<VState>,
    /// Saved states.
    pub cps: Vec<Checkpoint>,
    /// Checkpoints by instruction (those still used for pruning).
    pub at_insn: Vec<Vec<u32>>,
    /// Where states are compared.
    pub prune_point: Vec<bool>,
    /// Functions.
    pub subprogs: Vec<Subprog>,
    /// Instructions processed (the complexity measure).
    pub insn_processed: u64,
    /// Jumps processed.
    pub jmps_processed: u64,
    /// `jmps_processed` when the last checkpoint was made.
    pub prev_jmps: u64,
    /// `insn_processed` when the last checkpoint was made.
    pub prev_insns: u64,
    /// Most pending states at once.
    pub peak_states: usize,
    /// Checkpoint hits.
    pub prune_hits: u64,
}

impl<'a> Env<'a> {
    /// Fresh id.
    pub fn new_id(&mut self) -> u32 {
        self.id_gen += 1;
        self.id_gen
    }

    /// Capability shorthands.
    pub fn bpf_capable(&self) -> bool {
        self.cfg.caps.bpf
    }

    /// Pointer leaks allowed (`CAP_PERFMON`).
    pub fn allow_ptr_leaks(&self) -> bool {
        self.cfg.caps.perfmon
    }

    /// Uninitialised stack reads allowed (`CAP_PERFMON`).
    pub fn allow_uninit_stack(&self) -> bool {
        self.cfg.caps.perfmon
    }

    /// Register `r` of the current frame.
    pub fn reg(&self, r: u8) -> &RegState {
        &self.cur.cur().regs[r as usize]
    }

    /// Register `r` of the current frame, writable.
    pub fn reg_mut(&mut self, r: u8) -> &mut RegState {
        &mut self.cur.cur_mut().regs[r as usize]
    }

    /// `check_reg_arg(SRC_OP)`: the register must be initialised; its
    /// value is now live.
    pub fn check_src(&mut self, r: u8) -> VResult<()> {
        if self.reg(r).ty == super::reg::RegType::NotInit {
            return access!("R{r} !read_ok");
        }
        let f = self.cur.curframe();
        self.mark_reg_read(f, r as usize);
        Ok(())
    }

    /// `check_reg_arg(DST_OP)`: r10 is read-only.
    pub fn check_dst(&mut self, r: u8) -> VResult<()> {
        if r == 10 {
            return access!("frame pointer is read only");
        }
        Ok(())
    }

    /// Write a new value to register `r` of the current frame.
    pub fn set_reg(&mut self, r: u8, v: RegState) {
        let reg = self.reg_mut(r);
        *reg = v;
        reg.live = LIVE_WRITTEN;
    }

    /// Mark register `r` of frame `f` as read by walking the parent
    /// checkpoints until one whose segment wrote it.
    pub fn mark_reg_read(&mut self, f: usize, r: usize) {
        let frame = &self.cur.frames[f];
        if frame.regs[r].live & LIVE_WRITTEN != 0 {
            return;
        }
        let mut cp = frame.parent;
        while let Some(i) = cp {
            let st = &mut self.cps[i as usize].state;
            let Some(fs) = st.frames.get_mut(f) else {
                break;
            };
            let reg = &mut fs.regs[r];
            if reg.live & LIVE_READ != 0 {
                break;
            }
            reg.live |= LIVE_READ;
            if reg.live & LIVE_WRITTEN != 0 {
                break;
            }
            cp = fs.parent;
        }
    }

    /// Mark stack slot `spi` of frame `f` as read.
    pub fn mark_slot_read(&mut self, f: usize, spi: usize) {
        let frame = &self.cur.frames[f];
        if frame
            .stack
            .get(spi)
            .is_some_and(|s| s.spilled.live & LIVE_WRITTEN != 0)
        {
            return;
        }
        let mut cp = frame.parent;
        while let Some(i) = cp {
            let st = &mut self.cps[i as usize].state;
            let Some(fs) = st.frames.get_mut(f) else {
                break;
            };
            let Some(slot) = fs.stack.get_mut(spi) else {
                break;
            };
            if slot.spilled.live & LIVE_READ != 0 {
                break;
            }
            slot.spilled.live |= LIVE_READ;
            if slot.spilled.live & LIVE_WRITTEN != 0 {
                break;
            }
            cp = fs.parent;
        }
    }

    /// Record that the current instruction spilled to or filled from a
    /// stack slot (for precision backtracking).
    pub fn record_stack_access(&mut self, at: StackRef) {
        if let Some(h) = self.cur.history.last_mut() {
            h.stack = Some(at);
        }
    }

    /// Append a line to the log.
    pub fn log_line(&mut self, s: &str) {
        self.log.push_str(s);
        self.log.push('\n');
    }

    /// Position of map `fd`.
    pub fn map_index(&self, fd: i32) -> Option<usize> {
        self.maps.iter().position(|m| m.fd == fd)
    }
}
