//! The transport's interrupt side, shared by the vCPU thread (register
//! accesses) and the event thread (used buffers): the MSI-X state, the
//! vectors the driver chose for the configuration and each queue, the ISR
//! status byte and the configuration generation. While MSI-X is disabled a
//! function with an INTx line asserts it with the ISR status; reading the
//! ISR (which clears it) deasserts it, as virtio 1.x section 4.1.4.5 says.

use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::regs::{ISR_CONFIG, ISR_QUEUE, NO_VECTOR};
use crate::pci::{IntxLine, MsiMessage, MsiSink, Msix};

/// Interrupt state of one virtio function.
pub(crate) struct Interrupts {
    msix: Mutex<Msix>,
    vectors: u16,
    sink: Arc<dyn MsiSink>,
    intx: OnceLock<Arc<dyn IntxLine>>,
    intx_disabled: AtomicBool,
    bus_master: AtomicBool,
    isr: AtomicU8,
    generation: AtomicU8,
    needs_reset: AtomicBool,
    config_vector: AtomicU16,
    queue_vectors: Vec<AtomicU16>,
}

impl Interrupts {
    /// `queues` queues, one MSI-X vector each plus one for configuration changes.
    pub(crate) fn new(queues: usize, sink: Arc<dyn MsiSink>) -> Self {
        let vectors = u16::try_from(queues + 1).unwrap_or(u16::MAX);
        Self {
            msix: Mutex::new(Msix::new(vectors)),
            vectors,
            sink,
            intx: OnceLock::new(),
            intx_disabled: AtomicBool::new(false),
            bus_master: AtomicBool::new(false),
            isr: AtomicU8::new(0),
            generation: AtomicU8::new(0),
            needs_reset: AtomicBool::new(false),
            config_vector: AtomicU16::new(NO_VECTOR),
            queue_vectors: (0..queues).map(|_| AtomicU16::new(NO_VECTOR)).collect(),
        }
    }

    /// The MSI-X state (short critical sections only).
    pub(crate) fn msix(&self) -> MutexGuard<'_, Msix> {
        self.msix.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The vector the device records when the driver asks for `vector`:
    /// itself if the table has it, NO_VECTOR otherwise (Linux reads it
    /// back to learn whether the assignment took).
    fn accept(&self, vector: u16) -> u16 {
        if vector < self.vectors {
            vector
        } else {
            NO_VECTOR
        }
    }

    /// The configuration-change vector.
    pub(crate) fn config_vector(&self) -> u16 {
        self.config_vector.load(Ordering::Acquire)
    }

    /// Sets the configuration-change vector (NO_VECTOR if out of range).
    pub(crate) fn set_config_vector(&self, vector: u16) {
        self.config_vector
            .store(self.accept(vector), Ordering::Release);
    }

    /// Queue `index`'s vector (NO_VECTOR for a queue that does not exist).
    pub(crate) fn queue_vector(&self, index: usize) -> u16 {
        self.queue_vectors
            .get(index)
            .map_or(NO_VECTOR, |v| v.load(Ordering::Acquire))
    }

    /// Sets queue `index`'s vector (NO_VECTOR if out of range).
    pub(crate) fn set_queue_vector(&self, index: usize, vector: u16) {
        if let Some(v) = self.queue_vectors.get(index) {
            v.store(self.accept(vector), Ordering::Release);
        }
    }

    /// The configuration generation.
    pub(crate) fn generation(&self) -> u8 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether the device reported an unrecoverable error.
    pub(crate) fn needs_reset(&self) -> bool {
        self.needs_reset.load(Ordering::Acquire)
    }

    /// Connects the INTx line (once; later calls are ignored).
    pub(crate) fn set_intx(&self, line: Arc<dyn IntxLine>) {
        let _ = self.intx.set(line);
    }

    /// Follows the command register's bus master enable: an MSI-X message
    /// is a memory write, which the function may only issue with it on.
    pub(crate) fn set_bus_master(&self, enabled: bool) {
        self.bus_master.store(enabled, Ordering::Release);
    }

