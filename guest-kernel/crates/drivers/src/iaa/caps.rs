//! What the capability registers say, read once after the reset.

use super::regs::{self, field};
use super::IaaError;

/// The device's capabilities and table locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// VERSION (0x100 for IAA 1.0).
    pub version: u32,
    /// log2 of the largest transfer a descriptor may move.
    pub max_xfer_shift: u8,
    /// WQ entries to share out among the WQs.
    pub total_wq_size: u16,
    /// Number of WQs.
    pub num_wqs: u8,
    /// Bytes per WQCFG entry.
    pub wqcfg_size: u64,
    /// Number of groups.
    pub num_groups: u8,
    /// Read buffers a group may be allowed.
    pub read_buffers: u8,
    /// Number of engines.
    pub num_engines: u8,
    /// GRPCFG table offset in BAR0.
    pub grpcfg: u64,
    /// WQCFG table offset in BAR0.
    pub wqcfg: u64,
}

/// The raw register values [`Capabilities::parse`] reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapRegisters {
    /// VERSION.
    pub version: u32,
    /// GENCAP.
    pub gencap: u64,
    /// WQCAP.
    pub wqcap: u64,
    /// GRPCAP.
    pub grpcap: u64,
    /// ENGCAP.
    pub engcap: u64,
    /// TABLE_OFFSET's first qword.
    pub table_offset: u64,
}

impl Capabilities {
    /// Checks the registers describe a device this driver can set up: a
    /// configurable one with a dedicated WQ, a group and an engine, and
    /// tables inside BAR0 (`bar0_size` bytes).
    pub fn parse(raw: CapRegisters, bar0_size: u64) -> Result<Self, IaaError> {
        if raw.gencap & regs::GENCAP_CONFIG == 0 {
            return Err(IaaError::NotConfigurable);
        }
        if raw.wqcap & regs::WQCAP_DEDICATED == 0 {
            return Err(IaaError::Unsupported("dedicated work queues"));
        }
        let caps = Self {
            version: raw.version,
            max_xfer_shift: field(raw.gencap, regs::GENCAP_MAX_XFER_SHIFT) as u8,
            total_wq_size: field(raw.wqcap, regs::WQCAP_TOTAL_SIZE) as u16,
            num_wqs: field(raw.wqcap, regs::WQCAP_NUM_WQS) as u8,
            wqcfg_size: 1 << (field(raw.wqcap, regs::WQCAP_CFG_SIZE) + 5),
            num_groups: field(raw.grpcap, regs::GRPCAP_NUM_GROUPS) as u8,
            read_buffers: field(raw.grpcap, regs::GRPCAP_RDBUFS) as u8,
            num_engines: field(raw.engcap, regs::ENGCAP_NUM_ENGINES) as u8,
            grpcfg: (raw.table_offset & 0xffff) * regs::TABLE_UNIT,
            wqcfg: ((raw.table_offset >> 16) & 0xffff) * regs::TABLE_UNIT,
        };
        if caps.num_wqs == 0 || caps.total_wq_size == 0 {
            return Err(IaaError::Unsupported("work queues"));
        }
        if caps.num_groups == 0 {
            return Err(IaaError::Unsupported("groups"));
        }
        if caps.num_engines == 0 {
            return Err(IaaError::Unsupported("engines"));
        }
        let grpcfg_end = caps.grpcfg + u64::from(caps.num_groups) * regs::GRPCFG_SIZE;
        let wqcfg_end = caps.wqcfg + u64::from(caps.num_wqs) * caps.wqcfg_size;
        let placed = |start: u64, end: u64| start != 0 && end <= bar0_size;
        if !placed(caps.grpcfg, grpcfg_end) || !placed(caps.wqcfg, wqcfg_end) {
            return Err(IaaError::BadTables);
        }
        Ok(caps)
    }

    /// The max transfer shift to program into a WQ: 2 MiB (Linux's
    /// default), or less if the device cannot move that much.
    pub fn wq_max_xfer_shift(&self) -> u8 {
        self.max_xfer_shift.min(21)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration the emulation spec recommends (§3).
    fn spec_registers() -> CapRegisters {
        CapRegisters {
            version: 0x100,
            gencap: 0x801f_000c,
            wqcap: 0x000a_0000_0008_0080,
            grpcap: 0x4,
            engcap: 0x8,
            table_offset: 0x0000_000c_0008_0004,
        }
    }

    #[test]
    fn test_parse_spec_configuration_finds_tables_and_sizes() {
        let caps = Capabilities::parse(spec_registers(), 0x10000).unwrap();
        assert_eq!(caps.max_xfer_shift, 31);
        assert_eq!(caps.total_wq_size, 128);
        assert_eq!(caps.num_wqs, 8);
        assert_eq!(caps.wqcfg_size, 32);
        assert_eq!((caps.num_groups, caps.num_engines), (4, 8));
        assert_eq!((caps.grpcfg, caps.wqcfg), (0x400, 0x800));
        assert_eq!(caps.wq_max_xfer_shift(), 21);
    }

    #[test]
    fn test_parse_read_only_configuration_is_refused() {
        let mut raw = spec_registers();
        raw.gencap &= !regs::GENCAP_CONFIG;
        assert_eq!(
            Capabilities::parse(raw, 0x10000),
            Err(IaaError::NotConfigurable)
        );
    }

    #[test]
    fn test_parse_tables_outside_bar0_are_refused() {
        assert_eq!(
            Capabilities::parse(spec_registers(), 0x800),
            Err(IaaError::BadTables)
        );
        let mut raw = spec_registers();
        raw.table_offset = 0;
        assert_eq!(Capabilities::parse(raw, 0x10000), Err(IaaError::BadTables));
    }

    #[test]
    fn test_parse_without_engines_is_refused() {
        let mut raw = spec_registers();
        raw.engcap = 0;
        assert_eq!(
            Capabilities::parse(raw, 0x10000),
            Err(IaaError::Unsupported("engines"))
        );
    }
}
