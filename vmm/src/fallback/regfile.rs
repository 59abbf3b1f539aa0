//! General-purpose registers by iced-x86 name, with x86's write rules: a
//! 32-bit write zero-extends, 8- and 16-bit writes keep the other bits.

use iced_x86::Register;
use kvm_bindings::kvm_regs;

/// The 64-bit register slot holding `reg`, and how to view it.
fn slot(regs: &mut kvm_regs, reg: Register) -> Option<(&mut u64, View)> {
    use Register::{
        AH, BH, CH, DH, R10, R11, R12, R13, R14, R15, R8, R9, RAX, RBP, RBX, RCX, RDI, RDX, RSI,
        RSP,
    };
    let full = reg.full_register();
    let view = match reg {
        AH | CH | DH | BH => View::High8,
        _ if reg.is_gpr8() => View::Low8,
        _ if reg.is_gpr16() => View::Low16,
        _ if reg.is_gpr32() => View::Low32,
        _ if reg.is_gpr64() => View::Full,
        _ => return None,
    };
    let slot = match full {
        RAX => &mut regs.rax,
        RCX => &mut regs.rcx,
        RDX => &mut regs.rdx,
        RBX => &mut regs.rbx,
        RSP => &mut regs.rsp,
        RBP => &mut regs.rbp,
        RSI => &mut regs.rsi,
        RDI => &mut regs.rdi,
        R8 => &mut regs.r8,
        R9 => &mut regs.r9,
        R10 => &mut regs.r10,
        R11 => &mut regs.r11,
        R12 => &mut regs.r12,
        R13 => &mut regs.r13,
        R14 => &mut regs.r14,
        R15 => &mut regs.r15,
        _ => return None,
    };
    Some((slot, view))
}

#[derive(Clone, Copy)]
enum View {
    Low8,
    High8,
    Low16,
    Low32,
    Full,
}

/// Reads a general-purpose register (None for other registers).
pub fn read(regs: &kvm_regs, reg: Register) -> Option<u64> {
    let mut copy = *regs;
    let (value, view) = slot(&mut copy, reg)?;
    Some(match view {
        View::Low8 => *value & 0xff,
        View::High8 => (*value >> 8) & 0xff,
        View::Low16 => *value & 0xffff,
        View::Low32 => *value & 0xffff_ffff,
        View::Full => *value,
    })
}

/// Writes a general-purpose register; false for other registers.
pub fn write(regs: &mut kvm_regs, reg: Register, new: u64) -> bool {
    let Some((value, view)) = slot(regs, reg) else {
        return false;
    };
    *value = match view {
        View::Low8 => (*value & !0xff) | (new & 0xff),
        View::High8 => (*value & !0xff00) | ((new & 0xff) << 8),
        View::Low16 => (*value & !0xffff) | (new & 0xffff),
        View::Low32 => new & 0xffff_ffff,
        View::Full => new,
    };
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_regfile_32bit_write_zero_extends() {
        let mut r = kvm_regs {
            rax: u64::MAX,
            ..Default::default()
        };
        assert!(write(&mut r, Register::EAX, 0x1234));
        assert_eq!(r.rax, 0x1234);
    }

    #[test]
    fn test_regfile_narrow_writes_keep_other_bits() {
        let mut r = kvm_regs {
            rbx: 0x1111_2222_3333_4444,
            ..Default::default()
        };
        write(&mut r, Register::BX, 0xabcd);
        assert_eq!(r.rbx, 0x1111_2222_3333_abcd);
        write(&mut r, Register::BH, 0x99);
        assert_eq!(r.rbx, 0x1111_2222_3333_99cd);
        write(&mut r, Register::BL, 0x77);
        assert_eq!(r.rbx, 0x1111_2222_3333_9977);
    }

    #[test]
    fn test_regfile_reads_views_and_extended_registers() {
        let r = kvm_regs {
            rcx: 0xdead_beef_cafe_f00d,
            r13: 7,
            ..Default::default()
        };
        assert_eq!(read(&r, Register::ECX), Some(0xcafe_f00d));
        assert_eq!(read(&r, Register::CH), Some(0xf0));
        assert_eq!(read(&r, Register::R13D), Some(7));
        assert_eq!(read(&r, Register::XMM0), None);
    }
}
