//! movdir64b: a 64-byte direct store. KVM never emulates it; to MMIO it
//! must reach the device as one 64-byte write (IAA/DSA portals rely on it).

use iced_x86::Instruction;

use super::cpu::{bitness, linear, CpuError, GuestCpu, GP0};
use super::{operand, regfile, Step};

/// Bytes moved.
pub const MOVDIR64B_SIZE: usize = 64;

/// movdir64b r, m512: copies 64 bytes from the memory operand to ES:[r],
/// which must be 64-byte aligned (#GP otherwise).
pub fn movdir64b(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    let dest_reg = instr.op0_register();
    let regs = *cpu.regs()?;
    let offset = regfile::read(&regs, dest_reg)
        .ok_or_else(|| CpuError(format!("register {dest_reg:?} is not supported")))?;
    let bits = bitness(cpu)?;
    let dest = linear(bits, cpu.sregs()?.es.base, true, offset);
    if !dest.is_multiple_of(MOVDIR64B_SIZE as u64) {
        return Ok(Step::Raise(GP0));
    }
    let src = operand::address(instr, 1, cpu)?;
    let mut data = [0u8; MOVDIR64B_SIZE];
    if let Err(e) = cpu.read_virt(src, &mut data)? {
        return Ok(Step::Raise(e));
    }
    Ok(match cpu.write_virt(dest, &data)? {
        Ok(()) => Step::Done,
        Err(e) => Step::Raise(e),
    })
}
