//! A verifier state: the frames of the call stack, where it is, and the
//! instructions it ran since its last checkpoint.

use alloc::vec::Vec;

use super::reg::RegState;
use super::stack::StackSlot;

/// Number of registers (r0-r10).
pub const NREGS: usize = 11;

/// One function's registers and stack.
#[derive(Clone, Debug, PartialEq)]
pub struct FuncState {
    /// r0..r10.
    pub regs: [RegState; NREGS],
    /// Slots; `stack[i]` covers offsets `[-8(i+1), -8i)`.
    pub stack: Vec<StackSlot>,
    /// Index of the call instruction that created this frame (main: none).
    pub callsite: Option<usize>,
    /// Subprogram index.
    pub subprog: usize,
    /// Checkpoint whose copy of this frame is this one's parent (liveness).
    pub parent: Option<u32>,
}

/// A stack access recorded for precision backtracking: frame and slot.
pub type StackRef = (u8, u16);

/// One processed instruction in a state's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hist {
    /// Instruction index.
    pub idx: u32,
    /// Frame it ran in.
    pub frame: u8,
    /// Spill or fill it performed.
    pub stack: Option<StackRef>,
}

/// The whole abstract machine state along one path.
#[derive(Clone, Debug)]
pub struct VState {
    /// Frames, innermost last.
    pub frames: Vec<FuncState>,
    /// Next instruction.
    pub insn: usize,
    /// Instructions since the parent checkpoint.
    pub history: Vec<Hist>,
    /// Nearest checkpoint on this path.
    pub parent: Option<u32>,
}

impl VState {
    /// The innermost frame.
    pub fn cur(&self) -> &FuncState {
        self.frames.last().expect("at least one frame")
    }

    /// The innermost frame, writable.
    pub fn cur_mut(&mut self) -> &mut FuncState {
        self.frames.last_mut().expect("at least one frame")
    }

    /// Index of the innermost frame.
    pub fn curframe(&self) -> usize {
        self.frames.len() - 1
    }
}

/// A saved state that later states at the same instruction compare against.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The state as it was (liveness and precision marks accumulate here).
    pub state: VState,
    /// Paths through this checkpoint still being explored.
    pub branches: u32,
    /// Times it pruned another state.
    pub hits: u32,
    /// Times it failed to.
    pub misses: u32,
}
