//! The ring transport: 64 banks shared by the vCPU side (CSR accesses)
//! and the event thread (request processing). A TX tail write (the
//! doorbell) only marks the bank and signals an eventfd; the event thread
//! takes each marked bank, serves its requests from TX head to tail into
//! the RX ring, and raises the bank's MSI-X vector once per pass (its
//! interrupt coalescing). Ring faults (a ring outside guest memory, a bad
//! tail) set the bank's EXP_STAT bit and ATUFAULTSTATUS, raise ERRSOU3's
//! ATU-fault source and the AE-cluster vector; requests whose buffers are
//! bad are answered with an error status instead.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use super::bank::{Bank, Effect, RX, TX};
use super::buffers::{read_vec, write_at};
use super::dc::Engines;
use super::irq::Interrupts;
use super::msg::{Request, RESPONSE_BYTES};
use super::regs::{BANKS, ERRSOU3_ATUFAULT};
use super::service;
use crate::virtio::{EventHandler, GuestMemory};

/// The token of the doorbell eventfd in [`Transport::events`].
pub const DOORBELL_TOKEN: u32 = 0;

/// Everything the two sides share.
pub struct Transport {
    mem: GuestMemory,
    banks: Vec<Mutex<Bank>>,
    doorbells: AtomicU64,
    eventfd: EventFd,
    engines: Mutex<Engines>,
    /// Interrupt delivery.
    pub irq: Arc<Interrupts>,
    atu_faults: AtomicU64,
    errmsk3: AtomicU32,
    requests: AtomicU64,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

/// One request slot the worker is about to serve.
struct Slot {
    request: u64,
    room: u64,
    response: u64,
    generation: u64,
}

/// Why the worker stops serving a bank.
enum Stop {
    /// Nothing (more) to do now.
    Idle,
    /// A ring faulted.
    Fault(usize),
}

impl Transport {
    /// A transport over `mem` interrupting through `irq`.
    pub fn new(mem: GuestMemory, irq: Arc<Interrupts>) -> std::io::Result<Self> {
        Ok(Self {
            mem,
            banks: (0..BANKS).map(|_| Mutex::new(Bank::default())).collect(),
            doorbells: AtomicU64::new(0),
            eventfd: EventFd::new(EFD_NONBLOCK)?,
            engines: Mutex::new(Engines::default()),
            irq,
            atu_faults: AtomicU64::new(0),
            errmsk3: AtomicU32::new(0),
            requests: AtomicU64::new(0),
        })
    }

    /// The guest memory the device works on.
    pub fn mem(&self) -> &GuestMemory {
        &self.mem
    }

