//! Register offsets and bits of the QAT 420xx physical function (Linux's
//! `adf_420xx_hw_data.h`, `adf_gen4_hw_data.h`, `adf_gen4_pm.h`,
//! `adf_admin.c`), grouped by where they live: configuration space, the
//! PMISC BAR and the ETR (ring) BAR.

/// Configuration space: FUSECTL1, slice-disable fuses (a set bit = the
/// slice is absent).
pub const FUSECTL1: u16 = 0x2cc;
/// Configuration space: FUSECTL4, AE-disable fuses (a set bit = that
/// acceleration engine is fused off).
pub const FUSECTL4: u16 = 0x2d8;

/// PCI BAR register index of PMISC (misc CSRs, admin mailboxes, PM).
pub const PMISC_BAR: u8 = 2;
/// PCI BAR register index of ETR (ring banks and arbiter).
pub const ETR_BAR: u8 = 4;

/// Acceleration engines: 17, AE16 being the admin AE.
pub const AE_COUNT: u32 = 17;
/// Mask of every acceleration engine the part can have.
pub const AE_MASK_ALL: u32 = (1 << AE_COUNT) - 1;
/// The admin AE's mask (`ADF_420XX_ADMIN_AE_MASK`).
pub const ADMIN_AE_MASK: u32 = 1 << 16;

/// FUSECTL1 bit: cipher slice absent.
pub const FUSE_CIPHER: u32 = 1 << 0;
/// FUSECTL1 bit: auth (hash) slice absent.
pub const FUSE_AUTH: u32 = 1 << 1;
/// FUSECTL1 bit: public-key slice absent.
pub const FUSE_PKE: u32 = 1 << 2;
/// FUSECTL1 bit: compression slice absent.
pub const FUSE_COMPRESSION: u32 = 1 << 3;
/// FUSECTL1 bit: UCS slice (AES-V2, ChaCha, GCM single pass) absent.
pub const FUSE_UCS: u32 = 1 << 4;

/// PMISC: SSM watchdog for the sym and dc slices, low and high.
pub const SSMWDTL: u64 = 0x54;
/// PMISC: SSM watchdog, high half.
pub const SSMWDTH: u64 = 0x5c;
/// PMISC: SSM watchdog for the PKE slice, low half.
pub const SSMWDTPKEL: u64 = 0x58;
/// PMISC: SSM watchdog for the PKE slice, high half.
pub const SSMWDTPKEH: u64 = 0x60;
/// The sym/dc watchdog value Linux programs (`ADF_SSM_WDT_DEFAULT_VALUE`).
pub const SSM_WDT_DEFAULT: u32 = 0x700_0000;
/// The PKE watchdog value Linux programs.
pub const SSM_WDT_PKE_DEFAULT: u32 = 0x800_0000;

/// PMISC: MSI-X routing table, one register per interrupt source (bank
/// `i` is source `i`); the value is the MSI-X entry it fires.
pub const MSIX_RTTABLE: u64 = 0x40_9000;
/// PMISC: bank interrupt mask, banks 0-31 (a set bit masks the bank).
pub const SMIAPF_RP_X0_MASK: u64 = 0x41_a040;
/// PMISC: bank interrupt mask, banks 32-63.
pub const SMIAPF_RP_X1_MASK: u64 = 0x41_a044;
/// PMISC: AE-cluster (misc) interrupt mask.
pub const SMIAPF_MASK: u64 = 0x41_a084;
/// PMISC: error mask 2 (bit 18 masks the PM interrupt).
pub const ERRMSK2: u64 = 0x41_a218;
/// PMISC: error mask 3 (bit 7 masks VFLR notifications).
pub const ERRMSK3: u64 = 0x41_a21c;
/// ERRMSK2: the PM interrupt source.
pub const ERRMSK2_PM: u32 = 1 << 18;
/// ERRMSK3: VFLR notifications.
pub const ERRMSK3_VFLR: u32 = 1 << 7;

/// PMISC: admin message page address, upper 32 bits.
pub const ADMINMSGUR: u64 = 0x50_0574;
/// PMISC: admin message page address, lower 32 bits.
pub const ADMINMSGLR: u64 = 0x50_0578;
/// PMISC: AE 0's admin mailbox; AE `n`'s is [`MAILBOX_STRIDE`] bytes on.
pub const MAILBOX_BASE: u64 = 0x60_0970;
/// Distance between two AEs' admin mailboxes.
pub const MAILBOX_STRIDE: u64 = 0x1000;

