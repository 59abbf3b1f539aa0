//! A machine with the QAT 420xx model below a root port, for the QAT
//! co-simulation tests: requests are served by the model's event handler
//! whenever the driver waits (or by an event thread, as in the VMM).

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use devices::pci::{self, HostBridge, MsiSink, PciRoot, RootPort};
use devices::qat::Qat420xx;
use guest_drivers::pci::{enumerate, MsiTarget, PciDevice};
use guest_drivers::qat::{is_qat, Qat};

use super::common::{memory, MsiLog, Sim};

/// Where the driver's interrupts go.
pub const TARGET: MsiTarget = MsiTarget {
    apic_id: 0,
    vector: 0x40,
};

/// The machine and the QAT function on it.
pub struct QatRig {
    /// The driver-side handle.
    pub sim: Sim,
    /// The QAT function as enumeration found it.
    pub device: PciDevice,
    /// The model, for its counters.
    pub model: Arc<Mutex<Qat420xx>>,
    stop: Arc<AtomicBool>,
}

impl Drop for QatRig {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl QatRig {
    /// Requests are served when the driver waits.
    pub fn new() -> Self {
        Self::build(false)
    }

    /// Requests are served by an event thread of their own.
    pub fn threaded() -> Self {
        Self::build(true)
    }

    fn build(threaded: bool) -> Self {
        let mem = memory();
        let msi = Arc::new(MsiLog::default());
        let sink: Arc<dyn MsiSink> = msi.clone();
        let model = Arc::new(Mutex::new(
            Qat420xx::new(mem.clone(), sink).expect("QAT model"),
        ));
        let handler = model.lock().unwrap().handler();
        let mut root = PciRoot::new();
        root.add(
            pci::Bdf::root(0, 0),
            Arc::new(Mutex::new(HostBridge::new())),
        )
        .unwrap();
        let port = pci::Bdf::root(1, 0);
        root.add(port, Arc::new(Mutex::new(RootPort::generic(1))))
            .unwrap();
        root.add_below(port, 0, model.clone()).unwrap();
        let sim = Sim::new(root, mem, msi);
        let stop = Arc::new(AtomicBool::new(false));
        let pump = move || {
            for (_, token) in handler.events() {
                handler.handle_event(token);
            }
        };
        if threaded {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    pump();
                    std::thread::sleep(std::time::Duration::from_micros(20));
                }
            });
        } else {
            sim.add_pump(Box::new(pump));
        }
        let device = enumerate(&sim)
            .into_iter()
            .find(is_qat)
            .expect("the QAT function enumerates");
        Self {
            sim,
            device,
            model,
            stop,
        }
    }

    /// Brings the device up, with MSI-X or polled.
    pub fn probe(&self, interrupts: bool) -> Qat<Sim> {
        Qat::probe(self.sim.clone(), &self.device, interrupts.then_some(TARGET)).expect("bring-up")
    }

    /// MSI-X messages so far.
    pub fn messages(&self) -> usize {
        self.sim.0.msi.count()
    }
}

/// Decodes hex.
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
