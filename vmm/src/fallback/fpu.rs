//! fwait, fxsave/fxrstor and ldmxcsr/stmxcsr on the vCPU's x87/SSE state,
//! kept in FXSAVE layout (see [`GuestCpu::fx_area`]).

use iced_x86::{Instruction, Mnemonic};

use super::cpu::{CpuError, FxArea, GuestCpu, FX_AREA_SIZE, GP0, MF};
use super::{operand, Step};

/// MXCSR bits a guest may set (SSE2 with DAZ).
pub const MXCSR_MASK: u32 = 0xffff;
/// Offsets in the FXSAVE image.
const FSW: usize = 2;
const MXCSR: usize = 24;
const MXCSR_MASK_AT: usize = 28;
const XMM0: usize = 160;
/// Bytes 464..512 are for software: fxrstor ignores them.
const LOADED_END: usize = 464;
/// x87 status word: error summary (an unmasked exception is pending).
const FSW_ES: u16 = 1 << 7;

fn mxcsr_of(area: &FxArea) -> u32 {
    u32::from_le_bytes([
        area[MXCSR],
        area[MXCSR + 1],
        area[MXCSR + 2],
        area[MXCSR + 3],
    ])
}

/// fwait: raises #MF if an unmasked x87 exception is pending, else nothing.
pub fn fwait(_instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    let area = cpu.fx_area()?;
    if u16::from_le_bytes([area[FSW], area[FSW + 1]]) & FSW_ES != 0 {
        return Ok(Step::Raise(MF));
    }
    Ok(Step::Done)
}

/// ldmxcsr / stmxcsr with a 32-bit memory operand.
pub fn mxcsr(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    let addr = operand::address(instr, 0, cpu)?;
    if instr.mnemonic() == Mnemonic::Stmxcsr {
        let value = mxcsr_of(cpu.fx_area()?);
        return Ok(match cpu.write_virt(addr, &value.to_le_bytes())? {
            Ok(()) => Step::Done,
            Err(e) => Step::Raise(e),
        });
    }
    let mut bytes = [0u8; 4];
    if let Err(e) = cpu.read_virt(addr, &mut bytes)? {
        return Ok(Step::Raise(e));
    }
    if u32::from_le_bytes(bytes) & !MXCSR_MASK != 0 {
        return Ok(Step::Raise(GP0));
    }
    cpu.fx_area()?[MXCSR..MXCSR + 4].copy_from_slice(&bytes);
    Ok(Step::Done)
}

/// The image fxsave stores: the state, MXCSR_MASK filled in, XMM registers
/// beyond the mode's `xmm_count` and the software bytes zeroed.
pub fn fxsave_image(state: &FxArea, xmm_count: usize) -> FxArea {
    let mut image = *state;
    image[MXCSR_MASK_AT..MXCSR_MASK_AT + 4].copy_from_slice(&MXCSR_MASK.to_le_bytes());
    image[XMM0 + 16 * xmm_count..].fill(0);
    image
}

/// Loads an fxsave image into `state`; None if MXCSR has reserved bits (#GP).
pub fn fxrstor_image(state: &mut FxArea, image: &FxArea, xmm_count: usize) -> Option<()> {
    if mxcsr_of(image) & !MXCSR_MASK != 0 {
        return None;
    }
    state[..MXCSR_MASK_AT].copy_from_slice(&image[..MXCSR_MASK_AT]);
    let end = (XMM0 + 16 * xmm_count).min(LOADED_END);
    state[MXCSR_MASK_AT + 4..end].copy_from_slice(&image[MXCSR_MASK_AT + 4..end]);
    Some(())
}

/// fxsave / fxrstor (the area must be 16-byte aligned, else #GP).
pub fn fxsave_fxrstor(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    let addr = operand::address(instr, 0, cpu)?;
    if addr % 16 != 0 {
        return Ok(Step::Raise(GP0));
    }
    // Outside 64-bit mode only XMM0-7 exist.
    let xmm_count = if cpu.sregs()?.cs.l != 0 { 16 } else { 8 };
    if matches!(instr.mnemonic(), Mnemonic::Fxsave | Mnemonic::Fxsave64) {
        let image = fxsave_image(cpu.fx_area()?, xmm_count);
        return Ok(match cpu.write_virt(addr, &image)? {
            Ok(()) => Step::Done,
            Err(e) => Step::Raise(e),
        });
    }
    let mut image = [0u8; FX_AREA_SIZE];
    if let Err(e) = cpu.read_virt(addr, &mut image)? {
        return Ok(Step::Raise(e));
    }
    Ok(match fxrstor_image(cpu.fx_area()?, &image, xmm_count) {
        Some(()) => Step::Done,
        None => Step::Raise(GP0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> FxArea {
        let mut s = [0u8; FX_AREA_SIZE];
        s[0..2].copy_from_slice(&0x37fu16.to_le_bytes());
        s[MXCSR..MXCSR + 4].copy_from_slice(&0x1fa0u32.to_le_bytes());
        s[XMM0 + 16 * 15..XMM0 + 16 * 16].fill(7);
        s
    }

    #[test]
    fn test_fxsave_image_round_trips_through_fxrstor() {
        let image = fxsave_image(&state(), 16);
        assert_eq!(
            &image[MXCSR..MXCSR + 8],
            &[0xa0, 0x1f, 0, 0, 0xff, 0xff, 0, 0]
        );
        let mut back = [0u8; FX_AREA_SIZE];
        fxrstor_image(&mut back, &image, 16).unwrap();
        assert_eq!(mxcsr_of(&back), 0x1fa0);
        assert_eq!(back[..MXCSR_MASK_AT], state()[..MXCSR_MASK_AT]);
        assert_eq!(back[XMM0 + 16 * 15], 7);
    }

    #[test]
    fn test_fxsave_outside_64bit_mode_stores_eight_xmm_registers() {
        assert_eq!(fxsave_image(&state(), 8)[XMM0 + 16 * 15], 0);
    }

    #[test]
    fn test_fxrstor_rejects_reserved_mxcsr_bits() {
        let mut image = fxsave_image(&state(), 8);
        image[MXCSR + 2] = 1; // bit 16 of MXCSR
        assert!(fxrstor_image(&mut [0u8; FX_AREA_SIZE], &image, 8).is_none());
    }
}
