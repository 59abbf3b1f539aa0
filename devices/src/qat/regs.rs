//! The QAT 420xx register map as Linux's `qat_420xx` / `qat_common`
//! drivers use it: PCI identity and fuses, the three BARs, the PMISC
//! registers (interrupt routing, errors, power management, admin and
//! loader CSRs) and the ETR ring-bank CSRs. Names follow the driver's.

/// Intel's vendor ID.
pub const VENDOR_ID: u16 = 0x8086;
/// The 420xx physical function.
pub const DEVICE_ID: u16 = 0x4946;
/// Class code: processor, co-processor.
pub const CLASS_CODE: u32 = 0x0b_40_00;
/// Revision ID (checked against the firmware image's device window).
pub const REVISION: u8 = 0;

/// FUSECTL0..5 in extended configuration space.
pub const FUSECTL0: usize = 0x2c8;
/// Slice-disable fuses: a set bit is a slice that is absent.
pub const FUSECTL1: usize = 0x2cc;
/// AE-disable fuses: a set bit is an engine fused off.
pub const FUSECTL4: usize = 0x2d8;
/// The last fuse register.
pub const FUSECTL5: usize = 0x2dc;
/// FUSECTL1: the UCS slice (AES-V2, ChaCha-Poly, GCM single pass) is absent,
/// so Linux builds the legacy cipher-slice layouts for CTR and XTS.
pub const FUSE_UCS_SLICE_OFF: u32 = 1 << 4;

/// BAR 0: SRAM (unused by the 420xx driver); it holds our MSI-X table and PBA.
pub const SRAM_BAR: u8 = 0;
/// BAR 2: PMISC.
pub const PMISC_BAR: u8 = 2;
/// BAR 4: ETR (ring banks).
pub const ETR_BAR: u8 = 4;
/// Size of BAR 0.
pub const SRAM_BAR_SIZE: u64 = 2 << 20;
/// Size of BAR 2 (the highest CSR the driver uses is near 0x641018).
pub const PMISC_BAR_SIZE: u64 = 8 << 20;
/// Size of BAR 4 (bank CSRs end at 0x180000).
pub const ETR_BAR_SIZE: u64 = 2 << 20;
/// MSI-X table offset in BAR 0.
pub const MSIX_TABLE_OFFSET: u64 = 0;
/// MSI-X pending-bit array offset in BAR 0.
pub const MSIX_PBA_OFFSET: u64 = 0x1000;

/// Ring banks (ring pairs).
pub const BANKS: usize = 64;
/// Rings per bank: ring 0 transmits requests, ring 1 receives responses.
pub const RINGS_PER_BANK: usize = 2;
/// MSI-X vectors: one per bank and the AE-cluster vector.
pub const MSIX_VECTORS: u16 = BANKS as u16 + 1;
/// The AE-cluster (errors, power management) interrupt source.
pub const AE_CLUSTER_VECTOR: u16 = BANKS as u16;
/// Acceleration engines: AE0-15 plus the admin AE16.
pub const ENGINES: usize = 17;
/// The admin AE.
pub const ADMIN_AE: usize = 16;

// PMISC (BAR 2) registers.

