//! Local APIC wiring at reset, as on a PC: LINT0 takes the PIC's ExtINT,
//! LINT1 is the NMI line.

use anyhow::{Context, Result};
use kvm_bindings::kvm_lapic_state;
use kvm_ioctls::VcpuFd;

const APIC_LVT0: usize = 0x350;
const APIC_LVT1: usize = 0x360;
const DELIVERY_MODE_EXTINT: u32 = 0x7 << 8;
const DELIVERY_MODE_NMI: u32 = 0x4 << 8;
const DELIVERY_MODE_MASK: u32 = 0x7 << 8;

fn read_reg(state: &kvm_lapic_state, offset: usize) -> u32 {
    let b = &state.regs[offset..offset + 4];
    u32::from_le_bytes([b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8])
}

fn write_reg(state: &mut kvm_lapic_state, offset: usize, value: u32) {
    for (i, byte) in value.to_le_bytes().iter().enumerate() {
        state.regs[offset + i] = *byte as _;
    }
}

fn set_delivery_mode(state: &mut kvm_lapic_state, offset: usize, mode: u32) {
    let value = (read_reg(state, offset) & !DELIVERY_MODE_MASK) | mode;
    write_reg(state, offset, value);
}

/// Sets LINT0 to ExtINT and LINT1 to NMI.
pub fn configure_lints(vcpu: &VcpuFd) -> Result<()> {
    let mut state = vcpu.get_lapic().context("KVM_GET_LAPIC")?;
    set_delivery_mode(&mut state, APIC_LVT0, DELIVERY_MODE_EXTINT);
    set_delivery_mode(&mut state, APIC_LVT1, DELIVERY_MODE_NMI);
    vcpu.set_lapic(&state).context("KVM_SET_LAPIC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_set_delivery_mode_keeps_other_bits() {
        let mut s = kvm_lapic_state::default();
        write_reg(&mut s, APIC_LVT0, 0x0001_0000 | DELIVERY_MODE_NMI | 0x20);
        set_delivery_mode(&mut s, APIC_LVT0, DELIVERY_MODE_EXTINT);
        assert_eq!(
            read_reg(&s, APIC_LVT0),
            0x0001_0000 | DELIVERY_MODE_EXTINT | 0x20
        );
    }
}
