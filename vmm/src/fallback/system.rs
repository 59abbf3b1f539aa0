//! int3, clac/stac, rdrand/rdseed, rdpid.

use iced_x86::{Instruction, Mnemonic};

use super::cpu::{cpl, CpuError, GuestCpu, BP, UD};
use super::flags::{with_arith, AC, CF};
use super::{operand, Step};

/// `IA32_TSC_AUX`, which rdpid reads.
const MSR_TSC_AUX: u32 = 0xc000_0103;

/// int3: #BP as a trap (the pushed RIP is the next instruction).
pub fn int3(_instr: &Instruction, _cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    Ok(Step::Trap(BP))
}

/// clac / stac: clear or set RFLAGS.AC; #UD outside ring 0.
pub fn clac_stac(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    if cpl(cpu)? != 0 {
        return Ok(Step::Raise(UD));
    }
    let regs = cpu.regs()?;
    if instr.mnemonic() == Mnemonic::Stac {
        regs.rflags |= AC;
    } else {
        regs.rflags &= !AC;
    }
    Ok(Step::Done)
}

/// rdrand / rdseed: host randomness, CF = 1 (valid), other arithmetic flags 0.
pub fn rdrand(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    let mut bytes = [0u8; 8];
    cpu.random(&mut bytes)?;
    operand::write_reg(instr, 0, cpu, u64::from_le_bytes(bytes))?;
    let regs = cpu.regs()?;
    regs.rflags = with_arith(regs.rflags, CF);
    Ok(Step::Done)
}

/// rdpid: the vCPU's IA32_TSC_AUX; #UD where KVM has no such MSR for the
/// vCPU (the CPU then lacks RDPID).
pub fn rdpid(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    let Ok(value) = cpu.read_msr(MSR_TSC_AUX) else {
        return Ok(Step::Raise(UD));
    };
    operand::write_reg(instr, 0, cpu, value)?;
    Ok(Step::Done)
}
