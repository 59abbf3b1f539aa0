//! Interrupt delivery, shared by the vCPU side (register accesses) and
//! the event thread (completions): MSI-X state, the MSIX_RTTABLE routing
//! of sources (bank i, 64 = AE cluster) to table entries, the per-bank
//! and AE-cluster masks, and bus master enable.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::regs::{AE_CLUSTER_VECTOR, MSIX_VECTORS};
use crate::pci::{MsiMessage, MsiSink, Msix};

/// A function's interrupt state.
pub struct Interrupts {
    msix: Mutex<Msix>,
    sink: Arc<dyn MsiSink>,
    bus_master: AtomicBool,
    rttable: Vec<AtomicU32>,
    bank_mask: AtomicU64,
    cluster_mask: AtomicU32,
}

impl std::fmt::Debug for Interrupts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupts").finish_non_exhaustive()
    }
}

impl Interrupts {
    /// All vectors masked, identity routing, banks unmasked.
    pub fn new(sink: Arc<dyn MsiSink>) -> Self {
        Self {
            msix: Mutex::new(Msix::new(MSIX_VECTORS)),
            sink,
            bus_master: AtomicBool::new(false),
            rttable: (0..u32::from(MSIX_VECTORS)).map(AtomicU32::new).collect(),
            bank_mask: AtomicU64::new(0),
            cluster_mask: AtomicU32::new(0),
        }
    }

    /// The MSI-X state (short critical sections only).
    pub fn msix(&self) -> MutexGuard<'_, Msix> {
        self.msix.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Follows the command register's bus master enable.
    pub fn set_bus_master(&self, on: bool) {
        self.bus_master.store(on, Ordering::Release);
    }

    /// Whether the function may issue memory writes (DMA, MSI).
    pub fn bus_master(&self) -> bool {
        self.bus_master.load(Ordering::Acquire)
    }

    /// MSIX_RTTABLE[source].
    pub fn route(&self, source: usize) -> u32 {
        self.rttable
            .get(source)
            .map_or(0, |r| r.load(Ordering::Acquire))
    }

    /// Sets MSIX_RTTABLE[source] (entries beyond the table are ignored).
    pub fn set_route(&self, source: usize, entry: u32) {
        if let Some(r) = self.rttable.get(source) {
            r.store(entry, Ordering::Release);
        }
    }

    /// SMIAPF_RP_X0/X1 (`high` selects banks 32-63).
    pub fn bank_mask(&self, high: bool) -> u32 {
        let all = self.bank_mask.load(Ordering::Acquire);
        if high {
            (all >> 32) as u32
        } else {
            all as u32
        }
    }

    /// Writes SMIAPF_RP_X0/X1.
    pub fn set_bank_mask(&self, high: bool, value: u32) {
        let shift = if high { 32 } else { 0 };
        let keep = !(0xffff_ffffu64 << shift);
        let mut cur = self.bank_mask.load(Ordering::Acquire);
        loop {
            let new = (cur & keep) | (u64::from(value) << shift);
            match self
                .bank_mask
                .compare_exchange(cur, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
    }

    /// SMIAPF_MASK.
    pub fn cluster_mask(&self) -> u32 {
        self.cluster_mask.load(Ordering::Acquire)
    }

    /// Writes SMIAPF_MASK.
    pub fn set_cluster_mask(&self, value: u32) {
        self.cluster_mask.store(value, Ordering::Release);
    }

    /// Bank `bank` has responses: its vector, unless the bank is masked.
    pub fn fire_bank(&self, bank: usize) {
        let masked = self.bank_mask.load(Ordering::Acquire) >> (bank % 64) & 1 != 0;
        if !masked {
            self.fire_source(bank);
        }
    }

    /// An AE-cluster event (errors): vector 64, unless masked.
    pub fn fire_cluster(&self) {
        if self.cluster_mask() & 1 == 0 {
            self.fire_source(usize::from(AE_CLUSTER_VECTOR));
        }
    }

    fn fire_source(&self, source: usize) {
        if !self.bus_master() {
            return;
        }
        let Ok(entry) = u16::try_from(self.route(source)) else {
            return;
        };
        let message = self.msix().notify(entry);
        if let Some(message) = message {
            self.sink.send(entry, message);
        }
    }

    /// Runs `op` on the MSI-X state and delivers the messages it releases
    /// (an unmask, an enable), each with its vector.
    pub fn update_msix(&self, op: impl FnOnce(&mut Msix) -> Vec<MsiMessage>) {
        let released = {
            let mut msix = self.msix();
            let before = pending(&msix);
            let messages = op(&mut msix);
            let after = pending(&msix);
            let vectors = (0..MSIX_VECTORS).filter(|&v| {
                let bit = |p: &[u8]| {
                    p.get(usize::from(v / 8))
                        .is_some_and(|b| b & (1 << (v % 8)) != 0)
                };
                bit(&before) && !bit(&after)
            });
            vectors.zip(messages).collect::<Vec<_>>()
        };
        if self.bus_master() {
            for (vector, message) in released {
                self.sink.send(vector, message);
            }
        }
    }
}

fn pending(msix: &Msix) -> Vec<u8> {
    let mut bits = vec![0u8; usize::try_from(msix.pba_size()).unwrap_or(0)];
    msix.read_pba(0, &mut bits);
    bits
}
