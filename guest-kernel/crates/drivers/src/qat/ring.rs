//! A ring pair (Linux's `adf_transport.c`): TX ring 0 takes 128-byte
//! requests, RX ring 1 returns 32-byte responses, both in DMA memory
//! filled with the empty signature 0x7F. A batch is several requests
//! copied at the TX tail followed by ONE tail write (the doorbell); the
//! device writes responses at the RX tail, the driver consumes them from
//! the head until it sees the empty signature and then writes the RX
//! head once.

use alloc::vec::Vec;

use super::dma::DmaRegion;
use super::error::QatError;
use super::regs::{self, bank_csr};
use crate::hal::{Hal, Mmio};

/// Bytes of a request message.
pub const REQUEST_SIZE: usize = 128;
/// Bytes of a response message.
pub const RESPONSE_SIZE: usize = 32;
/// What an unused ring word holds (`ADF_RING_EMPTY_SIG`).
pub const EMPTY_SIG: u32 = 0x7f7f_7f7f;
/// A request message.
pub type Request = [u8; REQUEST_SIZE];
/// A response message.
pub type Response = [u8; RESPONSE_SIZE];
/// Offset of the opaque field in requests.
pub const REQUEST_OPAQUE: usize = 24;
/// Offset of the opaque field in responses.
pub const RESPONSE_OPAQUE: usize = 8;
/// Smallest ring allocation (`ADF_RING_SIZE_BYTES_MIN`).
const RING_MIN_BYTES: usize = 4096;

/// The opaque field of a response.
pub fn response_opaque(resp: &Response) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&resp[RESPONSE_OPAQUE..RESPONSE_OPAQUE + 8]);
    u64::from_le_bytes(bytes)
}

/// The ring size code of a ring of `bytes` (128 << (code - 1) bytes).
pub fn size_code(bytes: usize) -> Option<u32> {
    (bytes.is_power_of_two() && (128..=4 << 20).contains(&bytes))
        .then(|| (bytes / 128).trailing_zeros() + 1)
}

/// The base CSR value of a ring at `addr` with size code `code`
/// (`BUILD_RING_BASE_ADDR`).
pub fn ring_base(addr: u64, code: u32) -> u64 {
    ((addr >> 6) & (u64::MAX << code)) << 6
}

/// Allocates `bytes` of DMA memory aligned to `bytes`, filled with 0x7F.
fn alloc_ring<H: Hal>(hal: &H, bytes: usize) -> Result<u64, QatError> {
    let alloc = bytes.max(RING_MIN_BYTES);
    // Allocations are page aligned: a larger ring needs slack to align.
    let slack = if bytes > RING_MIN_BYTES { bytes } else { 0 };
    let raw = hal.dma_alloc(alloc + slack)?;
    let addr = raw.next_multiple_of(bytes as u64);
    hal.dma_write(addr, &alloc::vec![0x7f; bytes]);
    Ok(addr)
}

/// One ring pair of a bank, with a DMA region per request slot for the
/// request's content descriptor, buffer lists and data.
#[derive(Debug)]
pub struct RingPair<H: Hal> {
    hal: H,
    etr: Mmio,
    bank: u8,
    tx: u64,
    rx: u64,
    slots: usize,
    tx_tail: usize,
    rx_head: usize,
    in_flight: usize,
    pending: usize,
    scratch: Vec<DmaRegion>,
    doorbells: u64,
    responses: u64,
}

