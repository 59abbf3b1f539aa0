//! The admin (firmware management) mailbox, `adf_admin.c`: AE n owns 64
//! bytes of the admin page, a 32-byte request at +0 and the response at
//! +32. Writing 1 to AE n's MAILBOX sends; the device answers at once and
//! clears the mailbox. Every command the kernel sends succeeds; unknown
//! commands answer status 1 (fail).

use std::time::Instant;

use super::buffers::{read_array, write_at};
use super::regs::ENGINES;
use crate::virtio::GuestMemory;

/// Admin command IDs (`icp_qat_fw_init_admin_cmd_id`).
pub mod cmd {
    /// Initialise an AE.
    pub const INIT_AE: u8 = 0;
    /// Enable the TRNG.
    pub const TRNG_ENABLE: u8 = 1;
    /// Disable the TRNG.
    pub const TRNG_DISABLE: u8 = 2;
    /// The constants table (SHA IVs, ...).
    pub const CONSTANTS_CFG: u8 = 3;
    /// Firmware status and version.
    pub const STATUS_GET: u8 = 4;
    /// Request/response counters.
    pub const COUNTERS_GET: u8 = 5;
    /// Loopback.
    pub const LOOPBACK: u8 = 6;
    /// Timer synchronisation (every 200 ms).
    pub const SYNC: u8 = 7;
    /// Heartbeat query.
    pub const HEARTBEAT_GET: u8 = 8;
    /// Compression capabilities.
    pub const COMP_CAPABILITY_GET: u8 = 9;
    /// Firmware capabilities.
    pub const CAPABILITIES_GET: u8 = 10;
    /// Compression chaining.
    pub const DC_CHAIN_INIT: u8 = 11;
    /// Heartbeat timer and statistics page.
    pub const HEARTBEAT_TIMER_SET: u8 = 13;
    /// Rate limiting init.
    pub const RL_INIT: u8 = 15;
    /// The firmware timestamp.
    pub const TIMER_GET: u8 = 19;
    /// Compress-and-verify statistics.
    pub const CNV_STATS_GET: u8 = 20;
    /// Power-management idle filter.
    pub const PM_STATE_CONFIG: u8 = 128;
    /// Power-management information.
    pub const PM_INFO: u8 = 129;
    /// Rate-limit SLA add.
    pub const RL_ADD: u8 = 134;
    /// Rate-limit SLA update.
    pub const RL_UPDATE: u8 = 135;
    /// Rate-limit SLA remove.
    pub const RL_REMOVE: u8 = 136;
    /// Telemetry start.
    pub const TL_START: u8 = 137;
    /// Telemetry stop.
    pub const TL_STOP: u8 = 138;
}

/// Firmware version reported by STATUS_GET (major, minor, patch).
const FW_VERSION: (u16, u16, u16) = (4, 0, 0);
/// Heartbeat/timestamp clock: 100 MHz.
const TIMESTAMP_HZ: u128 = 100_000_000;
/// Bytes of a request or response.
const MSG_BYTES: u64 = 32;

/// Copies `bytes` into the response at `offset`.
fn put(resp: &mut [u8; 32], offset: usize, bytes: &[u8]) {
    if let Some(slot) = resp.get_mut(offset..offset + bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}

/// What the admin side remembers between commands.
#[derive(Debug)]
pub struct Admin {
    epoch: Instant,
    heartbeat_page: u64,
    constants: u64,
}

impl Default for Admin {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            heartbeat_page: 0,
            constants: 0,
        }
    }
}

impl Admin {
    /// The heartbeat statistics page and the constants table the driver
    /// gave (0 until it does).
    pub fn pages(&self) -> (u64, u64) {
        (self.heartbeat_page, self.constants)
    }

    /// AE `ae` got a mailbox doorbell: answers the request in the admin
    /// page at `page`. `served` is the number of ring requests served.
    /// Returns false if the page was not reachable (no response written).
    pub fn handle(&mut self, mem: &GuestMemory, page: u64, ae: usize, served: u64) -> bool {
        if ae >= ENGINES {
            return false;
        }
        let slot = page.wrapping_add(ae as u64 * 2 * MSG_BYTES);
        let Ok(req) = read_array::<32>(mem, slot) else {
            return false;
        };
        let response = self.respond(&req, ae, served);
        write_at(mem, slot.wrapping_add(MSG_BYTES), &response).is_ok()
    }

    fn respond(&mut self, req: &[u8; 32], ae: usize, served: u64) -> [u8; 32] {
        let id = req[3];
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&req[o..o + 8]);
            u64::from_le_bytes(b)
        };
        let mut resp = [0u8; 32];
        resp[3] = id;
        resp[8..16].copy_from_slice(&req[8..16]);
        match id {
            cmd::CONSTANTS_CFG => self.constants = u64_at(16),
            cmd::HEARTBEAT_TIMER_SET => self.heartbeat_page = u64_at(16),
            cmd::STATUS_GET => {
                put(&mut resp, 4, &FW_VERSION.1.to_le_bytes());
                put(&mut resp, 6, &FW_VERSION.0.to_le_bytes());
                put(&mut resp, 16, &FW_VERSION.2.to_le_bytes());
                put(&mut resp, 18, &[ae as u8]);
            }
            cmd::COUNTERS_GET => {
                // All work is accounted to AE0.
                let count = if ae == 0 { served } else { 0 };
                put(&mut resp, 16, &count.to_le_bytes());
                put(&mut resp, 24, &count.to_le_bytes());
            }
            cmd::TIMER_GET => {
                let ticks = self.epoch.elapsed().as_nanos() * TIMESTAMP_HZ / 1_000_000_000;
                put(&mut resp, 16, &(ticks as u64).to_le_bytes());
            }
            // No extended compression features; fw_capabilities 0 keeps
            // rate limiting (bits 6:4) off.
            cmd::COMP_CAPABILITY_GET | cmd::CAPABILITIES_GET => {}
            cmd::INIT_AE
            | cmd::TRNG_ENABLE
            | cmd::TRNG_DISABLE
            | cmd::LOOPBACK
            | cmd::SYNC
            | cmd::HEARTBEAT_GET
            | cmd::DC_CHAIN_INIT
            | cmd::RL_INIT
            | cmd::CNV_STATS_GET
            | cmd::PM_STATE_CONFIG
            | cmd::PM_INFO
            | cmd::RL_ADD
            | cmd::RL_UPDATE
            | cmd::RL_REMOVE
            | cmd::TL_START
            | cmd::TL_STOP => {}
            _ => resp[2] = 1,
        }
        resp
    }
}
