//! Reading and writing an instruction's operands through [`GuestCpu`].

use iced_x86::{Instruction, OpKind, Register};

use super::cpu::{Access, CpuError, GuestCpu};
use super::regfile;

/// The linear address of `instr`'s memory operand.
pub fn address(instr: &Instruction, operand: u32, cpu: &mut dyn GuestCpu) -> Result<u64, CpuError> {
    let regs = *cpu.regs()?;
    let sregs = *cpu.sregs()?;
    instr
        .virtual_address(operand, 0, |reg, _, _| match reg {
            Register::ES => Some(sregs.es.base),
            Register::CS => Some(sregs.cs.base),
            Register::SS => Some(sregs.ss.base),
            Register::DS => Some(sregs.ds.base),
            Register::FS => Some(sregs.fs.base),
            Register::GS => Some(sregs.gs.base),
            Register::RIP => Some(regs.rip + instr.len() as u64),
            Register::EIP => Some((regs.rip + instr.len() as u64) & 0xffff_ffff),
            other => regfile::read(&regs, other),
        })
        .ok_or_else(|| CpuError(format!("cannot compute the address of {instr}")))
}

/// Width in bytes of operand `operand` (a register or memory).
pub fn width(instr: &Instruction, operand: u32) -> usize {
    match instr.op_kind(operand) {
        OpKind::Register => instr.op_register(operand).size(),
        OpKind::Memory => instr.memory_size().size(),
        _ => 1,
    }
}

/// The value of operand `operand`: a register, memory, or an 8-bit immediate.
pub fn read(instr: &Instruction, operand: u32, cpu: &mut dyn GuestCpu) -> Access<u64> {
    match instr.op_kind(operand) {
        OpKind::Register => {
            let reg = instr.op_register(operand);
            let value = regfile::read(cpu.regs()?, reg)
                .ok_or_else(|| CpuError(format!("register {reg:?} is not supported")))?;
            Ok(Ok(value))
        }
        OpKind::Memory => {
            let addr = address(instr, operand, cpu)?;
            let mut bytes = [0u8; 8];
            let len = instr.memory_size().size().min(8);
            Ok(cpu
                .read_virt(addr, &mut bytes[..len])?
                .map(|()| u64::from_le_bytes(bytes)))
        }
        OpKind::Immediate8 => Ok(Ok(u64::from(instr.immediate8()))),
        other => Err(CpuError(format!("operand kind {other:?} is not supported"))),
    }
}

/// Writes a register operand.
pub fn write_reg(
    instr: &Instruction,
    operand: u32,
    cpu: &mut dyn GuestCpu,
    value: u64,
) -> Result<(), CpuError> {
    let reg = instr.op_register(operand);
    if regfile::write(cpu.regs()?, reg, value) {
        Ok(())
    } else {
        Err(CpuError(format!("register {reg:?} is not supported")))
    }
}
