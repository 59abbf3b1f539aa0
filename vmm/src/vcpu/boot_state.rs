//! The boot vCPU's state at a 32-bit entry (PVH or Linux's 32-bit boot
//! protocol): protected mode, paging off, flat segments from the boot GDT,
//! and the boot information's address in EBX (PVH) or ESI (Linux).

use anyhow::{Context, Result};
use firmware::gdt::{Segment, CODE32, DATA32, TSS};
use firmware::layout::BOOT_GDT_ADDR;
use kvm_bindings::{kvm_regs, kvm_segment};
use kvm_ioctls::VcpuFd;

use crate::boot::{BootEntry, InfoRegister};

const CR0_PE: u64 = 1;
const CR0_ET: u64 = 1 << 4;
const RFLAGS_RESERVED: u64 = 1 << 1;

/// The KVM form of a GDT segment.
pub fn kvm_segment_from(seg: &Segment) -> kvm_segment {
    kvm_segment {
        base: u64::from(seg.base),
        limit: seg.limit,
        selector: seg.selector,
        type_: seg.type_,
        present: u8::from(seg.present),
        dpl: seg.dpl,
        db: u8::from(seg.db),
        s: u8::from(seg.s),
        l: u8::from(seg.l),
        g: u8::from(seg.g),
        avl: 0,
        unusable: u8::from(!seg.present),
        padding: 0,
    }
}

/// Puts `vcpu` at the kernel's entry.
pub fn set_entry_state(vcpu: &VcpuFd, entry: &BootEntry) -> Result<()> {
    let mut sregs = vcpu.get_sregs().context("KVM_GET_SREGS")?;
    let data = kvm_segment_from(&DATA32);
    sregs.cs = kvm_segment_from(&CODE32);
    sregs.ds = data;
    sregs.es = data;
    sregs.fs = data;
    sregs.gs = data;
    sregs.ss = data;
    sregs.tr = kvm_segment_from(&TSS);
    sregs.gdt.base = BOOT_GDT_ADDR;
    sregs.gdt.limit = entry.gdt_limit;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr0 = CR0_PE | CR0_ET;
    sregs.cr3 = 0;
    sregs.cr4 = 0;
    sregs.efer = 0;
    vcpu.set_sregs(&sregs).context("KVM_SET_SREGS")?;

    let mut regs = kvm_regs {
        rip: entry.entry.0,
        rflags: RFLAGS_RESERVED,
        ..Default::default()
    };
    match entry.info_register {
        InfoRegister::Rbx => regs.rbx = entry.info.0,
        InfoRegister::Rsi => regs.rsi = entry.info.0,
    }
    // x87/SSE state stays KVM's reset state (FCW 0x37f, MXCSR 0x1f80).
    vcpu.set_regs(&regs).context("KVM_SET_REGS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_kvm_segment_from_code32() {
        let s = kvm_segment_from(&CODE32);
        assert_eq!(
            (s.selector, s.type_, s.db, s.l, s.g, s.s),
            (0x10, 0xb, 1, 0, 1, 1)
        );
        assert_eq!(
            (s.base, s.limit, s.present, s.unusable),
            (0, 0xffff_ffff, 1, 0)
        );
    }

    #[test]
    fn test_kvm_segment_from_tss_is_system_segment() {
        let s = kvm_segment_from(&TSS);
        assert_eq!((s.selector, s.type_, s.s, s.limit), (0x20, 0xb, 0, 0x67));
    }
}