/// PMISC: power-management status (bit 21: INIT_STATE).
pub const PM_STATUS: u64 = 0x50_a00c;
/// PM_STATUS: the device finished its power-up after DRV_ACTIVE.
pub const PM_INIT_STATE: u32 = 1 << 21;
/// PMISC: power-management interrupt and control.
pub const PM_INTERRUPT: u64 = 0x50_a028;
/// PM_INTERRUPT: the driver is active (starts the power-up).
pub const PM_DRV_ACTIVE: u32 = 1 << 20;
/// PM_INTERRUPT: idle and throttle interrupt enables (18, 19) and the
/// write-one-to-clear status bits 0-2, as `enable_pm` writes them.
pub const PM_INTERRUPT_ENABLE: u32 = 0xc_0007;

/// ETR: service-arbiter configuration, 4 registers.
pub const SARCONFIG: u64 = 0x0;
/// SARCONFIG value: 32-byte responses, ring flow control.
pub const SARCONFIG_DEFAULT: u32 = 0x8000_0041;
/// ETR: worker-thread to service-arbiter map, one register per AE.
pub const WT2SAM: u64 = 0x400;
/// ETR: where bank 0's CSRs start.
pub const BANK_BASE: u64 = 0x10_0000;
/// ETR: bytes between two banks' CSRs.
pub const BANK_STRIDE: u64 = 0x2000;
/// Ring banks (ring pairs).
pub const BANKS: u8 = 64;

/// Bank CSR: ring `r`'s head (byte offset) at `RING_HEAD + 4 * r`.
pub const RING_HEAD: u64 = 0x0c0;
/// Bank CSR: ring `r`'s tail (byte offset); the TX tail is the doorbell.
pub const RING_TAIL: u64 = 0x100;
/// Bank CSR: empty rings (bit `r` set: ring `r` is empty).
pub const E_STAT: u64 = 0x14c;
/// Bank CSR: per-ring interrupt flags.
pub const INT_FLAG: u64 = 0x170;
/// Bank CSR: interrupt source selection, 4 bits per ring.
pub const INT_SRCSEL: u64 = 0x174;
/// Bank CSR: per-ring coalesced-interrupt enables.
pub const INT_COL_EN: u64 = 0x17c;
/// Bank CSR: coalescing control (bit 31 enable, timer below).
pub const INT_COL_CTL: u64 = 0x180;
/// Bank CSR: combined interrupt enable of the bank.
pub const INT_FLAG_AND_COL: u64 = 0x184;
/// Bank CSR: ring-pair arbitration enable (bit 0: pair 0/1).
pub const RING_SRV_ARB_EN: u64 = 0x19c;
/// Bank CSR: ring `r`'s configuration (size code, watermarks).
pub const RING_CONFIG: u64 = 0x1000;
/// Bank CSR: ring `r`'s base, low 32 bits.
pub const RING_LBASE: u64 = 0x1040;
/// Bank CSR: ring `r`'s base, high 32 bits.
pub const RING_UBASE: u64 = 0x1080;

/// INT_FLAG value that clears both rings' flags.
pub const INT_FLAG_CLEAR: u32 = 0x3;
/// INT_SRCSEL value Linux writes (event 4, "ring not empty", both rings).
pub const INT_SRCSEL_DEFAULT: u32 = 0x44;
/// INT_COL_CTL: coalescing enabled.
pub const INT_COL_CTL_ENABLE: u32 = 1 << 31;
/// Linux's default coalescing timer.
pub const COALESCING_DEF_TIME: u32 = 0x27ff;
/// RING_CONFIG of a response ring: near-full watermark 8 in bits 14:10.
pub const RESP_RING_NEAR_FULL: u32 = 8 << 10;

/// The TX (request) ring of every pair.
pub const TX_RING: u64 = 0;
/// The RX (response) ring of every pair.
pub const RX_RING: u64 = 1;

/// The ETR offset of `bank`'s CSR `reg` (for ring `ring` where the CSR is
/// per ring, 4 bytes apart).
pub const fn bank_csr(bank: u8, reg: u64, ring: u64) -> u64 {
    BANK_BASE + bank as u64 * BANK_STRIDE + reg + 4 * ring
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bank_csrs_follow_the_gen4_layout() {
        assert_eq!(bank_csr(0, RING_TAIL, TX_RING), 0x10_0100);
        assert_eq!(bank_csr(1, RING_HEAD, RX_RING), 0x10_20c4);
        assert_eq!(bank_csr(63, RING_UBASE, RX_RING), 0x17_f084);
        assert_eq!(AE_MASK_ALL, 0x1_ffff);
    }
}
