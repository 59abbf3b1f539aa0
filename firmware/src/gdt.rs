//! The boot GDT for a 32-bit protected-mode entry: flat code and data
//! segments and a TSS, as descriptors in guest memory and as the decoded
//! segment state the VMM loads into the vCPU. The selectors are Linux's
//! `__BOOT_CS` (0x10) and `__BOOT_DS` (0x18), which its 32-bit boot
//! protocol requires; PVH leaves selectors to the VMM, so both use them.

use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend};

/// A segment as the CPU caches it, decoded from a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Selector (index * 8).
    pub selector: u16,
    /// Base address.
    pub base: u32,
    /// Limit in bytes (already scaled by the granularity bit).
    pub limit: u32,
    /// Type field (bits 40..44 of the descriptor).
    pub type_: u8,
    /// S bit: code/data (1) or system (0).
    pub s: bool,
    /// Descriptor privilege level.
    pub dpl: u8,
    /// Present bit.
    pub present: bool,
    /// L bit (64-bit code).
    pub l: bool,
    /// D/B bit (32-bit default operand size).
    pub db: bool,
    /// Granularity bit (limit in 4 KiB units).
    pub g: bool,
}

impl Segment {
    /// The 8-byte descriptor for this segment.
    pub fn descriptor(&self) -> u64 {
        let raw_limit = if self.g { self.limit >> 12 } else { self.limit };
        let base = u64::from(self.base);
        let limit = u64::from(raw_limit);
        let access = u64::from(self.type_ & 0xf)
            | (u64::from(self.s) << 4)
            | (u64::from(self.dpl & 3) << 5)
            | (u64::from(self.present) << 7);
        let flags = (u64::from(self.l) << 1) | (u64::from(self.db) << 2) | (u64::from(self.g) << 3);
        (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (access << 40)
            | (((limit >> 16) & 0xf) << 48)
            | (flags << 52)
            | (((base >> 24) & 0xff) << 56)
    }
}

/// Flat 4 GiB 32-bit code segment, selector 0x10 (`__BOOT_CS`).
pub const CODE32: Segment = Segment {
    selector: 0x10,
    base: 0,
    limit: 0xffff_ffff,
    type_: 0xb,
    s: true,
    dpl: 0,
    present: true,
    l: false,
    db: true,
    g: true,
};

/// Flat 4 GiB data segment, selector 0x18 (`__BOOT_DS`).
pub const DATA32: Segment = Segment {
    selector: 0x18,
    type_: 0x3,
    ..CODE32
};

/// A minimal busy 32-bit TSS, selector 0x20 (VT-x needs a usable TR).
pub const TSS: Segment = Segment {
    selector: 0x20,
    base: 0,
    limit: 0x67,
    type_: 0xb,
    s: false,
    dpl: 0,
    present: true,
    l: false,
    db: false,
    g: false,
};

/// Number of GDT entries (null, unused, code, data, TSS).
pub const GDT_ENTRIES: usize = 5;

/// Writes the boot GDT at `addr`; returns its limit (size - 1) for GDTR.
pub fn write_boot_gdt<M: GuestMemoryBackend>(
    mem: &M,
    addr: GuestAddress,
) -> Result<u16, vm_memory::GuestMemoryError> {
    let entries = [
        0,
        0,
        CODE32.descriptor(),
        DATA32.descriptor(),
        TSS.descriptor(),
    ];
    for (i, entry) in entries.iter().enumerate() {
        mem.write_obj(*entry, GuestAddress(addr.0 + 8 * i as u64))?;
    }
    Ok((8 * GDT_ENTRIES - 1) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_gdt_code32_descriptor_matches_flat_code_segment() {
        assert_eq!(CODE32.descriptor(), 0x00cf_9b00_0000_ffff);
    }

    #[test]
    fn test_gdt_data32_descriptor_matches_flat_data_segment() {
        assert_eq!(DATA32.descriptor(), 0x00cf_9300_0000_ffff);
    }

    #[test]
    fn test_gdt_tss_descriptor_is_busy_system_segment() {
        assert_eq!(TSS.descriptor(), 0x0000_8b00_0000_0067);
    }

    #[test]
    fn test_gdt_write_fails_outside_memory() {
        let mem =
            vm_memory::GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x1000)]).unwrap();
        assert_eq!(write_boot_gdt(&mem, GuestAddress(0x500)).unwrap(), 39);
        let code: u64 = mem
            .read_obj(GuestAddress(0x500 + u64::from(CODE32.selector)))
            .unwrap();
        let data: u64 = mem
            .read_obj(GuestAddress(0x500 + u64::from(DATA32.selector)))
            .unwrap();
        assert_eq!((code, data), (CODE32.descriptor(), DATA32.descriptor()));
        assert!(write_boot_gdt(&mem, GuestAddress(0xff0)).is_err());
    }
}