/// MSI-X routing table: interrupt source i (bank i, 64 = AE cluster) to entry.
pub const MSIX_RTTABLE: u64 = 0x409000;
/// Bank interrupt mask, banks 0-31 (a set bit masks the bank).
pub const SMIAPF_RP_X0_MASK: u64 = 0x41a040;
/// Bank interrupt mask, banks 32-63.
pub const SMIAPF_RP_X1_MASK: u64 = 0x41a044;
/// AE-cluster interrupt mask (bit 0).
pub const SMIAPF_MASK: u64 = 0x41a084;
/// Error source registers ERRSOU0..3 (read only).
pub const ERRSOU0: u64 = 0x41a200;
/// ERRSOU3: error sources of the transport.
pub const ERRSOU3: u64 = 0x41a20c;
/// Error mask registers ERRMSK0..3.
pub const ERRMSK0: u64 = 0x41a210;
/// ERRMSK3.
pub const ERRMSK3: u64 = 0x41a21c;
/// ERRSOU3/ERRMSK3: a ring pair's DMA hit an address translation fault.
pub const ERRSOU3_ATUFAULT: u32 = 1 << 8;
/// ERRSOU2/ERRMSK2: power management interrupt.
pub const ERRSOU2_PM: u32 = 1 << 18;
/// ATUFAULTSTATUS(rp): per ring pair, bit 0 = fault (write 1 to clear).
pub const ATUFAULTSTATUS: u64 = 0x506000;
/// Admin page address, upper 32 bits.
pub const ADMINMSGUR: u64 = 0x500574;
/// Admin page address, lower 32 bits.
pub const ADMINMSGLR: u64 = 0x500578;
/// PM status: bit 21 INIT_STATE once the driver set DRV_ACTIVE.
pub const PM_STATUS: u64 = 0x50a00c;
/// PM host message: bit 0 pending (the device clears it).
pub const PM_HOST_MSG: u64 = 0x50a01c;
/// PM interrupt: enables, DRV_ACTIVE, W1C status bits 0-2.
pub const PM_INTERRUPT: u64 = 0x50a028;
/// PM_INTERRUPT: the driver is active (power up).
pub const PM_DRV_ACTIVE: u32 = 1 << 20;
/// PM_STATUS: the device finished powering up.
pub const PM_INIT_STATE: u32 = 1 << 21;
/// PM_INTERRUPT: write-1-to-clear status bits.
pub const PM_INTERRUPT_W1C: u32 = 0x7;

/// AE transfer registers: 0x600000 + ae * 0x1000.
pub const AE_XFER_BASE: u64 = 0x600000;
/// AE local CSRs: 0x600800 + ae * 0x1000 + csr.
pub const AE_LOCAL_BASE: u64 = 0x600800;
/// Stride between two AEs' register windows.
pub const AE_STRIDE: u64 = 0x1000;
/// Global "CAP" CSRs.
pub const CAP_BASE: u64 = 0x640000;

// AE local CSRs (offset in the local window).

/// Context enables (bits 15:8 must read 0 before a firmware load).
pub const CTX_ENABLES: u64 = 0x018;
/// Active context status: bit 31 = AE busy.
pub const ACTIVE_CTX_STATUS: u64 = 0x044;
/// Free-running profile counter (low 16 bits used).
pub const PROFILE_COUNT: u64 = 0x144;
/// Admin mailbox doorbell.
pub const MAILBOX: u64 = 0x170;
/// Local CSR access status: bit 0 = access pending.
pub const LOCAL_CSR_STATUS: u64 = 0x180;
/// How much PROFILE_COUNT advances per read.
pub const PROFILE_COUNT_STEP: u32 = 16;

// Global CAP CSRs (offset from CAP_BASE).

/// FCU command: bits 3:0 command, bit 4 per-AE load, bits 8+ AE number.
pub const FCU_CONTROL: u64 = 0x1000;
/// FCU status.
pub const FCU_STATUS: u64 = 0x1004;
/// AE mask of a broadcast load.
pub const FCU_ME_BROADCAST_MASK_TYPE: u64 = 0x1008;
/// AEs holding a loaded image.
pub const FCU_AE_LOADED: u64 = 0x1010;
/// DMA address of the image chunk, low half.
pub const FCU_DRAM_ADDR_LO: u64 = 0x1014;
/// DMA address of the image chunk, high half.
pub const FCU_DRAM_ADDR_HI: u64 = 0x1018;
/// FCU commands.
pub const FCU_CMD_NOOP: u32 = 0;
/// Authenticate the image at FCU_DRAM_ADDR.
pub const FCU_CMD_AUTH: u32 = 1;
/// Load the authenticated image.
pub const FCU_CMD_LOAD: u32 = 2;
/// Start the engines.
pub const FCU_CMD_START: u32 = 3;
/// FCU_CONTROL bit 4: the load targets the single AE in bits 8+.
pub const FCU_CTRL_PER_AE: u32 = 1 << 4;
/// FCU_STATUS state: verification done.
pub const FCU_STS_VERI_DONE: u32 = 1;
/// FCU_STATUS state: load done.
pub const FCU_STS_LOAD_DONE: u32 = 2;
/// FCU_STATUS state: verification failed.
pub const FCU_STS_VERI_FAIL: u32 = 3;
/// FCU_STATUS bit 8: an authenticated image is loaded.
pub const FCU_STS_AUTHFWLD: u32 = 1 << 8;
/// FCU_STATUS bit 9: START complete.
pub const FCU_STS_DONE: u32 = 1 << 9;

