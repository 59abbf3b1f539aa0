//! BAR 0 register map of an IAA 1.0 function as Linux's `idxd` driver
//! reads and writes it (`drivers/dma/idxd/registers.h`), plus the BAR 2
//! portal geometry. Offsets are bytes into the BAR; bit fields are named
//! after the driver's unions.

/// PCI vendor ID (Intel).
pub const VENDOR_ID: u16 = 0x8086;
/// PCI device ID of IAA 1.0 on Sapphire Rapids (`PCI_DEVICE_ID_INTEL_IAX_SPR0`).
pub const DEVICE_ID: u16 = 0x0cfe;
/// Class code: system peripheral, other.
pub const CLASS_CODE: u32 = 0x08_80_00;

/// VERSION (32-bit, RO).
pub const VERSION: u64 = 0x00;
/// GENCAP (64-bit, RO).
pub const GENCAP: u64 = 0x10;
/// WQCAP (64-bit, RO).
pub const WQCAP: u64 = 0x20;
/// GRPCAP (64-bit, RO).
pub const GRPCAP: u64 = 0x30;
/// ENGCAP (64-bit, RO).
pub const ENGCAP: u64 = 0x38;
/// OPCAP: 256-bit bitmap of supported opcodes (4 x 64-bit, RO).
pub const OPCAP: u64 = 0x40;
/// TABLE_OFFSET: two 64-bit words of table offsets in 0x100 units (RO).
pub const TABLE_OFFSET: u64 = 0x60;
/// GENCFG (32-bit, RW).
pub const GENCFG: u64 = 0x80;
/// GENCTRL (32-bit, RW).
pub const GENCTRL: u64 = 0x88;
/// GENSTS (32-bit, RO).
pub const GENSTS: u64 = 0x90;
/// INTCAUSE (32-bit, RW1C).
pub const INTCAUSE: u64 = 0x98;
/// CMD (32-bit).
pub const CMD: u64 = 0xa0;
/// CMDSTS (32-bit, RO).
pub const CMDSTS: u64 = 0xa8;
/// CMDCAP (32-bit, RO; only read when GENCAP advertises it, which we don't).
pub const CMDCAP: u64 = 0xb0;
/// SWERR: four 64-bit words (first word's valid/overflow bits RW1C).
pub const SWERR: u64 = 0xc0;
/// Bytes of the SWERR block.
pub const SWERR_LEN: u64 = 32;

/// Version 1.0: no IAACAP, no event log, no v2 paths in the driver.
pub const VERSION_1_0: u32 = 0x100;

/// GENCAP: cache control, memory (bit 2).
pub const GENCAP_CACHE_CONTROL_MEM: u64 = 1 << 2;
/// GENCAP: cache control, cache (bit 3).
pub const GENCAP_CACHE_CONTROL_CACHE: u64 = 1 << 3;
/// GENCAP: max transfer size shift (bits 20:16).
pub const GENCAP_MAX_XFER_SHIFT: u32 = 16;
/// GENCAP: the configuration registers are writable (bit 31).
pub const GENCAP_CONFIG_EN: u64 = 1 << 31;

/// WQCAP: number of WQs (bits 23:16).
pub const WQCAP_NUM_WQS_SHIFT: u32 = 16;
/// WQCAP: WQCFG entry size code (bits 27:24; entry = 32 << code bytes).
pub const WQCAP_WQCFG_SIZE_SHIFT: u32 = 24;
/// WQCAP: dedicated mode supported (bit 49).
pub const WQCAP_DEDICATED: u64 = 1 << 49;
/// WQCAP: WQ priority supported (bit 51).
pub const WQCAP_PRIORITY: u64 = 1 << 51;

/// Table offsets are in units of this many bytes.
pub const TABLE_UNIT: u64 = 0x100;
/// GRPCFG table offset in BAR 0.
pub const GRPCFG_TABLE: u64 = 0x400;
/// Bytes per GRPCFG entry (4 x GRPWQCFG, GRPENGCFG, GRPFLGCFG, reserved).
pub const GRPCFG_ENTRY: u64 = 64;
/// GRPENGCFG's offset in a GRPCFG entry.
pub const GRPCFG_ENGINES: u64 = 0x20;
/// GRPFLGCFG's offset in a GRPCFG entry.
pub const GRPCFG_FLAGS: u64 = 0x28;
/// WQCFG table offset in BAR 0.
pub const WQCFG_TABLE: u64 = 0x800;
/// Bytes per WQCFG entry (size code 0).
pub const WQCFG_ENTRY: u64 = 32;
/// MSI-X permission table offset in BAR 0 (8 bytes per vector).
pub const MSIX_PERM_TABLE: u64 = 0xc00;
/// Bytes per MSI-X permission entry.
pub const MSIX_PERM_ENTRY: u64 = 8;
/// MSI-X vector table offset in BAR 0.
pub const MSIX_TABLE: u64 = 0x2000;
/// MSI-X pending-bit array offset in BAR 0.
pub const MSIX_PBA: u64 = 0x3000;
/// BAR 0 size.
pub const BAR0_SIZE: u64 = 0x1_0000;

/// GENCTRL: software error interrupt enable.
pub const GENCTRL_SOFTERR_INT_EN: u32 = 1 << 0;
/// GENCTRL: writable bits (software error and halt interrupt enables;
/// no event log).
pub const GENCTRL_WRITABLE: u32 = 0b11;
/// GENCFG: writable bits (read-buffer limit, user interrupt enable; no
/// event log).
pub const GENCFG_WRITABLE: u32 = 0x10ff;

