//! The co-simulation harness: a [`Hal`] implemented straight on the device
//! models. Configuration accesses go to a `devices::pci::PciRoot`, MMIO to
//! the BARs it decodes, DMA memory is a vm-memory `GuestMemoryMmap` the
//! models share, and MSI-X messages are recorded.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use devices::pci::{self, assign_resources, Apertures, MsiMessage, MsiSink, PciRoot};
use guest_drivers::{Bdf, Hal, HalError, Register};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

/// Guest RAM the harness gives the models.
pub const MEMORY_SIZE: usize = 16 << 20;
/// Where DMA allocations start (the first MiB stays unused).
const DMA_START: u64 = 1 << 20;
const PAGE: u64 = 4096;

/// The apertures the VMM gives the host bridge (firmware/src/layout.rs).
pub const APERTURES: Apertures = Apertures {
    mmio32: (0xc000_0000, 0x2000_0000),
    mmio64: (0x1_0000_0000, 0x4_0000_0000),
    io: (0xc000, 0x4000),
};

/// MSI-X messages the functions sent, in order.
#[derive(Debug, Default)]
pub struct MsiLog {
    messages: Mutex<Vec<(u16, MsiMessage)>>,
}

impl MsiLog {
    /// Everything sent so far.
    pub fn messages(&self) -> Vec<(u16, MsiMessage)> {
        self.messages.lock().unwrap().clone()
    }

    /// How many messages were sent.
    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }
}

impl MsiSink for MsiLog {
    fn send(&self, vector: u16, message: MsiMessage) {
        self.messages.lock().unwrap().push((vector, message));
    }
}

/// Something that runs device work when the driver waits (an event
/// handler's queue processing, say).
pub type Pump = Box<dyn Fn() + Send + Sync>;

/// The simulated machine.
pub struct Machine {
    /// The PCI hierarchy.
    pub root: Arc<PciRoot>,
    /// Guest memory, shared with the device models.
    pub mem: GuestMemoryMmap<()>,
    /// MSI-X messages sent.
    pub msi: Arc<MsiLog>,
    dma_next: Mutex<u64>,
    pumps: Mutex<Vec<Pump>>,
}

/// The driver-side handle (cheap to clone, one per driver).
#[derive(Clone)]
pub struct Sim(pub Arc<Machine>);

impl Sim {
    /// A machine with `root` (resources assigned here, as the VMM does),
    /// `mem` as RAM and `msi` recording messages.
    pub fn new(root: PciRoot, mem: GuestMemoryMmap<()>, msi: Arc<MsiLog>) -> Self {
        assign_resources(&root, &APERTURES).expect("resources fit the apertures");
        Self(Arc::new(Machine {
            root: Arc::new(root),
            mem,
            msi,
            dma_next: Mutex::new(DMA_START),
            pumps: Mutex::new(Vec::new()),
        }))
    }

    /// Runs `pump` whenever a driver waits.
    pub fn add_pump(&self, pump: Pump) {
        self.0.pumps.lock().unwrap().push(pump);
    }

    fn bdf(bdf: Bdf) -> pci::Bdf {
        pci::Bdf {
            bus: bdf.bus,
            device: bdf.device,
            function: bdf.function,
        }
    }
}

/// Fresh zeroed guest RAM.
pub fn memory() -> GuestMemoryMmap<()> {
    GuestMemoryMmap::from_ranges(&[(GuestAddress(0), MEMORY_SIZE)]).expect("guest memory")
}

fn to_value<T: Register>(bytes: &[u8]) -> T {
    let mut wide = [0u8; 8];
    wide[..bytes.len()].copy_from_slice(bytes);
    T::from_u64(u64::from_le_bytes(wide))
}

impl Hal for Sim {
    fn map_mmio(&self, paddr: u64, _len: u64) -> Result<u64, HalError> {
        Ok(paddr)
    }

    fn mmio_read<T: Register>(&self, addr: u64) -> T {
        let mut bytes = [0u8; 8];
        self.0.root.bar_read(addr, false, &mut bytes[..T::SIZE]);
        to_value(&bytes[..T::SIZE])
    }

    fn mmio_write<T: Register>(&self, addr: u64, value: T) {
        let bytes = value.to_u64().to_le_bytes();
        self.0.root.bar_write(addr, false, &bytes[..T::SIZE]);
    }

    fn config_read<T: Register>(&self, bdf: Bdf, offset: u16) -> T {
        let mut bytes = [0u8; 8];
        self.0
            .root
            .config_read(Self::bdf(bdf), u64::from(offset), &mut bytes[..T::SIZE]);
        to_value(&bytes[..T::SIZE])
    }

    fn config_write<T: Register>(&self, bdf: Bdf, offset: u16, value: T) {
        let bytes = value.to_u64().to_le_bytes();
        self.0
            .root
            .config_write(Self::bdf(bdf), u64::from(offset), &bytes[..T::SIZE]);
    }

    fn dma_alloc(&self, size: usize) -> Result<u64, HalError> {
        let mut next = self.0.dma_next.lock().unwrap();
        let addr = *next;
        let end = addr + (size as u64).next_multiple_of(PAGE);
        if end > MEMORY_SIZE as u64 {
            return Err(HalError::OutOfMemory(size));
        }
        *next = end;
        Ok(addr)
    }

    fn dma_read(&self, paddr: u64, buf: &mut [u8]) {
        self.0
            .mem
            .read_slice(buf, GuestAddress(paddr))
            .expect("DMA read inside guest memory");
    }

    fn dma_write(&self, paddr: u64, data: &[u8]) {
        self.0
            .mem
            .write_slice(data, GuestAddress(paddr))
            .expect("DMA write inside guest memory");
    }

    fn dma_load<T: Register>(&self, paddr: u64) -> T {
        let mut bytes = [0u8; 8];
        self.dma_read(paddr, &mut bytes[..T::SIZE]);
        to_value(&bytes[..T::SIZE])
    }

    fn dma_store<T: Register>(&self, paddr: u64, value: T) {
        self.dma_write(paddr, &value.to_u64().to_le_bytes()[..T::SIZE]);
    }

    fn portal_write(&self, addr: u64, data: &[u8; 64]) {
        // One 64-byte write, as the VMM delivers a guest's movdir64b.
        self.0.root.bar_write(addr, false, data);
    }

    fn wait_until(&self, timeout_ms: u64, done: &mut dyn FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        loop {
            if done() {
                return true;
            }
            for pump in self.0.pumps.lock().unwrap().iter() {
                pump();
            }
            if done() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}