// ETR (BAR 4) registers.

/// RPRESETCTL(bank) = 0x6000 + 8 * bank: bit 0 resets the ring pair.
pub const RPRESETCTL: u64 = 0x6000;
/// RPRESETSTS(bank) = 0x6004 + 8 * bank: bit 0 = reset done (W1C).
pub const RPRESETSTS: u64 = 0x6004;
/// First bank's CSRs.
pub const BANK_BASE: u64 = 0x100000;
/// Stride between banks.
pub const BANK_STRIDE: u64 = 0x2000;

// Bank CSRs (offset inside a bank).

/// RING_HEAD[r] = 0x0c0 + 4r.
pub const RING_HEAD: u64 = 0x0c0;
/// RING_TAIL[r] = 0x100 + 4r: a write to TX ring 0's is the doorbell.
pub const RING_TAIL: u64 = 0x100;
/// Ring status (ring r non-empty).
pub const RING_STAT: u64 = 0x140;
/// Under/overflow status.
pub const RING_UO_STAT: u64 = 0x148;
/// Empty status: bit r = ring r is empty.
pub const RING_E_STAT: u64 = 0x14c;
/// Near-empty status.
pub const RING_NE_STAT: u64 = 0x150;
/// Near-full status.
pub const RING_NF_STAT: u64 = 0x154;
/// Full status.
pub const RING_F_STAT: u64 = 0x158;
/// Credit status.
pub const RING_C_STAT: u64 = 0x15c;
/// Interrupt flag enable.
pub const INT_FLAG_EN: u64 = 0x16c;
/// Interrupt flags (write 1 to clear).
pub const INT_FLAG: u64 = 0x170;
/// Interrupt source select, 4 bits per ring.
pub const INT_SRCSEL: u64 = 0x174;
/// Coalesced interrupt enable per ring.
pub const INT_COL_EN: u64 = 0x17c;
/// Coalescing control: bit 31 enable, timer below.
pub const INT_COL_CTL: u64 = 0x180;
/// INT_FLAG_EN and INT_COL_EN written together (Linux's ISR writes 0,
/// its bottom half the ring mask); reads the rings either enables.
pub const INT_FLAG_AND_COL: u64 = 0x184;
/// Exception status: bit r = ring r faulted (DMA outside guest memory,
/// bad configuration); write 1 to clear.
pub const EXP_STAT: u64 = 0x188;
/// Exception interrupt enable.
pub const EXP_INT_EN: u64 = 0x18c;
/// Ring-pair arbitration enable (bit 0).
pub const RING_SRV_ARB_EN: u64 = 0x19c;
/// RING_CONFIG[r] = 0x1000 + 4r: bits 4:0 size code.
pub const RING_CONFIG: u64 = 0x1000;
/// RING_LBASE[r] = 0x1040 + 4r.
pub const RING_LBASE: u64 = 0x1040;
/// RING_UBASE[r] = 0x1080 + 4r.
pub const RING_UBASE: u64 = 0x1080;
/// INT_COL_CTL: coalescing enabled.
pub const INT_COL_CTL_ENABLE: u32 = 1 << 31;

/// A ring's size code (1..=16): 128 << (code - 1) bytes.
pub fn ring_bytes(size_code: u32) -> Option<u64> {
    (1..=16)
        .contains(&size_code)
        .then(|| 128u64 << (size_code - 1))
}
