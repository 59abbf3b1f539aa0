//! The interpreter.
//!
//! [`run`] executes decoded instructions with RFC 9669 semantics. Memory is
//! a small set of regions (see [`memory`]); every access is bounds-checked
//! in both modes. The checked mode ([`RunOptions::checked`]) additionally
//! traps reads of registers or stack bytes that were never written and
//! accesses to the stack of frames deeper than the current one: a verified
//! program must never trip it.

mod alu;
mod call;
mod exec;
pub mod memory;

use core::fmt;

pub use alu::{alu32, alu64, cond32, cond64, endian};
pub use memory::{map_base, Fault, CTX_BASE, MAP_HANDLE_TAG, PACKET_BASE, STACK_TOP};

use crate::helpers::HelperEnv;
use crate::isa::Insn;
use crate::maps::MapSet;

/// What a program runs on.
pub struct Input<'a> {
    /// The context `r1` points to (`r2` holds its length).
    pub ctx: &'a mut [u8],
    /// Packet bytes, at [`PACKET_BASE`] (empty when the program type has
    /// no packet).
    pub packet: &'a mut [u8],
}

/// How to run.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Trap uninitialised register and stack reads and dead-frame access.
    pub checked: bool,
    /// Instructions executed before giving up.
    pub max_insns: u64,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            checked: false,
            max_insns: 1 << 32,
        }
    }
}

/// Why a run stopped without returning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// A memory access outside every region.
    OutOfBounds {
        /// Instruction index.
        pc: usize,
        /// First byte.
        addr: u64,
        /// Width.
        len: usize,
        /// Store (true) or load.
        write: bool,
    },
    /// A stack byte read before being written (checked mode).
    UninitStack {
        /// Instruction index.
        pc: usize,
        /// The byte.
        addr: u64,
    },
    /// A register read before being written (checked mode).
    UninitReg {
        /// Instruction index.
        pc: usize,
        /// Register number.
        reg: u8,
    },
    /// More than 8 nested BPF-to-BPF calls.
    CallDepth {
        /// Instruction index.
        pc: usize,
    },
    /// A helper we do not implement.
    UnknownHelper {
        /// Instruction index.
        pc: usize,
        /// Helper id.
        id: i32,
    },
    /// A map argument that is not a map handle, or an unknown map fd.
    BadMap {
        /// Instruction index.
        pc: usize,
    },
    /// An instruction the interpreter cannot execute (kfunc calls, BTF
    /// ids, function pointers, fd-array map references).
    Unsupported {
        /// Instruction index.
        pc: usize,
    },
    /// Control reached past the end or into the middle of `LD_IMM64`.
    BadJump {
        /// Target instruction index.
        pc: usize,
    },
    /// [`RunOptions::max_insns`] exhausted.
    InstructionLimit,
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Trap::OutOfBounds {
                pc,
                addr,
                len,
                write,
            } => {
                let what = if write { "store" } else { "load" };
                write!(
                    f,
                    "insn {pc}: out-of-bounds {what} of {len} bytes at {addr:#x}"
                )
            }
            Trap::UninitStack { pc, addr } => {
                write!(f, "insn {pc}: read of uninitialised stack byte {addr:#x}")
            }
            Trap::UninitReg { pc, reg } => write!(f, "insn {pc}: read of uninitialised r{reg}"),
            Trap::CallDepth { pc } => write!(f, "insn {pc}: call stack deeper than 8 frames"),
            Trap::UnknownHelper { pc, id } => write!(f, "insn {pc}: unknown helper {id}"),
            Trap::BadMap { pc } => write!(f, "insn {pc}: not a map"),
            Trap::Unsupported { pc } => write!(f, "insn {pc}: instruction not supported here"),
            Trap::BadJump { pc } => write!(f, "control reached invalid instruction index {pc}"),
            Trap::InstructionLimit => write!(f, "instruction limit reached"),
        }
    }
}

/// The result of a completed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `r0` at the final `exit`.
    pub r0: u64,
    /// Instructions executed.
    pub executed: u64,
}

/// Run `prog` (decoded, one entry per slot) from instruction 0 with
/// `r1` = context address, `r2` = context length and `r10` = top of a
/// 512-byte stack frame.
pub fn run<E: HelperEnv + ?Sized>(
    prog: &[Insn],
    input: Input<'_>,
    maps: &mut MapSet,
    env: &mut E,
    opts: &RunOptions,
) -> Result<Outcome, Trap> {
    if opts.checked {
        exec::execute::<E, true>(prog, input, maps, env, opts.max_insns)
    } else {
        exec::execute::<E, false>(prog, input, maps, env, opts.max_insns)
    }
}
