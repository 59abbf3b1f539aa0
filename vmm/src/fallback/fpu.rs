//! fwait, fxsave/fxrstor and ldmxcsr/stmxcsr on the vCPU's x87/SSE state,
//! kept in FXSAVE layout (see [`GuestCpu::fx_area`]).

use iced_x86::{Instruction, Mnemonic};

use super::cpu::{bitness, CpuError, FxArea, GuestCpu, FX_AREA_SIZE, GP0, MF, NM, UD};
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
/// FPU instruction/data pointers: 64-bit FIP at 8, FDP at 16 (REX.W form);
/// 32-bit FIP at 8 + FCS at 12, FDP at 16 + FDS at 20 (the other form).
const FIP: usize = 8;
const FDP: usize = 16;
const CR0_MP: u64 = 1 << 1;
const CR0_EM: u64 = 1 << 2;
const CR0_TS: u64 = 1 << 3;
const CR4_OSFXSR: u64 = 1 << 9;

/// The #NM/#UD checks of the SDM for an x87/SSE state instruction.
fn unavailable(
    cpu: &mut dyn GuestCpu,
    sse: bool,
) -> Result<Option<super::cpu::Exception>, CpuError> {
    let (cr0, cr4) = {
        let s = cpu.sregs()?;
        (s.cr0, s.cr4)
    };
    if sse && (cr0 & CR0_EM != 0 || cr4 & CR4_OSFXSR == 0) {
        return Ok(Some(UD));
    }
    Ok((cr0 & (CR0_TS | CR0_EM) != 0).then_some(NM))
}

fn mxcsr_of(area: &FxArea) -> u32 {
    u32::from_le_bytes([
        area[MXCSR],
        area[MXCSR + 1],
        area[MXCSR + 2],
        area[MXCSR + 3],
    ])
}

/// fwait: #NM if CR0.MP and CR0.TS; #MF if an unmasked x87 exception is
/// pending; else nothing.
pub fn fwait(_instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    if cpu.sregs()?.cr0 & (CR0_MP | CR0_TS) == CR0_MP | CR0_TS {
        return Ok(Step::Raise(NM));
    }
    let area = cpu.fx_area()?;
    if u16::from_le_bytes([area[FSW], area[FSW + 1]]) & FSW_ES != 0 {
        return Ok(Step::Raise(MF));
    }
    Ok(Step::Done)
}