/// GENSTS state: disabled.
pub const STATE_DISABLED: u32 = 0;
/// GENSTS state: enabled.
pub const STATE_ENABLED: u32 = 1;

/// INTCAUSE: software error (SWERR valid).
pub const INTC_ERR: u32 = 1 << 0;
/// INTCAUSE: administrative command completed.
pub const INTC_CMD: u32 = 1 << 1;
/// INTCAUSE bits the device can set.
pub const INTC_DEFINED: u32 = 0x8000_003f;

/// CMD: operand (bits 19:0).
pub const CMD_OPERAND_MASK: u32 = 0xf_ffff;
/// CMD: command code (bits 24:20).
pub const CMD_CODE_SHIFT: u32 = 20;
/// CMD: request a completion interrupt (bit 31).
pub const CMD_INT_REQ: u32 = 1 << 31;

/// SWERR word 0: valid.
pub const SWERR_VALID: u64 = 1 << 0;
/// SWERR word 0: overflow (another error arrived while valid).
pub const SWERR_OVERFLOW: u64 = 1 << 1;
/// SWERR word 0: the descriptor fields are valid.
pub const SWERR_DESC_VALID: u64 = 1 << 2;
/// SWERR word 0: the WQ index field is valid.
pub const SWERR_WQ_IDX_VALID: u64 = 1 << 3;

/// WQCFG dword 2: dedicated mode.
pub const WQCFG_MODE_DEDICATED: u32 = 1 << 0;
/// WQCFG dword 2: block on fault.
pub const WQCFG_BOF: u32 = 1 << 1;
/// WQCFG dword 2: PASID enable.
pub const WQCFG_PASID_EN: u32 = 1 << 28;
/// WQCFG dword 6: WQ state field (bits 31:30, RO).
pub const WQCFG_STATE_SHIFT: u32 = 30;
/// Writable bits of each WQCFG dword (unsupported features read as 0).
pub const WQCFG_WRITABLE: [u32; 8] = [
    0x0000_ffff, // WQ size
    0x0000_ffff, // threshold
    0x3fff_fff1, // mode, priority, PASID, PASID enable, privileged
    0x0000_01ff, // max transfer shift, max batch shift
    0x0001_ffff, // occupancy interrupt handle + table select
    0x0001_ffff, // occupancy limit + interrupt enable
    0,           // occupancy, state (RO)
    0,           // reserved
];

/// BAR 2: bytes of portal space per WQ (four 4 KiB pages).
pub const PORTALS_PER_WQ: u64 = 0x4000;
/// BAR 2: bytes per portal page.
pub const PORTAL_PAGE: u64 = 0x1000;
/// Bytes of one descriptor (one MOVDIR64B).
pub const DESCRIPTOR_SIZE: usize = 64;

/// Admin command codes (`enum idxd_cmd`).
pub mod cmd {
    /// Enable the device.
    pub const ENABLE_DEVICE: u32 = 1;
    /// Disable the device.
    pub const DISABLE_DEVICE: u32 = 2;
    /// Drain all WQs.
    pub const DRAIN_ALL: u32 = 3;
    /// Abort all WQs.
    pub const ABORT_ALL: u32 = 4;
    /// Reset the device.
    pub const RESET_DEVICE: u32 = 5;
    /// Enable the WQ whose index is the operand.
    pub const ENABLE_WQ: u32 = 6;
    /// Disable WQs (bitmask operand).
    pub const DISABLE_WQ: u32 = 7;
    /// Drain WQs (bitmask operand).
    pub const DRAIN_WQ: u32 = 8;
    /// Abort WQs (bitmask operand).
    pub const ABORT_WQ: u32 = 9;
    /// Reset WQs (bitmask operand).
    pub const RESET_WQ: u32 = 10;
    /// Drain a PASID.
    pub const DRAIN_PASID: u32 = 11;
    /// Abort a PASID.
    pub const ABORT_PASID: u32 = 12;
}

/// CMDSTS error codes (`enum idxd_cmdsts_err`).
pub mod cmdsts {
    /// Invalid command.
    pub const INVAL_CMD: u32 = 0x01;
    /// Invalid WQ index.
    pub const INVAL_WQIDX: u32 = 0x02;
    /// Enable device: already enabled.
    pub const DEV_ENABLED: u32 = 0x10;
    /// Enable device: configuration error.
    pub const CONFIG: u32 = 0x11;
    /// Enable device: bus mastering is off.
    pub const BUSMASTER_EN: u32 = 0x12;
    /// Enable device: WQ sizes exceed the total.
    pub const WQ_SIZE_ERANGE: u32 = 0x14;
    /// Enable WQ: the device is not enabled.
    pub const DEV_NOTEN: u32 = 0x20;
    /// Enable WQ: already enabled.
    pub const WQ_ENABLED: u32 = 0x21;
    /// Enable WQ: bad size.
    pub const WQ_SIZE: u32 = 0x22;
    /// Enable WQ: bad mode.
    pub const WQ_MODE: u32 = 0x24;
    /// Enable WQ: PASID enabled but not supported.
    pub const PASID_EN: u32 = 0x26;
    /// Enable WQ: max transfer size beyond GENCAP.
    pub const MAX_XFER_SIZE: u32 = 0x28;
    /// Disable device: not enabled.
    pub const DIS_DEV_EN: u32 = 0x31;
    /// WQ command while the device is not enabled.
    pub const DEV_NOT_EN: u32 = 0x32;
}
