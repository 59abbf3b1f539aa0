//! State equivalence for pruning: is everything the old (fully explored)
//! state's continuation relied on also true of the current state? Only
//! live registers/slots count, imprecise scalars match any scalar, ids
//! must map consistently (Linux's `states_equal`, `regsafe`, `stacksafe`).

use alloc::vec::Vec;

use super::reg::{RegState, RegType, LIVE_READ};
use super::stack::SlotByte;
use super::state::{FuncState, VState};

/// Consistent renaming of ids between the two states.
#[derive(Default)]
struct IdMap {
    pairs: Vec<(u32, u32)>,
    tmp: u32,
}

impl IdMap {
    fn check(&mut self, old: u32, cur: u32) -> bool {
        if (old == 0) != (cur == 0) {
            return false;
        }
        if old == 0 {
            return true;
        }
        for &(o, c) in &self.pairs {
            if o == old {
                return c == cur;
            }
            if c == cur {
                return false;
            }
        }
        self.pairs.push((old, cur));
        true
    }

    fn check_scalar(&mut self, old: u32, cur: u32) -> bool {
        let fresh = |m: &mut IdMap| {
            m.tmp += 1;
            u32::MAX - m.tmp
        };
        let old = if old == 0 { fresh(self) } else { old };
        let cur = if cur == 0 { fresh(self) } else { cur };
        self.check(old, cur)
    }
}

/// How strict the comparison is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Pruning: liveness and precision relax it.
    Range { all_precise: bool },
    /// Loop detection: identical states.
    Exact,
}

fn regs_exact(old: &RegState, cur: &RegState, ids: &mut IdMap) -> bool {
    old.ty == cur.ty
        && old.maybe_null == cur.maybe_null
        && old.off == cur.off
        && old.b == cur.b
        && old.map == cur.map
        && old.range == cur.range
        && old.frameno == cur.frameno
        && ids.check(old.id, cur.id)
}

fn regsafe(old: &RegState, cur: &RegState, ids: &mut IdMap, mode: Mode) -> bool {
    let all_precise = match mode {
        Mode::Exact => {
            if old.ty == RegType::NotInit && cur.ty == RegType::NotInit {
                return true;
            }
            return regs_exact(old, cur, ids);
        }
        Mode::Range { all_precise } => all_precise,
    };
    if old.live & LIVE_READ == 0 || old.ty == RegType::NotInit {
        return true;
    }
    if old.ty != cur.ty {
        return false;
    }
    match old.ty {
        RegType::Scalar => {
            if !old.precise && !all_precise {
                return true;
            }
            old.b.includes(&cur.b) && ids.check_scalar(old.id, cur.id)
        }
        RegType::MapValue | RegType::Mem => {
            old.maybe_null == cur.maybe_null
                && old.off == cur.off
                && old.map == cur.map
                && old.range == cur.range
                && old.b.includes(&cur.b)
                && ids.check(old.id, cur.id)
        }
        RegType::Packet | RegType::PacketMeta => {
            cur.range >= old.range
                && old.off == cur.off
                && old.b.includes(&cur.b)
                && ids.check(old.id, cur.id)
        }
        _ => regs_exact(old, cur, ids),
    }
}

fn stacksafe(old: &FuncState, cur: &FuncState, ids: &mut IdMap, mode: Mode) -> bool {
    let exact = mode == Mode::Exact;
    for (spi, os) in old.stack.iter().enumerate() {
        if !exact && os.spilled.live & LIVE_READ == 0 {
            continue;
        }
        let cs = cur.stack.get(spi);
        for i in 0..8 {
            let ob = os.bytes[i];
            let cb = cs.map_or(SlotByte::Invalid, |s| s.bytes[i]);
            if exact {
                if ob != cb {
                    return false;
                }
                continue;
            }
            if ob == SlotByte::Invalid {
                continue;
            }
            if ob == SlotByte::Misc && cb == SlotByte::Zero {
                continue;
            }
            if ob != cb {
                return false;
            }
        }
        if os.is_spill() {
            let Some(cs) = cs else { return false };
            if !regsafe(&os.spilled, &cs.spilled, ids, mode) {
                return false;
            }
        }
    }
    if exact && cur.stack.len() > old.stack.len() {
        return cur.stack[old.stack.len()..]
            .iter()
            .all(|s| s.bytes.iter().all(|b| *b == SlotByte::Invalid));
    }
    true
}

fn func_equal(old: &FuncState, cur: &FuncState, ids: &mut IdMap, mode: Mode) -> bool {
    old.callsite == cur.callsite
        && old
            .regs
            .iter()
            .zip(cur.regs.iter())
            .all(|(o, c)| regsafe(o, c, ids, mode))
        && stacksafe(old, cur, ids, mode)
}

fn equal(old: &VState, cur: &VState, mode: Mode) -> bool {
    if old.frames.len() != cur.frames.len() {
        return false;
    }
    let mut ids = IdMap::default();
    old.frames
        .iter()
        .zip(cur.frames.iter())
        .all(|(o, c)| func_equal(o, c, &mut ids, mode))
}

/// Whether `old` covers `cur` (`exact`: whether they are the same state).
pub fn states_equal(old: &VState, cur: &VState, exact: bool) -> bool {
    equal(
        old,
        cur,
        if exact {
            Mode::Exact
        } else {
            Mode::Range { all_precise: false }
        },
    )
}

/// [`states_equal`] for unprivileged loaders, where every scalar counts as
/// precise.
pub fn states_equal_all_precise(old: &VState, cur: &VState) -> bool {
    equal(old, cur, Mode::Range { all_precise: true })
}

/// Cheap pre-check of loop detection: same depth and identical registers
/// in the innermost frame.
pub fn states_maybe_looping(old: &VState, cur: &VState) -> bool {
    if old.frames.len() != cur.frames.len() {
        return false;
    }
    let (o, c) = (old.cur(), cur.cur());
    o.regs.iter().zip(c.regs.iter()).all(|(a, b)| {
        a.ty == b.ty
            && a.off == b.off
            && a.b == b.b
            && a.maybe_null == b.maybe_null
            && a.range == b.range
    })
}