/// ldmxcsr / stmxcsr with a 32-bit memory operand.
pub fn mxcsr(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    if let Some(e) = unavailable(cpu, true)? {
        return Ok(Step::Raise(e));
    }
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

/// The bytes fxsave stores: the state with MXCSR_MASK filled in, through
/// the last XMM register the mode has (the processor writes nothing beyond;
/// bytes 464..512 are software's). Without REX.W (`wide` false) the pointers
/// take the 32-bit form: FIP/FDP truncated, FCS/FDS stored as 0.
pub fn fxsave_image(state: &FxArea, xmm_count: usize, wide: bool) -> Vec<u8> {
    let mut image = state[..XMM0 + 16 * xmm_count].to_vec();
    image[MXCSR_MASK_AT..MXCSR_MASK_AT + 4].copy_from_slice(&MXCSR_MASK.to_le_bytes());
    if !wide {
        image[FIP + 4..FIP + 8].fill(0);
        image[FDP + 4..FDP + 8].fill(0);
    }
    image
}

/// Loads an fxsave image into `state`; None if MXCSR has reserved bits (#GP).
/// Without REX.W the 32-bit pointers are zero-extended (FCS/FDS dropped).
pub fn fxrstor_image(
    state: &mut FxArea,
    image: &FxArea,
    xmm_count: usize,
    wide: bool,
) -> Option<()> {
    if mxcsr_of(image) & !MXCSR_MASK != 0 {
        return None;
    }
    state[..MXCSR_MASK_AT].copy_from_slice(&image[..MXCSR_MASK_AT]);
    if !wide {
        state[FIP + 4..FIP + 8].fill(0);
        state[FDP + 4..FDP + 8].fill(0);
    }
    let end = (XMM0 + 16 * xmm_count).min(LOADED_END);
    state[MXCSR_MASK_AT + 4..end].copy_from_slice(&image[MXCSR_MASK_AT + 4..end]);
    Some(())
}

/// fxsave / fxrstor (the area must be 16-byte aligned, else #GP).
pub fn fxsave_fxrstor(instr: &Instruction, cpu: &mut dyn GuestCpu) -> Result<Step, CpuError> {
    if let Some(e) = unavailable(cpu, false)? {
        return Ok(Step::Raise(e));
    }
    let addr = operand::address(instr, 0, cpu)?;
    if addr % 16 != 0 {
        return Ok(Step::Raise(GP0));
    }
    // Outside 64-bit mode only XMM0-7 exist.
    let xmm_count = if bitness(cpu)? == 64 { 16 } else { 8 };
    let mnemonic = instr.mnemonic();
    let wide = matches!(mnemonic, Mnemonic::Fxsave64 | Mnemonic::Fxrstor64);
    if matches!(mnemonic, Mnemonic::Fxsave | Mnemonic::Fxsave64) {
        let image = fxsave_image(cpu.fx_area()?, xmm_count, wide);
        return Ok(match cpu.write_virt(addr, &image)? {
            Ok(()) => Step::Done,
            Err(e) => Step::Raise(e),
        });
    }
    let mut image = [0u8; FX_AREA_SIZE];
    if let Err(e) = cpu.read_virt(addr, &mut image)? {
        return Ok(Step::Raise(e));
    }
    Ok(
        match fxrstor_image(cpu.fx_area()?, &image, xmm_count, wide) {
            Some(()) => Step::Done,
            None => Step::Raise(GP0),
        },
    )
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

    fn area(image: &[u8]) -> FxArea {
        let mut a = [0u8; FX_AREA_SIZE];
        a[..image.len()].copy_from_slice(image);
        a
    }

    #[test]
    fn test_fxsave_image_round_trips_through_fxrstor() {
        let image = fxsave_image(&state(), 16, true);
        assert_eq!(
            image.len(),
            XMM0 + 16 * 16,
            "through XMM15, not the software bytes"
        );
        assert_eq!(
            &image[MXCSR..MXCSR + 8],
            &[0xa0, 0x1f, 0, 0, 0xff, 0xff, 0, 0]
        );
        let mut back = [0u8; FX_AREA_SIZE];
        fxrstor_image(&mut back, &area(&image), 16, true).unwrap();
        assert_eq!(mxcsr_of(&back), 0x1fa0);
        assert_eq!(back[..MXCSR_MASK_AT], state()[..MXCSR_MASK_AT]);
        assert_eq!(back[XMM0 + 16 * 15], 7);
    }

    #[test]
    fn test_fxsave_outside_64bit_mode_stores_eight_xmm_registers() {
        assert_eq!(fxsave_image(&state(), 8, false).len(), XMM0 + 16 * 8);
    }

    #[test]
    fn test_fxsave_without_rex_w_stores_32bit_pointers() {
        let mut s = state();
        s[FIP..FIP + 8].copy_from_slice(&0xffff_ffff_8100_1234u64.to_le_bytes());
        s[FDP..FDP + 8].copy_from_slice(&0xffff_8880_0000_5678u64.to_le_bytes());
        let narrow = fxsave_image(&s, 8, false);
        assert_eq!(&narrow[FIP..FIP + 8], &[0x34, 0x12, 0x00, 0x81, 0, 0, 0, 0]);
        assert_eq!(&narrow[FDP..FDP + 8], &[0x78, 0x56, 0, 0, 0, 0, 0, 0]);
        let wide = fxsave_image(&s, 16, true);
        assert_eq!(&wide[FIP..FIP + 8], &s[FIP..FIP + 8]);
        let mut back = [0xffu8; FX_AREA_SIZE];
        fxrstor_image(&mut back, &area(&wide), 8, false).unwrap();
        assert_eq!(
            &back[FIP..FIP + 8],
            &[0x34, 0x12, 0x00, 0x81, 0, 0, 0, 0],
            "zero-extended"
        );
    }

    #[test]
    fn test_fxrstor_rejects_reserved_mxcsr_bits() {
        let mut image = area(&fxsave_image(&state(), 8, false));
        image[MXCSR + 2] = 1; // bit 16 of MXCSR
        assert!(fxrstor_image(&mut [0u8; FX_AREA_SIZE], &image, 8, false).is_none());
    }
}
