//! The instruction fallback: when KVM cannot emulate a guest instruction
//! (every kernel-mode instruction on kvm-pvm goes through KVM's emulator),
//! the VMM decodes it itself and completes it, turns it into the exception
//! real hardware raises, or reports it as unsupported.
//!
//! Handlers see the vCPU only through [`cpu::GuestCpu`], so they unit-test
//! on any host; [`kvm_cpu::KvmCpu`] is the real one.
//!
//! Which instructions reach the VMM depends on the host's KVM: on kvm-pvm
//! KVM's emulator runs lzcnt/tzcnt (as bsr/bsf), rdpid and fxsave/fxrstor
//! itself, so their handlers serve hosts whose emulator gives up on them
//! (and are unit-tested here). Single-step (RFLAGS.TF) after a completed
//! instruction is not raised.

mod bits;
pub mod cpu;
mod flags;
mod fpu;
pub mod kvm_cpu;
mod movdir64b;
mod operand;
mod page_walk;
mod regfile;
mod stats;
mod system;
#[cfg(test)]
mod tests;

use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic};

use cpu::{CpuError, Exception, GuestCpu};
pub use stats::FallbackStats;

use crate::emulation_failure::bitness_of;

/// What a handler decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Completed: RIP moves past the instruction.
    Done,
    /// A fault: RIP stays, the exception is delivered.
    Raise(Exception),
    /// A trap: RIP moves past the instruction, then the exception is delivered.
    Trap(Exception),
}

/// What the fallback did with an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// Completed in the VMM.
    Completed(Mnemonic),
    /// Turned into an exception for the guest.
    Injected(Mnemonic, Exception),
    /// No handler: the caller reports an emulation failure.
    Unsupported,
}

type Handler = fn(&Instruction, &mut dyn GuestCpu) -> Result<Step, CpuError>;

/// The handler table.
fn handler_for(mnemonic: Mnemonic) -> Option<Handler> {
    use Mnemonic::*;
    Some(match mnemonic {
        Int3 => system::int3,
        Clac | Stac => system::clac_stac,
        Popcnt | Lzcnt | Tzcnt | Andn | Bextr | Blsi | Blsmsk | Blsr | Bzhi | Mulx | Pdep
        | Pext | Rorx | Sarx | Shlx | Shrx => bits::execute,
        Rdrand | Rdseed => system::rdrand,
        Rdpid => system::rdpid,
        Wait => fpu::fwait,
        Fxsave | Fxsave64 | Fxrstor | Fxrstor64 => fpu::fxsave_fxrstor,
        Ldmxcsr | Stmxcsr => fpu::mxcsr,
        Movdir64b => movdir64b::movdir64b,
        _ => return None,
    })
}

/// Decodes the instruction at RIP from `bytes` (never trusting KVM's
/// instruction size) and completes it if a handler exists.
pub fn complete(
    bytes: &[u8],
    cpu: &mut dyn GuestCpu,
    stats: &FallbackStats,
) -> Result<Completion, CpuError> {
    let sregs = *cpu.sregs()?;
    let bits = bitness_of(sregs.efer, sregs.cr0, sregs.cs.l != 0, sregs.cs.db != 0);
    let rip = cpu.regs()?.rip;
    let Ok(mut decoder) = Decoder::try_with_ip(bits, bytes, rip, DecoderOptions::NONE) else {
        return Ok(Completion::Unsupported);
    };
    let instr = decoder.decode();
    if instr.is_invalid() {
        return Ok(Completion::Unsupported);
    }
    let Some(handler) = handler_for(instr.mnemonic()) else {
        return Ok(Completion::Unsupported);
    };
    if !operand::supported_operands(&instr) {
        return Ok(Completion::Unsupported);
    }
    let step = handler(&instr, cpu)?;
    let next_rip = match bits {
        64 => rip.wrapping_add(instr.len() as u64),
        32 => rip.wrapping_add(instr.len() as u64) & 0xffff_ffff,
        _ => rip.wrapping_add(instr.len() as u64) & 0xffff,
    };
    let completion = match step {
        Step::Done => {
            cpu.regs()?.rip = next_rip;
            Completion::Completed(instr.mnemonic())
        }
        Step::Trap(e) => {
            cpu.regs()?.rip = next_rip;
            cpu.inject(e)?;
            Completion::Injected(instr.mnemonic(), e)
        }
        Step::Raise(e) => {
            cpu.inject(e)?;
            Completion::Injected(instr.mnemonic(), e)
        }
    };
    stats.record(instr.mnemonic(), rip);
    Ok(completion)
}
