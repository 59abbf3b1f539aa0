//! The admin (firmware management) interface (Linux's `adf_admin.c`): a
//! DMA page with a 64-byte window per AE (32-byte request, then 32-byte
//! response) and a mailbox CSR per AE. Sending writes the request, sets
//! the mailbox to 1 and polls until the firmware clears it.

use super::error::QatError;
use super::regs;
use crate::hal::{Hal, Mmio};

/// Bytes of one admin message.
pub const MSG_LEN: usize = 32;
/// Bytes of the constants table CONSTANTS_CFG hands the firmware.
pub const CONST_TABLE_SIZE: usize = 1024;
/// How long one message may take (Linux: 5 s).
const TIMEOUT_MS: u64 = 5000;

/// Admin command IDs (`icp_qat_fw_init_admin_cmd_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum AdminCmd {
    /// Initialise the AE.
    InitAe = 0,
    /// Hand the firmware its constants table.
    ConstantsCfg = 3,
    /// The AE's request and response counters.
    CountersGet = 5,
    /// Timer synchronisation.
    Sync = 7,
    /// Compression capabilities (extended features).
    CompCapabilityGet = 9,
    /// Firmware capabilities.
    CapabilitiesGet = 10,
    /// Heartbeat timer.
    HeartbeatTimerSet = 13,
    /// Power-management idle filter.
    PmStateConfig = 128,
}

/// One admin request (`icp_qat_fw_init_admin_req`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminRequest {
    /// The command.
    pub cmd: AdminCmd,
    /// Size of the buffer at `cfg_ptr`.
    pub cfg_size: u16,
    /// DMA address of a command-specific buffer.
    pub cfg_ptr: u64,
    /// The command's 32-bit parameter (timer ticks, idle filter, ...).
    pub param: u32,
}

impl AdminRequest {
    /// A request with no buffer and no parameter.
    pub const fn new(cmd: AdminCmd) -> Self {
        Self {
            cmd,
            cfg_size: 0,
            cfg_ptr: 0,
            param: 0,
        }
    }

    /// The 32 bytes as the firmware reads them.
    pub fn encode(&self) -> [u8; MSG_LEN] {
        let mut msg = [0u8; MSG_LEN];
        msg[0..2].copy_from_slice(&self.cfg_size.to_le_bytes());
        msg[3] = self.cmd as u8;
        msg[16..24].copy_from_slice(&self.cfg_ptr.to_le_bytes());
        msg[24..28].copy_from_slice(&self.param.to_le_bytes());
        msg
    }
}

/// The parts of an admin response (`icp_qat_fw_init_admin_resp`) the
/// driver reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminResponse {
    /// 0 on success.
    pub status: u8,
    /// Echo of the command.
    pub cmd: u8,
    /// The 32-bit word at 4 (version, extended features, ...).
    pub word: u32,
    /// The 16 bytes at 16 (capabilities, counters, timestamp, ...).
    pub data: [u8; 16],
}

impl AdminResponse {
    /// Decodes the 32 bytes the firmware wrote.
    pub fn decode(msg: &[u8; MSG_LEN]) -> Self {
        let mut data = [0u8; 16];
        data.copy_from_slice(&msg[16..32]);
        Self {
            status: msg[2],
            cmd: msg[3],
            word: u32::from_le_bytes([msg[4], msg[5], msg[6], msg[7]]),
            data,
        }
    }

    /// `req_rec_count` and `resp_sent_count` (u64s at 16 and 24) of a
    /// COUNTERS_GET answer.
    pub fn counters(&self) -> (u64, u64) {
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.data[at..at + 8]);
            u64::from_le_bytes(b)
        };
        (word(0), word(8))
    }

    /// `fw_capabilities` (u16 at 16) of a CAPABILITIES_GET answer.
    pub fn fw_capabilities(&self) -> u16 {
        u16::from_le_bytes([self.data[0], self.data[1]])
    }
}

/// The admin page and the mailboxes.
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    pmisc: Mmio,
    page: u64,
    const_table: u64,
}