    fn bank(&self, index: usize) -> Option<MutexGuard<'_, Bank>> {
        let bank = self.banks.get(index)?;
        Some(bank.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A bank CSR read.
    pub fn read_csr(&self, bank: usize, offset: u64) -> u32 {
        self.bank(bank).map_or(0, |b| b.read(offset))
    }

    /// A bank CSR write (vCPU side): updates the register; a doorbell only
    /// signals the event thread.
    pub fn write_csr(&self, bank: usize, offset: u64, value: u32) {
        let Some(mut b) = self.bank(bank) else {
            return;
        };
        let effect = b.write(offset, value);
        let rearm = effect == Effect::Rearm && b.has_responses() && b.interrupt_enabled();
        if rearm {
            b.int_flag |= 1 << RX;
        }
        drop(b);
        match effect {
            Effect::Kick => self.kick(bank),
            Effect::Fault(ring) => self.fault(bank, ring),
            Effect::Rearm if rearm => self.irq.fire_bank(bank),
            _ => {}
        }
    }

    /// Marks `bank` for the event thread and wakes it.
    pub fn kick(&self, bank: usize) {
        self.doorbells.fetch_or(1 << (bank % 64), Ordering::AcqRel);
        // A full counter still wakes the thread, so a failed write loses nothing.
        let _ = self.eventfd.write(1);
    }

    /// Gives every bank a pass (bus mastering was just enabled).
    pub fn kick_all(&self) {
        self.doorbells.store(u64::MAX, Ordering::Release);
        let _ = self.eventfd.write(1);
    }

    /// A ring-pair reset (RPRESETCTL): the bank returns to its reset state.
    pub fn reset_bank(&self, bank: usize) {
        if let Some(mut b) = self.bank(bank) {
            b.reset();
        }
    }

    /// Resets every bank and clears the error state (function reset).
    pub fn reset(&self) {
        for i in 0..BANKS {
            self.reset_bank(i);
        }
        self.atu_faults.store(0, Ordering::Release);
        self.doorbells.store(0, Ordering::Release);
    }

    /// ATUFAULTSTATUS(bank): bit 0 = the bank's DMA faulted.
    pub fn atu_fault(&self, bank: usize) -> u32 {
        (self.atu_faults.load(Ordering::Acquire) >> (bank % 64) & 1) as u32
    }

    /// Write-1-to-clear of ATUFAULTSTATUS(bank).
    pub fn clear_atu_fault(&self, bank: usize, value: u32) {
        if value & 1 != 0 {
            self.atu_faults
                .fetch_and(!(1 << (bank % 64)), Ordering::AcqRel);
        }
    }

    /// ERRSOU3 as the transport contributes to it.
    pub fn errsou3(&self) -> u32 {
        if self.atu_faults.load(Ordering::Acquire) != 0 {
            ERRSOU3_ATUFAULT
        } else {
            0
        }
    }

    /// Follows ERRMSK3 (the ATU-fault source is masked by its bit).
    pub fn set_errmsk3(&self, value: u32) {
        self.errmsk3.store(value, Ordering::Release);
    }

    /// Requests served since the device came up (admin counters).
    pub fn requests_served(&self) -> u64 {
        self.requests.load(Ordering::Acquire)
    }

    /// Ring `ring` of `bank` faulted: EXP_STAT, ATU fault, AE-cluster vector.
    fn fault(&self, bank: usize, ring: usize) {
        if let Some(mut b) = self.bank(bank) {
            b.exp_stat |= 1 << ring;
        }
        self.atu_faults.fetch_or(1 << (bank % 64), Ordering::AcqRel);
        if self.errmsk3.load(Ordering::Acquire) & ERRSOU3_ATUFAULT == 0 {
            self.irq.fire_cluster();
        }
    }

    /// The next slot to serve on `bank`, or why there is none.
    fn next_slot(&self, bank: usize) -> Result<Slot, Stop> {
        let b = self.bank(bank).ok_or(Stop::Idle)?;
        if !b.is_enabled() || b.rings[TX].is_empty() {
            return Err(Stop::Idle);
        }
        let (tx, rx) = (b.rings[TX], b.rings[RX]);
        let (Some(tx_bytes), Some(rx_bytes)) = (tx.bytes(), rx.bytes()) else {
            return Err(Stop::Idle);
        };
        if (u64::from(rx.tail) + RESPONSE_BYTES as u64) % rx_bytes == u64::from(rx.head) {
            // RX full: wait for the driver to consume (its head write kicks).
            return Err(Stop::Idle);
        }
        let tx_base = tx.address().ok_or(Stop::Fault(TX))?;
        let rx_base = rx.address().ok_or(Stop::Fault(RX))?;
        if !super::buffers::in_memory(&self.mem, tx_base, tx_bytes) {
            return Err(Stop::Fault(TX));
        }
        if !super::buffers::in_memory(&self.mem, rx_base, rx_bytes) {
            return Err(Stop::Fault(RX));
        }
        Ok(Slot {
            request: tx_base + u64::from(tx.head),
            room: tx_bytes - u64::from(tx.head),
            response: rx_base + u64::from(rx.tail),
            generation: b.generation,
        })
    }

    /// Serves `bank` until its TX ring is empty (or RX full, or a fault);
    /// returns how many responses it produced.
    fn serve(&self, bank: usize, engines: &mut Engines) -> usize {
        let mut produced = 0;
        loop {
            let slot = match self.next_slot(bank) {
                Ok(slot) => slot,
                Err(Stop::Idle) => break,
                Err(Stop::Fault(ring)) => {
                    self.fault(bank, ring);
                    break;
                }
            };
            let service_type = read_vec(&self.mem, slot.request + 2, 1)
                .ok()
                .and_then(|b| b.first().copied())
                .unwrap_or(0);
            let len = service::request_len(service_type);
            if len as u64 > slot.room {
                // A request would run past the ring's end: a bad head.
                self.fault(bank, TX);
                break;
            }
            let Ok(raw) = read_vec(&self.mem, slot.request, len) else {
                self.fault(bank, TX);
                break;
            };
            let request = Request::new(&raw);
            let response = service::process(engines, &self.mem, &request);
            let Some(mut b) = self.bank(bank) else { break };
            if b.generation != slot.generation {
                break;
            }
            if write_at(&self.mem, slot.response, response.bytes()).is_err() {
                drop(b);
                self.fault(bank, RX);
                break;
            }
            let tx = &mut b.rings[TX];
            let tx_bytes = tx.bytes().unwrap_or(1);
            tx.head = ((u64::from(tx.head) + len as u64) % tx_bytes) as u32;
            let rx = &mut b.rings[RX];
            let rx_bytes = rx.bytes().unwrap_or(1);
            rx.tail = ((u64::from(rx.tail) + RESPONSE_BYTES as u64) % rx_bytes) as u32;
            produced += 1;
            self.requests.fetch_add(1, Ordering::AcqRel);
        }
        produced
    }

    /// After a pass: the bank's interrupt, if enabled (one per pass).
    fn interrupt(&self, bank: usize) {
        let fire = self.bank(bank).is_some_and(|mut b| {
            let on = b.interrupt_enabled() && b.has_responses();
            if on {
                b.int_flag |= 1 << RX;
            }
            on
        });
        if fire {
            self.irq.fire_bank(bank);
        }
    }
}

impl EventHandler for Transport {
    fn events(&self) -> Vec<(RawFd, u32)> {
        vec![(self.eventfd.as_raw_fd(), DOORBELL_TOKEN)]
    }

    fn handle_event(&self, token: u32) {
        if token != DOORBELL_TOKEN {
            return;
        }
        let _ = self.eventfd.read();
        if !self.irq.bus_master() {
            return;
        }
        let mut engines = self.engines.lock().unwrap_or_else(|p| p.into_inner());
        let mut pending = self.doorbells.swap(0, Ordering::AcqRel);
        while pending != 0 {
            let bank = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            if self.serve(bank, &mut engines) > 0 {
                self.interrupt(bank);
            }
        }
    }
}
