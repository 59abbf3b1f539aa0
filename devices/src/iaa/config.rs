//! The shape of an emulated IAA: how many work queues, engines and groups
//! it has, and the largest transfer a descriptor may ask for. The
//! capability registers are derived from it.

use thiserror::Error;

use super::regs::*;

/// Errors in an [`IaaConfig`].
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IaaConfigError {
    /// WQ count outside 1..=32 (the WQCFG table must fit below the MSI-X
    /// permission table).
    #[error("{0} work queues (1 to 32 supported)")]
    WorkQueues(u8),
    /// Group count outside 1..=16.
    #[error("{0} groups (1 to 16 supported)")]
    Groups(u8),
    /// Engine count outside 1..=64.
    #[error("{0} engines (1 to 64 supported)")]
    Engines(u8),
    /// Total WQ size smaller than the WQ count.
    #[error("total WQ size {0} cannot give each work queue an entry")]
    TotalWqSize(u16),
    /// Max transfer shift outside 21..=24 (2 MiB to 16 MiB). Linux 6.12
    /// programs every WQ for 2 MiB whatever GENCAP says, and a WQ asking
    /// for more than GENCAP allows fails to enable.
    #[error("max transfer shift {0} (21 to 24 supported)")]
    MaxTransferShift(u8),
}

/// The shape of the device. [`Default`] is one IAA 1.0 as the spec
/// recommends: 8 WQs sharing 128 entries, 8 engines, 4 groups, 2 MiB
/// transfers (Linux's default WQ maximum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaaConfig {
    /// Number of work queues.
    pub work_queues: u8,
    /// Entries shared by all WQs (WQCAP total WQ size).
    pub total_wq_size: u16,
    /// Number of engines.
    pub engines: u8,
    /// Number of groups.
    pub groups: u8,
    /// log2 of the largest source or destination a descriptor may use;
    /// it also bounds the VMM's per-descriptor scratch memory.
    pub max_transfer_shift: u8,
}

impl Default for IaaConfig {
    fn default() -> Self {
        Self {
            work_queues: 8,
            total_wq_size: 128,
            engines: 8,
            groups: 4,
            max_transfer_shift: 21,
        }
    }
}

impl IaaConfig {
    /// Checks the limits the register layout imposes.
    pub fn validate(&self) -> Result<(), IaaConfigError> {
        if !(1..=32).contains(&self.work_queues) {
            return Err(IaaConfigError::WorkQueues(self.work_queues));
        }
        if !(1..=16).contains(&self.groups) {
            return Err(IaaConfigError::Groups(self.groups));
        }
        if !(1..=64).contains(&self.engines) {
            return Err(IaaConfigError::Engines(self.engines));
        }
        if self.total_wq_size < u16::from(self.work_queues) {
            return Err(IaaConfigError::TotalWqSize(self.total_wq_size));
        }
        if !(21..=24).contains(&self.max_transfer_shift) {
            return Err(IaaConfigError::MaxTransferShift(self.max_transfer_shift));
        }
        Ok(())
    }

    /// MSI-X vectors: vector 0 for the device, one per WQ.
    pub fn msix_vectors(&self) -> u16 {
        u16::from(self.work_queues) + 1
    }

    /// BAR 2 size: four portal pages per WQ, rounded up to a power of two.
    pub fn bar2_size(&self) -> u64 {
        (u64::from(self.work_queues) * PORTALS_PER_WQ).next_power_of_two()
    }

    /// The largest transfer in bytes.
    pub fn max_transfer(&self) -> u64 {
        1 << self.max_transfer_shift
    }

    /// GENCAP: configurable, cache control, max transfer shift; no block
    /// on fault, no CMDCAP, no event log, no batches.
    pub fn gencap(&self) -> u64 {
        GENCAP_CONFIG_EN
            | GENCAP_CACHE_CONTROL_MEM
            | GENCAP_CACHE_CONTROL_CACHE
            | (u64::from(self.max_transfer_shift) << GENCAP_MAX_XFER_SHIFT)
    }

    /// WQCAP: total size, WQ count, 32-byte WQCFG entries, dedicated mode
    /// and priorities; no shared mode, ATS, occupancy or op_config.
    pub fn wqcap(&self) -> u64 {
        u64::from(self.total_wq_size)
            | (u64::from(self.work_queues) << WQCAP_NUM_WQS_SHIFT)
            | WQCAP_DEDICATED
            | WQCAP_PRIORITY
    }

    /// GRPCAP: the group count; no read buffers or limits.
    pub fn grpcap(&self) -> u64 {
        u64::from(self.groups)
    }

    /// ENGCAP: the engine count.
    pub fn engcap(&self) -> u64 {
        u64::from(self.engines)
    }

    /// TABLE_OFFSET word 0: GRPCFG, WQCFG, MSI-X permissions; no IMS. Word
    /// 1 (perfmon) is 0: no performance monitor.
    pub fn table_offsets(&self) -> u64 {
        (GRPCFG_TABLE / TABLE_UNIT)
            | ((WQCFG_TABLE / TABLE_UNIT) << 16)
            | ((MSIX_PERM_TABLE / TABLE_UNIT) << 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_default_config_gives_the_spec_registers() {
        let c = IaaConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.wqcap(), 0x000a_0000_0008_0080);
        assert_eq!(c.grpcap(), 4);
        assert_eq!(c.engcap(), 8);
        assert_eq!(c.table_offsets(), 0x0000_000c_0008_0004);
        assert_eq!(c.gencap(), 0x8015_000c);
        assert_eq!(c.bar2_size(), 0x2_0000);
        assert_eq!(c.msix_vectors(), 9);
    }

    #[test]
    fn test_out_of_range_shapes_are_refused() {
        let bad = IaaConfig {
            work_queues: 0,
            ..IaaConfig::default()
        };
        assert_eq!(bad.validate(), Err(IaaConfigError::WorkQueues(0)));
        let bad = IaaConfig {
            max_transfer_shift: 31,
            ..IaaConfig::default()
        };
        assert_eq!(bad.validate(), Err(IaaConfigError::MaxTransferShift(31)));
        let odd = IaaConfig {
            work_queues: 3,
            ..IaaConfig::default()
        };
        assert_eq!(odd.bar2_size(), 0x1_0000);
    }
}
