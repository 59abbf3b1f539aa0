//! BAR0 registers, admin commands and table layouts of an IAA 1.0 device
//! (the idxd register file: offsets and fields as Linux's
//! `drivers/dma/idxd/registers.h` names them).

/// VERSION (32 bits): 0x100 is IAA 1.0.
pub const VERSION: u64 = 0x00;
/// GENCAP (64 bits): general capabilities.
pub const GENCAP: u64 = 0x10;
/// WQCAP (64 bits): work-queue capabilities.
pub const WQCAP: u64 = 0x20;
/// GRPCAP (64 bits): group capabilities.
pub const GRPCAP: u64 = 0x30;
/// ENGCAP (64 bits): engine capabilities.
pub const ENGCAP: u64 = 0x38;
/// OPCAP (4 x 64 bits): the supported-opcode bitmap.
pub const OPCAP: u64 = 0x40;
/// TABLE_OFFSET (2 x 64 bits): where GRPCFG, WQCFG, ... live, in 0x100 units.
pub const TABLE_OFFSET: u64 = 0x60;
/// GENCTRL (32 bits): interrupt enables.
pub const GENCTRL: u64 = 0x88;
/// GENSTS (32 bits): device state.
pub const GENSTS: u64 = 0x90;
/// INTCAUSE (32 bits, write 1 to clear): why vector 0 fired.
pub const INTCAUSE: u64 = 0x98;
/// CMD (32 bits): admin command submission.
pub const CMD: u64 = 0xa0;
/// CMDSTS (32 bits): admin command status.
pub const CMDSTS: u64 = 0xa8;
/// SWERR (4 x 64 bits): software error record.
pub const SWERR: u64 = 0xc0;

/// GENCAP bits 20:16: log2 of the largest transfer.
pub const GENCAP_MAX_XFER_SHIFT: (u32, u64) = (16, 0x1f);
/// GENCAP bit 31: the configuration registers are writable.
pub const GENCAP_CONFIG: u64 = 1 << 31;

/// WQCAP bits 15:0: WQ entries to share out.
pub const WQCAP_TOTAL_SIZE: (u32, u64) = (0, 0xffff);
/// WQCAP bits 23:16: number of WQs.
pub const WQCAP_NUM_WQS: (u32, u64) = (16, 0xff);
/// WQCAP bits 27:24: WQCFG entry size, 1 << (code + 5) bytes.
pub const WQCAP_CFG_SIZE: (u32, u64) = (24, 0xf);
/// WQCAP bit 49: dedicated mode.
pub const WQCAP_DEDICATED: u64 = 1 << 49;

/// GRPCAP bits 7:0: number of groups.
pub const GRPCAP_NUM_GROUPS: (u32, u64) = (0, 0xff);
/// GRPCAP bits 15:8: total read buffers.
pub const GRPCAP_RDBUFS: (u32, u64) = (8, 0xff);
/// ENGCAP bits 7:0: number of engines.
pub const ENGCAP_NUM_ENGINES: (u32, u64) = (0, 0xff);

/// Bytes per TABLE_OFFSET unit.
pub const TABLE_UNIT: u64 = 0x100;

/// GENCTRL: software-error interrupt enable.
pub const GENCTRL_SWERR_INT: u32 = 1 << 0;
/// GENCTRL: halt interrupt enable.
pub const GENCTRL_HALT_INT: u32 = 1 << 1;

/// GENSTS bits 1:0: the device state.
pub const GENSTS_STATE_MASK: u32 = 0x3;
/// Device state: disabled.
pub const STATE_DISABLED: u32 = 0;
/// Device state: enabled.
pub const STATE_ENABLED: u32 = 1;
/// Device state: halted (a reset is needed).
pub const STATE_HALTED: u32 = 3;

/// INTCAUSE: a software error was recorded.
pub const INTCAUSE_SWERR: u32 = 1 << 0;
/// INTCAUSE: an admin command completed.
pub const INTCAUSE_CMD_DONE: u32 = 1 << 1;

/// CMD bits 24:20: the command code.
pub const CMD_CODE_SHIFT: u32 = 20;
/// CMD bit 31: raise vector 0 when the command completes.
pub const CMD_INT_REQ: u32 = 1 << 31;
/// CMDSTS bit 31: the command is still running.
pub const CMDSTS_ACTIVE: u32 = 1 << 31;
/// CMDSTS bits 7:0: the error code.
pub const CMDSTS_ERROR_MASK: u32 = 0xff;

/// Admin command codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Command {
    /// Enable the device with the configuration written.
    EnableDevice = 1,
    /// Disable the device and every WQ.
    DisableDevice = 2,
    /// Back to the power-on state; the configuration reads zero.
    ResetDevice = 5,
    /// Enable the WQ whose index is the operand.
    EnableWq = 6,
    /// Disable the WQs in the operand's bitmask.
    DisableWq = 7,
}

/// ENABLE_DEVICE status: already enabled (fine).
pub const CMDSTS_DEVICE_ALREADY_ENABLED: u32 = 0x10;
/// ENABLE_WQ status: already enabled (fine).
pub const CMDSTS_WQ_ALREADY_ENABLED: u32 = 0x21;

/// GRPCFG entry: bytes per group.
pub const GRPCFG_SIZE: u64 = 64;
/// GRPCFG entry: the WQ bitmap (4 x 64 bits) at +0.
pub const GRPCFG_WQS: u64 = 0x00;
/// GRPCFG entry: the engine bitmap at +0x20.
pub const GRPCFG_ENGINES: u64 = 0x20;
/// GRPCFG entry: the flags at +0x28.
pub const GRPCFG_FLAGS: u64 = 0x28;
/// GRPFLGCFG: traffic class A in bits 2:0, B in 5:3 (both 1, as Linux
/// programs devices of version 2 and below).
pub const GRPFLG_TC_A1_B1: u64 = 1 | (1 << 3);
/// GRPFLGCFG bits 27:20: read buffers allowed.
pub const GRPFLG_RDBUFS_ALLOWED_SHIFT: u32 = 20;

/// WQCFG dword 0: size in entries.
pub const WQCFG_SIZE: u64 = 0x0;
/// WQCFG dword 2: mode (bit 0 dedicated), priority (7:4).
pub const WQCFG_MODE_PRIORITY: u64 = 0x8;
/// WQCFG dword 3: max transfer shift (4:0), max batch shift (8:5).
pub const WQCFG_LIMITS: u64 = 0xc;
/// WQCFG mode bit: dedicated.
pub const WQCFG_DEDICATED: u32 = 1;
/// WQCFG priority field shift.
pub const WQCFG_PRIORITY_SHIFT: u32 = 4;

/// BAR2: bytes of portal space per WQ (four 4 KiB pages).
pub const PORTAL_STRIDE: u64 = 0x4000;
/// BAR2: the limited, MSI-X portal page of a WQ (the one Linux maps).
pub const PORTAL_LIMITED_MSIX: u64 = 0x1000;
/// Bytes of one portal page.
pub const PORTAL_SIZE: u64 = 0x1000;

/// The field `(shift, mask)` of `value`.
pub const fn field(value: u64, (shift, mask): (u32, u64)) -> u64 {
    (value >> shift) & mask
}
