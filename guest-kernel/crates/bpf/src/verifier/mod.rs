//! The verifier: every path of a program is executed symbolically before
//! it may run, and anything that could touch memory it does not own, read
//! what was never written, leak kernel pointers or fail to terminate is
//! rejected with a Linux-style reason.
//!
//! The model is Linux 6.8's `kernel/bpf/verifier.c`: register types,
//! [`tnum`]s plus signed/unsigned 64/32-bit ranges ([`bounds`]), typed stack
//! slots, pointer arithmetic rules, branch refinement and null checks,
//! helper prototypes, BPF-to-BPF calls, bounded loops, state pruning with
//! liveness and precision, and the 1M-instruction complexity limit.

pub mod bounds;
mod cfg;
mod check_alu;
mod check_call;
mod check_jmp;
mod check_mem;
mod check_stack;
mod config;
mod env;
pub mod error;
mod explore;
mod precision;
mod prog_type;
mod prune;
pub mod reg;
mod scalar_ops;
pub mod stack;
pub mod state;
pub mod tnum;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

pub use config::{Caps, Config};
pub use env::COMPLEXITY_LIMIT_INSNS;
pub use error::{Errno, VerifyError};
pub use prog_type::ProgType;
pub use scalar_ops::scalar_alu;

use env::{Env, MapInfo};
use reg::{RegState, RegType};
use state::{FuncState, VState, NREGS};

use crate::isa::{decode_program, Insn, RawInsn};
use crate::maps::MapSet;

/// Largest program for `CAP_BPF` loaders (`BPF_COMPLEXITY_LIMIT_INSNS`).
pub const MAX_INSNS_PRIV: usize = 1_000_000;
/// Largest program for unprivileged loaders (`BPF_MAXINSNS`).
pub const MAX_INSNS_UNPRIV: usize = 4096;

/// What an accepted program cost to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Instructions processed.
    pub insns_processed: u64,
    /// Checkpoints recorded.
    pub total_states: usize,
    /// Most pending branch states at once.
    pub peak_states: usize,
    /// Prunes.
    pub prune_hits: u64,
    /// Stack depth of each function.
    pub stack_depths: Vec<u32>,
    /// The log.
    pub log: String,
}

fn summary(env: &Env<'_>) -> String {
    let max_per_insn = env.at_insn.iter().map(Vec::len).max().unwrap_or(0);
    format!(
        "processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {} mark_read 0",
        env.insn_processed,
        COMPLEXITY_LIMIT_INSNS,
        max_per_insn,
        env.cps.len(),
        env.peak_states
    )
}

/// Verify raw instruction slots (decoding them first).
pub fn verify_raw(slots: &[RawInsn], maps: &MapSet, cfg: &Config) -> Result<Verified, VerifyError> {
    match decode_program(slots) {
        Ok(prog) => verify(&prog, maps, cfg),
        Err(e) => {
            let msg = format!("{}", e.kind);
            Err(VerifyError {
                errno: Errno::Inval,
                insn: Some(e.pc),
                log: format!("{}: {msg}\n", e.pc),
                msg,
            })
        }
    }
}

fn initial_state(cfg: &Config) -> VState {
    let mut regs = [RegState::NOT_INIT; NREGS];
    regs[10] = RegState::pointer(RegType::Stack);
    regs[1] = if cfg.prog_type == ProgType::Mem {
        regs[2] = RegState::constant(u64::from(cfg.ctx_size));
        RegState {
            range: cfg.ctx_size,
            ..RegState::pointer(RegType::Mem)
        }
    } else {
        RegState::pointer(RegType::Ctx)
    };
    VState {
        frames: vec![FuncState {
            regs,
            stack: Vec::new(),
            callsite: None,
            subprog: 0,
            parent: None,
        }],
        insn: 0,
        history: Vec::new(),
        parent: None,
    }
}

/// Verify a decoded program (one [`Insn`] per slot) against `maps`.
pub fn verify(prog: &[Insn], maps: &MapSet, cfg: &Config) -> Result<Verified, VerifyError> {
    let fail = |errno, insn, msg: String, log: String| {
        Err(VerifyError {
            errno,
            insn,
            msg,
            log,
        })
    };
    if prog.is_empty() {
        return fail(Errno::Inval, None, "empty program".into(), String::new());
    }
    let limit = if cfg.caps.bpf {
        MAX_INSNS_PRIV
    } else {
        MAX_INSNS_UNPRIV
    };
    if prog.len() > limit {
        let msg = format!(
            "BPF program is too large: {} insns, limit {limit}",
            prog.len()
        );
        return fail(Errno::TooBig, None, msg.clone(), msg);
    }
    let infos = (0..maps.len())
        .filter_map(|i| maps.by_index(i).map(|m| (i, *m.def())))
        .map(|(i, def)| {
            let fd = (0..)
                .map(|k| k + 3)
                .take(4096)
                .find(|fd| maps.index_of(*fd) == Some(i))
                .unwrap_or(-1);
            MapInfo { fd, def }
        })
        .collect();
    let mut env = Env {
        prog,
        cfg: *cfg,
        maps: infos,
        log: String::new(),
        id_gen: 0,
        cur: initial_state(cfg),
        worklist: Vec::new(),
        cps: Vec::new(),
        at_insn: vec![Vec::new(); prog.len()],
        prune_point: Vec::new(),
        subprogs: Vec::new(),
        insn_processed: 0,
        jmps_processed: 0,
        prev_jmps: 0,
        prev_insns: 0,
        peak_states: 0,
        prune_hits: 0,
    };
    let pre = cfg::find_subprogs(prog, cfg.caps.bpf).and_then(|s| {
        env.subprogs = s;
        cfg::check_cfg(prog, cfg.caps.bpf)
    });
    match pre {
        Ok(p) => env.prune_point = p,
        Err(r) => {
            let log = format!("{}\n", r.msg);
            return fail(r.errno, None, r.msg, log);
        }
    }
    if let Err(r) = env.do_check().and_then(|()| env.check_max_stack_depth()) {
        let idx = env.cur.insn.min(prog.len() - 1);
        let mut slots = Vec::new();
        crate::isa::encode(&prog[idx], &mut slots);
        let code = slots.first().map_or(0, |s| s.code);
        let mut log = core::mem::take(&mut env.log);
        log.push_str(&format!(
            "{idx}: ({code:02x}) {}\n{}\n{}\n",
            prog[idx],
            r.msg,
            summary(&env)
        ));
        return fail(r.errno, Some(idx), r.msg, log);
    }
    let mut log = core::mem::take(&mut env.log);
    log.push_str(&summary(&env));
    log.push('\n');
    Ok(Verified {
        insns_processed: env.insn_processed,
        total_states: env.cps.len(),
        peak_states: env.peak_states,
        prune_hits: env.prune_hits,
        stack_depths: env.subprogs.iter().map(|s| s.stack_depth).collect(),
        log,
    })
}