    /// Follows the command register's INTx disable bit: while set, the
    /// line stays deasserted.
    pub(crate) fn set_intx_disabled(&self, disabled: bool) {
        self.intx_disabled.store(disabled, Ordering::Release);
        self.update_intx();
    }

    /// Drives the INTx line: asserted while INTx is in use (MSI-X off, not
    /// disabled) and the ISR has a bit set.
    fn update_intx(&self) {
        if let Some(line) = self.intx.get() {
            let in_use = !self.msix().is_enabled() && !self.intx_disabled.load(Ordering::Acquire);
            line.set_level(in_use && self.isr.load(Ordering::Acquire) != 0);
        }
    }

    /// Reads the ISR status, which clears it (and deasserts INTx).
    pub(crate) fn take_isr(&self) -> u8 {
        let isr = self.isr.swap(0, Ordering::AcqRel);
        if isr != 0 {
            self.update_intx();
        }
        isr
    }

    /// Queue `index` has used buffers.
    pub(crate) fn signal_queue(&self, index: usize) {
        self.isr.fetch_or(ISR_QUEUE, Ordering::AcqRel);
        self.raise(self.queue_vector(index));
    }

    /// The device configuration changed: a new generation and a
    /// configuration interrupt.
    pub(crate) fn signal_config(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.isr.fetch_or(ISR_CONFIG, Ordering::AcqRel);
        self.raise(self.config_vector());
    }

    /// The device cannot go on: DEVICE_NEEDS_RESET and a configuration interrupt.
    pub(crate) fn signal_needs_reset(&self) {
        self.needs_reset.store(true, Ordering::Release);
        self.isr.fetch_or(ISR_CONFIG, Ordering::AcqRel);
        self.raise(self.config_vector());
    }

    /// A device reset: no vectors, ISR clear, no error. The MSI-X table
    /// belongs to PCI and survives.
    pub(crate) fn reset(&self) {
        self.isr.store(0, Ordering::Release);
        self.update_intx();
        self.needs_reset.store(false, Ordering::Release);
        self.config_vector.store(NO_VECTOR, Ordering::Release);
        for v in &self.queue_vectors {
            v.store(NO_VECTOR, Ordering::Release);
        }
    }

    fn raise(&self, vector: u16) {
        if !self.msix().is_enabled() {
            // INTx (the ISR bit is already set), if the function has a pin.
            self.update_intx();
            return;
        }
        if vector == NO_VECTOR || !self.bus_master.load(Ordering::Acquire) {
            return;
        }
        let message = self.msix().notify(vector);
        if let Some(message) = message {
            self.sink.send(vector, message);
        }
    }

    /// Runs `op` on the MSI-X state and delivers the messages it releases
    /// (an unmask, an enable) with the vectors they belong to: those whose
    /// pending bit `op` cleared, in index order, as `Msix` drains them.
    pub(crate) fn update_msix(&self, op: impl FnOnce(&mut Msix) -> Vec<MsiMessage>) {
        let released = {
            let mut msix = self.msix();
            let before = pending_bits(&msix);
            let messages = op(&mut msix);
            let after = pending_bits(&msix);
            let vectors = (0..self.vectors).filter(|&v| {
                let (word, bit) = (usize::from(v / 8), v % 8);
                let was = before.get(word).is_some_and(|b| b & (1 << bit) != 0);
                let is = after.get(word).is_some_and(|b| b & (1 << bit) != 0);
                was && !is
            });
            vectors.zip(messages).collect::<Vec<_>>()
        };
        if self.bus_master.load(Ordering::Acquire) {
            for (vector, message) in released {
                self.sink.send(vector, message);
            }
        }
        self.update_intx();
    }
}

fn pending_bits(msix: &Msix) -> Vec<u8> {
    let mut bits = vec![0u8; usize::try_from(msix.pba_size()).unwrap_or(0)];
    msix.read_pba(0, &mut bits);
    bits
}