impl<H: Hal> RingPair<H> {
    /// Sets up the rings of `bank` with `slots` messages each (a power of
    /// two, 4..=1024) and `scratch` bytes of DMA memory per slot; with
    /// `interrupts`, the RX ring raises the bank's interrupt.
    pub(super) fn new(
        hal: H,
        etr: Mmio,
        bank: u8,
        slots: usize,
        scratch: usize,
        interrupts: bool,
    ) -> Result<Self, QatError> {
        if bank >= regs::BANKS {
            return Err(QatError::BadBank(bank));
        }
        let tx_code = size_code(slots * REQUEST_SIZE).filter(|_| (4..=1024).contains(&slots));
        let rx_code = size_code(slots * RESPONSE_SIZE);
        let (Some(tx_code), Some(rx_code)) = (tx_code, rx_code) else {
            return Err(QatError::BadRingSize(slots));
        };
        let tx = alloc_ring(&hal, slots * REQUEST_SIZE)?;
        let rx = alloc_ring(&hal, slots * RESPONSE_SIZE)?;
        // One allocation for every slot (allocations are whole pages).
        let scratch_len = scratch.next_multiple_of(64);
        let scratch_base = hal.dma_alloc(slots * scratch_len)?;
        let scratch = (0..slots)
            .map(|i| DmaRegion {
                addr: scratch_base + (i * scratch_len) as u64,
                len: scratch_len,
            })
            .collect();
        let csr = |reg, ring| bank_csr(bank, reg, ring);
        // adf_init_ring: configuration, then base, per ring.
        etr.write(&hal, csr(regs::RING_CONFIG, regs::TX_RING), tx_code);
        Self::write_base(&hal, &etr, bank, regs::TX_RING, ring_base(tx, tx_code));
        let rx_config = rx_code | regs::RESP_RING_NEAR_FULL;
        etr.write(&hal, csr(regs::RING_CONFIG, regs::RX_RING), rx_config);
        Self::write_base(&hal, &etr, bank, regs::RX_RING, ring_base(rx, rx_code));
        // adf_update_ring_arb: both rings of pair 0 exist.
        etr.write(&hal, csr(regs::RING_SRV_ARB_EN, 0), 1u32);
        if interrupts {
            // adf_enable_ring_irq for the RX ring, then the bank enable
            // the bottom half writes after each drain: our interrupt
            // handler never masks the bank, so once is enough.
            let irq_mask = 1u32 << regs::RX_RING;
            etr.write(&hal, csr(regs::INT_COL_EN, 0), irq_mask);
            let col_ctl = regs::INT_COL_CTL_ENABLE | regs::COALESCING_DEF_TIME;
            etr.write(&hal, csr(regs::INT_COL_CTL, 0), col_ctl);
            etr.write(&hal, csr(regs::INT_FLAG_AND_COL, 0), irq_mask);
        }
        Ok(Self {
            hal,
            etr,
            bank,
            tx,
            rx,
            slots,
            tx_tail: 0,
            rx_head: 0,
            in_flight: 0,
            pending: 0,
            scratch,
            doorbells: 0,
            responses: 0,
        })
    }

    fn write_base(hal: &H, etr: &Mmio, bank: u8, ring: u64, base: u64) {
        etr.write(hal, bank_csr(bank, regs::RING_LBASE, ring), base as u32);
        etr.write(
            hal,
            bank_csr(bank, regs::RING_UBASE, ring),
            (base >> 32) as u32,
        );
    }

    /// The bank this pair lives in.
    pub fn bank(&self) -> u8 {
        self.bank
    }

    /// The register-access handle.
    pub fn hal(&self) -> &H {
        &self.hal
    }

    /// Requests that may be outstanding at once (one slot stays empty).
    pub fn capacity(&self) -> usize {
        self.slots - 1
    }

    /// Requests that may be added now.
    pub fn free(&self) -> usize {
        self.capacity() - self.in_flight - self.pending
    }

    /// The DMA scratch region of request slot `index` (0..capacity).
    pub fn scratch(&self, index: usize) -> Option<DmaRegion> {
        self.scratch.get(index).copied()
    }

    /// Doorbell writes so far.
    pub fn doorbells(&self) -> u64 {
        self.doorbells
    }

    /// Responses consumed so far.
    pub fn responses(&self) -> u64 {
        self.responses
    }

    /// Copies `msg` at the TX tail without telling the device (see
    /// [`RingPair::doorbell`]).
    pub fn push(&mut self, msg: &Request) -> Result<(), QatError> {
        if self.free() == 0 {
            return Err(QatError::RingFull {
                requests: 1,
                free: 0,
            });
        }
        let offset = self.tx_tail * REQUEST_SIZE;
        self.hal.dma_write(self.tx + offset as u64, msg);
        self.tx_tail = (self.tx_tail + 1) % self.slots;
        self.pending += 1;
        Ok(())
    }

