//! Reading and writing an instruction's operands through [`GuestCpu`].

use iced_x86::{Instruction, OpKind, Register};

use super::cpu::{bitness, linear, Access, CpuError, GuestCpu};
use super::regfile;

/// The linear address of `instr`'s memory operand.
pub fn address(instr: &Instruction, operand: u32, cpu: &mut dyn GuestCpu) -> Result<u64, CpuError> {
    let bits = bitness(cpu)?;
    let regs = *cpu.regs()?;
    let sregs = *cpu.sregs()?;
    let mut segment = None;
    // iced adds the segment base it is given; it resolves RIP-relative
    // operands itself (the target is in the displacement).
    let offset = instr
        .virtual_address(operand, 0, |reg, _, _| match reg {
            Register::ES
            | Register::CS
            | Register::SS
            | Register::DS
            | Register::FS
            | Register::GS => {
                segment = Some(reg);
                Some(0)
            }
            other => regfile::read(&regs, other),
        })
        .ok_or_else(|| CpuError(format!("cannot compute the address of {instr}")))?;
    let (base, flat) = match segment {
        Some(Register::FS) => (sregs.fs.base, false),
        Some(Register::GS) => (sregs.gs.base, false),
        Some(Register::ES) => (sregs.es.base, true),
        Some(Register::CS) => (sregs.cs.base, true),
        Some(Register::SS) => (sregs.ss.base, true),
        _ => (sregs.ds.base, true),
    };
    Ok(linear(bits, base, flat, offset))
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
        // `supported_operands` keeps other kinds from reaching handlers.
        other => Err(CpuError(format!("operand kind {other:?} is not supported"))),
    }
}

/// Whether every operand of `instr` is a form the handlers take: a
/// general-purpose register, memory, or an 8-bit immediate. Other encodings
/// of a handled mnemonic (e.g. AMD's `bextr r32, r/m32, imm32`) are not ours.
pub fn supported_operands(instr: &Instruction) -> bool {
    (0..instr.op_count()).all(|op| match instr.op_kind(op) {
        OpKind::Register => instr.op_register(op).is_gpr(),
        OpKind::Memory | OpKind::Immediate8 => true,
        _ => false,
    })
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