impl Admin {
    /// Allocates the message page and the constants table and tells the
    /// device where the page is (Linux's `adf_init_admin_comms`).
    ///
    /// The table is zero-filled: our firmware model ignores it, whereas
    /// real firmware expects Linux's `const_tab` contents there.
    pub fn new<H: Hal>(hal: &H, pmisc: Mmio) -> Result<Self, QatError> {
        let page = hal.dma_alloc(4096)?;
        let const_table = hal.dma_alloc(CONST_TABLE_SIZE)?;
        pmisc.write(hal, regs::ADMINMSGUR, (page >> 32) as u32);
        pmisc.write(hal, regs::ADMINMSGLR, page as u32);
        Ok(Self {
            pmisc,
            page,
            const_table,
        })
    }

    /// DMA address of the constants table.
    pub fn const_table(&self) -> u64 {
        self.const_table
    }

    /// Sends `req` to AE `ae` and returns its answer (any status).
    pub fn send_one<H: Hal>(
        &self,
        hal: &H,
        ae: u32,
        req: &AdminRequest,
    ) -> Result<AdminResponse, QatError> {
        let mailbox = regs::MAILBOX_BASE + u64::from(ae) * regs::MAILBOX_STRIDE;
        let window = self.page + u64::from(ae) * 2 * MSG_LEN as u64;
        if self.pmisc.read::<H, u32>(hal, mailbox) == 1 {
            return Err(QatError::MailboxBusy(ae));
        }
        hal.dma_write(window, &req.encode());
        self.pmisc.write(hal, mailbox, 1u32);
        let done = hal.wait_until(TIMEOUT_MS, &mut || {
            self.pmisc.read::<H, u32>(hal, mailbox) == 0
        });
        if !done {
            return Err(QatError::AdminTimeout {
                ae,
                cmd: req.cmd as u8,
            });
        }
        let mut msg = [0u8; MSG_LEN];
        hal.dma_read(window + MSG_LEN as u64, &mut msg);
        Ok(AdminResponse::decode(&msg))
    }

    /// Sends `req` to every AE in `ae_mask`, lowest first; stops at the
    /// first failure (Linux's `adf_send_admin`). Returns the last answer.
    pub fn send<H: Hal>(
        &self,
        hal: &H,
        ae_mask: u32,
        req: &AdminRequest,
    ) -> Result<AdminResponse, QatError> {
        let mut last = None;
        for ae in (0..regs::AE_COUNT).filter(|ae| ae_mask & (1 << ae) != 0) {
            let resp = self.send_one(hal, ae, req)?;
            if resp.status != 0 {
                return Err(QatError::AdminFailed {
                    ae,
                    cmd: req.cmd as u8,
                    status: resp.status,
                });
            }
            last = Some(resp);
        }
        last.ok_or(QatError::NoAccelerationEngines(ae_mask))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_request_encodes_the_firmware_layout() {
        let req = AdminRequest {
            cmd: AdminCmd::ConstantsCfg,
            cfg_size: 1024,
            cfg_ptr: 0x1234_5678_9abc_def0,
            param: 7,
        };
        let msg = req.encode();
        assert_eq!(&msg[0..4], &[0x00, 0x04, 0x00, 3]);
        assert_eq!(&msg[16..24], &0x1234_5678_9abc_def0u64.to_le_bytes());
        assert_eq!(&msg[24..28], &[7, 0, 0, 0]);
        assert_eq!(AdminRequest::new(AdminCmd::PmStateConfig).encode()[3], 128);
    }

    #[test]
    fn test_response_decodes_status_and_capabilities() {
        let mut msg = [0u8; MSG_LEN];
        msg[2] = 1;
        msg[3] = 10;
        msg[4..8].copy_from_slice(&0xdead_beefu32.to_le_bytes());
        msg[16] = 0x8f;
        let resp = AdminResponse::decode(&msg);
        assert_eq!(resp.status, 1);
        assert_eq!(resp.cmd, 10);
        assert_eq!(resp.word, 0xdead_beef);
        assert_eq!(resp.fw_capabilities(), 0x8f);
    }
}