    /// Publishes every pushed request with one TX tail write.
    pub fn doorbell(&mut self) {
        if self.pending == 0 {
            return;
        }
        let tail = (self.tx_tail * REQUEST_SIZE) as u32;
        let csr = bank_csr(self.bank, regs::RING_TAIL, regs::TX_RING);
        self.etr.write(&self.hal, csr, tail);
        self.in_flight += self.pending;
        self.pending = 0;
        self.doorbells += 1;
    }

    /// Whether a response waits at the RX head.
    pub fn response_ready(&self) -> bool {
        let at = self.rx + (self.rx_head * RESPONSE_SIZE) as u64;
        self.hal.dma_load::<u32>(at) != EMPTY_SIG
    }

    /// Consumes every response waiting (each slot gets the empty signature
    /// back), hands each to `each`, then writes the RX head once. Returns
    /// how many there were.
    pub fn drain(&mut self, each: &mut dyn FnMut(&Response)) -> usize {
        let mut count = 0;
        while self.response_ready() {
            let at = self.rx + (self.rx_head * RESPONSE_SIZE) as u64;
            let mut resp = [0u8; RESPONSE_SIZE];
            self.hal.dma_read(at, &mut resp);
            self.hal.dma_store(at, EMPTY_SIG);
            self.rx_head = (self.rx_head + 1) % self.slots;
            self.in_flight = self.in_flight.saturating_sub(1);
            count += 1;
            each(&resp);
        }
        if count > 0 {
            let head = (self.rx_head * RESPONSE_SIZE) as u32;
            let csr = bank_csr(self.bank, regs::RING_HEAD, regs::RX_RING);
            self.etr.write(&self.hal, csr, head);
            self.responses += count as u64;
        }
        count as usize
    }

    /// Submits `requests` as one batch (their opaque fields set to their
    /// index) and waits up to `timeout_ms` for every response; returns the
    /// responses in request order.
    pub fn run(
        &mut self,
        requests: &[Request],
        timeout_ms: u64,
    ) -> Result<Vec<Response>, QatError> {
        if requests.len() > self.free() {
            return Err(QatError::RingFull {
                requests: requests.len(),
                free: self.free(),
            });
        }
        for (i, req) in requests.iter().enumerate() {
            let at = self.tx + (self.tx_tail * REQUEST_SIZE + REQUEST_OPAQUE) as u64;
            self.push(req)?;
            self.hal.dma_store(at, i as u64);
        }
        self.doorbell();
        let mut out: Vec<Option<Response>> = alloc::vec![None; requests.len()];
        let mut completed = 0;
        let mut unknown = None;
        while completed < requests.len() {
            let ready = self
                .hal
                .wait_until(timeout_ms, &mut || self.response_ready());
            if !ready {
                return Err(QatError::Timeout {
                    submitted: requests.len(),
                    completed,
                });
            }
            self.drain(&mut |resp| {
                let opaque = response_opaque(resp);
                match out.get_mut(opaque as usize) {
                    Some(slot @ None) => {
                        *slot = Some(*resp);
                        completed += 1;
                    }
                    _ => unknown = Some(opaque),
                }
            });
            if let Some(opaque) = unknown {
                return Err(QatError::UnknownResponse(opaque));
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_size_codes_match_linux() {
        assert_eq!(size_code(128), Some(1));
        assert_eq!(size_code(4096), Some(6));
        assert_eq!(size_code(16 << 10), Some(8));
        assert_eq!(size_code(64 << 10), Some(10));
        assert_eq!(size_code(4 << 20), Some(16));
        assert_eq!(size_code(3000), None);
        assert_eq!(size_code(64), None);
    }

    #[test]
    fn test_ring_base_keeps_an_aligned_address() {
        assert_eq!(ring_base(0x1234_0000, 6), 0x1234_0000);
        assert_eq!(ring_base(0x1_0000_1000, 6), 0x1_0000_1000);
        // The size-aligned bits are all that survive.
        assert_eq!(ring_base(0x1234_0040, 6), 0x1234_0000);
    }
}
