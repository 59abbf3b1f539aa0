//! Control-flow checks before symbolic execution: function boundaries,
//! jump targets, reachability, back-edges (Linux's `check_subprogs` and
//! `check_cfg`), and the prune points.

use alloc::vec;
use alloc::vec::Vec;

use super::error::{inval, Errno, Reject, VResult};
use crate::isa::{CallTarget, Imm64, Insn};

/// A function: instructions `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subprog {
    /// First instruction.
    pub start: usize,
    /// One past the last.
    pub end: usize,
    /// Deepest stack byte used (bytes below the frame pointer).
    pub stack_depth: u32,
}

fn jump_target(i: usize, insn: &Insn) -> Option<i64> {
    match *insn {
        Insn::Ja { off, .. } => Some(i as i64 + 1 + i64::from(off)),
        Insn::Jmp { off, .. } => Some(i as i64 + 1 + i64::from(off)),
        _ => None,
    }
}

/// Split the program into functions at the targets of BPF-to-BPF calls and
/// check jumps stay inside their function and functions end in exit/jump.
pub fn find_subprogs(prog: &[Insn], bpf_capable: bool) -> VResult<Vec<Subprog>> {
    let mut starts = vec![0usize];
    for (i, insn) in prog.iter().enumerate() {
        let off = match *insn {
            Insn::Call(CallTarget::Local(off)) => off,
            Insn::LdImm64 {
                imm: Imm64::Func(off),
                ..
            } => off,
            Insn::Call(CallTarget::Kfunc(_)) if !bpf_capable => 0,
            _ => continue,
        };
        if !bpf_capable {
            return Err(Reject::new(
                Errno::Perm,
                "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN".into(),
            ));
        }
        let t = i as i64 + 1 + i64::from(off);
        if t < 0 || t >= prog.len() as i64 {
            return inval!("call to invalid destination");
        }
        starts.push(t as usize);
    }
    starts.sort_unstable();
    starts.dedup();
    let mut subs = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(prog.len());
        for (i, insn) in prog.iter().enumerate().take(end).skip(start) {
            if let Some(t) = jump_target(i, insn) {
                if t < start as i64 || t >= end as i64 {
                    return inval!("jump out of range from insn {i} to {t}");
                }
            }
        }
        if !matches!(prog[end - 1], Insn::Exit | Insn::Ja { .. }) {
            return inval!("last insn is not an exit or jmp");
        }
        subs.push(Subprog {
            start,
            end,
            stack_depth: 0,
        });
    }
    Ok(subs)
}

/// Depth-first walk of the control-flow graph from instruction 0: every
/// instruction must be reachable, no edge may leave the program or land in
/// the middle of `LD_IMM64`, and back-edges need `CAP_BPF`. Returns the
/// prune points.
pub fn check_cfg(prog: &[Insn], bpf_capable: bool) -> VResult<Vec<bool>> {
    const DISCOVERED: u8 = 1;
    const EXPLORED: u8 = 2;
    let n = prog.len();
    let mut state = vec![0u8; n];
    let mut prune = vec![false; n];
    // Stack of (insn, next successor index to visit).
    let mut stack: Vec<(usize, u8)> = vec![(0, 0)];
    state[0] = DISCOVERED;
    while let Some(&mut (t, ref mut k)) = stack.last_mut() {
        let succ = successors(prog, t);
        let Some(&(w, branch)) = succ.get(*k as usize) else {
            state[t] = EXPLORED;
            stack.pop();
            continue;
        };
        *k += 1;
        if w < 0 || w >= n as i64 {
            return inval!("jump out of range from insn {t} to {w}");
        }
        let w = w as usize;
        if prog[w] == Insn::Imm64Tail {
            return inval!("jump into the middle of ldimm64 insn {}", w - 1);
        }
        if branch {
            prune[w] = true;
        }
        match state[w] {
            0 => {
                state[w] = DISCOVERED;
                stack.push((w, 0));
            }
            DISCOVERED if !bpf_capable => return inval!("back-edge from insn {t} to {w}"),
            _ => {}
        }
    }
    for (i, insn) in prog.iter().enumerate() {
        match insn {
            Insn::Imm64Tail => {}
            _ if state[i] == 0 => return inval!("unreachable insn {i}"),
            Insn::Jmp { .. } => prune[i] = true,
            Insn::Call(t) => {
                if i + 1 < n {
                    prune[i + 1] = true;
                }
                if matches!(t, CallTarget::Local(_)) {
                    prune[i] = true;
                }
            }
            _ => {}
        }
    }
    Ok(prune)
}

/// Successors of instruction `t`: (target, is a branch edge).
fn successors(prog: &[Insn], t: usize) -> Vec<(i64, bool)> {
    let next = t as i64 + 1;
    match prog[t] {
        Insn::Exit => vec![],
        Insn::LdImm64 { .. } => vec![(next + 1, false)],
        Insn::Ja { off, .. } => vec![(next + i64::from(off), true)],
        Insn::Jmp { off, .. } => vec![(next, false), (next + i64::from(off), true)],
        Insn::Call(CallTarget::Local(off)) => vec![(next, false), (next + i64::from(off), true)],
        _ => vec![(next, false)],
    }
}
