//! A test driver: plays the guest's virtio-pci driver against a
//! [`VirtioPci`] through its configuration space and BAR 0, with split
//! rings in a real `GuestMemoryMmap`, and records the MSI-X messages.

use std::sync::{Arc, Mutex};

use vm_memory::{Bytes, GuestAddress};

use crate::pci::{MsiMessage, MsiSink, PciFunction};
use crate::virtio::*;

/// Guest memory size in tests.
pub const MEM_SIZE: u64 = 16 << 20;
/// Where test data buffers are allocated from.
const DATA_BASE: u64 = 0x10_0000;
/// Descriptor flags.
pub const F_NEXT: u16 = 1;
/// Device-writable.
pub const F_WRITE: u16 = 2;
/// Message address every vector is programmed with.
pub const MSI_ADDRESS: u64 = 0xfee0_0000;
/// Message data of vector v is this plus v.
pub const MSI_DATA_BASE: u32 = 0x40;

/// Records every MSI-X message.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<(u16, MsiMessage)>>);

impl MsiSink for Recorder {
    fn send(&self, vector: u16, message: MsiMessage) {
        self.0.lock().unwrap().push((vector, message));
    }
}

impl Recorder {
    /// The vectors delivered so far, and forget them.
    pub fn take_vectors(&self) -> Vec<u16> {
        let mut all = self.0.lock().unwrap();
        let vectors = all.iter().map(|(v, m)| {
            assert_eq!(m.address, MSI_ADDRESS);
            assert_eq!(m.data, MSI_DATA_BASE + u32::from(*v));
            *v
        });
        let out = vectors.collect();
        all.clear();
        out
    }
}

/// One split ring the driver owns.
#[derive(Debug, Clone, Copy)]
pub struct Ring {
    pub size: u16,
    pub desc: u64,
    pub avail: u64,
    pub used: u64,
    next_desc: u16,
    avail_idx: u16,
    used_seen: u16,
}

/// A buffer to put in a chain: address, length, device-writable.
pub type Buf = (u64, u32, bool);

/// The driver.
pub struct Driver<D: VirtioDevice> {
    pub dev: VirtioPci<D>,
    pub mem: GuestMemory,
    pub msi: Arc<Recorder>,
    pub rings: Vec<Ring>,
    next_data: u64,
}

pub fn guest_memory() -> GuestMemory {
    GuestMemory::from_ranges(&[(GuestAddress(0), MEM_SIZE as usize)]).unwrap()
}

impl<D: VirtioDevice> Driver<D> {
    /// A driver for `device`, nothing negotiated yet.
    pub fn new(device: D) -> Self {
        let mem = guest_memory();
        let msi = Arc::new(Recorder::default());
        let dev = VirtioPci::new(device, mem.clone(), msi.clone()).unwrap();
        let mut driver = Self {
            dev,
            mem,
            msi,
            rings: Vec::new(),
            next_data: DATA_BASE,
        };
        driver.enable_bus_master();
        driver
    }

    /// Memory decode and bus master on, as `pci_enable_device` and
    /// `pci_set_master` leave a function.
    pub fn enable_bus_master(&mut self) {
        self.write_config(0x04, 0x0006, 2);
    }

    pub fn read_bar(&mut self, offset: u64, len: usize) -> u64 {
        let mut b = [0u8; 8];
        self.dev.read_bar(0, offset, &mut b[..len]);
        u64::from_le_bytes(b)
    }

    pub fn write_bar(&mut self, offset: u64, value: u64, len: usize) {
        self.dev.write_bar(0, offset, &value.to_le_bytes()[..len]);
    }

    pub fn read_config(&mut self, offset: u64, len: usize) -> u64 {
        let mut b = [0u8; 8];
        self.dev.read_config(offset, &mut b[..len]);
        u64::from_le_bytes(b)
    }

    pub fn write_config(&mut self, offset: u64, value: u64, len: usize) {
        self.dev.write_config(offset, &value.to_le_bytes()[..len]);
    }

    /// Offsets of the capabilities with `id`, in list order.
    pub fn caps(&mut self, id: u8) -> Vec<u64> {
        let mut out = Vec::new();
        let mut at = self.read_config(0x34, 1);
        let mut hops = 0;
        while at != 0 && hops < 48 {
            if self.read_config(at, 1) == u64::from(id) {
                out.push(at);
            }
            at = self.read_config(at + 1, 1);
            hops += 1;
        }
        out
    }

    /// The vendor capability of `cfg_type`.
    pub fn virtio_cap(&mut self, cfg_type: u8) -> Option<u64> {
        self.caps(PCI_CAP_ID_VENDOR)
            .into_iter()
            .find(|&c| self.read_config(c + 3, 1) == u64::from(cfg_type))
    }

    pub fn status(&mut self) -> u8 {
        self.read_bar(COMMON_OFFSET + COMMON_STATUS, 1) as u8
    }

    pub fn set_status(&mut self, status: u8) {
        self.write_bar(COMMON_OFFSET + COMMON_STATUS, u64::from(status), 1);
    }

    /// The 64 feature bits the device offers.
    pub fn device_features(&mut self) -> u64 {
        self.write_bar(COMMON_OFFSET + COMMON_DFSELECT, 0, 4);
        let low = self.read_bar(COMMON_OFFSET + COMMON_DF, 4);
        self.write_bar(COMMON_OFFSET + COMMON_DFSELECT, 1, 4);
        let high = self.read_bar(COMMON_OFFSET + COMMON_DF, 4);
        low | (high << 32)
    }

    /// Acknowledges, writes `features` and sets FEATURES_OK; returns
    /// whether the device kept FEATURES_OK.
    pub fn negotiate(&mut self, features: u64) -> bool {
        self.set_status(STATUS_ACKNOWLEDGE);
        self.set_status(STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        self.write_bar(COMMON_OFFSET + COMMON_GFSELECT, 0, 4);
        self.write_bar(COMMON_OFFSET + COMMON_GF, features & 0xffff_ffff, 4);
        self.write_bar(COMMON_OFFSET + COMMON_GFSELECT, 1, 4);
        self.write_bar(COMMON_OFFSET + COMMON_GF, features >> 32, 4);
        self.set_status(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        self.status() & STATUS_FEATURES_OK != 0
    }

    /// Enables MSI-X and programs vectors 0..n unmasked.
    pub fn enable_msix(&mut self) {
        let cap = self.caps(crate::pci::MSIX_CAP_ID)[0];
        let vectors = (self.read_config(cap + 2, 2) & 0x7ff) + 1;
        for v in 0..vectors {
            let entry = MSIX_TABLE_OFFSET + 16 * v;
            self.write_bar(entry, MSI_ADDRESS, 4);
            self.write_bar(entry + 4, 0, 4);
            self.write_bar(entry + 8, u64::from(MSI_DATA_BASE) + v, 4);
            self.write_bar(entry + 12, 0, 4);
        }
        self.write_config(cap + 2, 0x8000, 2);
    }

    /// Selects queue `index`, sets its size, rings and vector `index + 1`,
    /// and enables it.
    pub fn setup_queue(&mut self, index: u16, size: u16) {
        let base = 0x1_0000 * (u64::from(index) + 1);
        let ring = Ring {
            size,
            desc: base,
            avail: base + 0x4000,
            used: base + 0x8000,
            next_desc: 0,
            avail_idx: 0,
            used_seen: 0,
        };
        let c = COMMON_OFFSET;
        self.write_bar(c + COMMON_Q_SELECT, u64::from(index), 2);
        self.write_bar(c + COMMON_Q_SIZE, u64::from(size), 2);
        self.write_bar(c + COMMON_Q_DESC, ring.desc, 4);
        self.write_bar(c + COMMON_Q_DESC + 4, ring.desc >> 32, 4);
        self.write_bar(c + COMMON_Q_AVAIL, ring.avail, 8);
        self.write_bar(c + COMMON_Q_USED, ring.used, 8);
        self.write_bar(c + COMMON_Q_MSIX, u64::from(index) + 1, 2);
        self.write_bar(c + COMMON_Q_ENABLE, 1, 2);
        for addr in [ring.avail, ring.used] {
            self.mem.write_slice(&[0u8; 4], GuestAddress(addr)).unwrap();
        }
        let slot = usize::from(index);
        if self.rings.len() <= slot {
            self.rings.resize(slot + 1, ring);
        }
        self.rings[slot] = ring;
    }

    /// The whole Linux-style bring-up with `features`, every queue of
    /// size `size` (capped at its maximum), ending with DRIVER_OK; the
    /// activation kicks are handled.
    pub fn init(&mut self, features: u64, size: u16) {
        assert!(self.negotiate(features), "FEATURES_OK refused");
        self.enable_msix();
        self.write_bar(COMMON_OFFSET + COMMON_MSIX, 0, 2);
        let queues = self.read_bar(COMMON_OFFSET + COMMON_NUMQ, 2) as u16;
        for q in 0..queues {
            self.write_bar(COMMON_OFFSET + COMMON_Q_SELECT, u64::from(q), 2);
            let max = self.read_bar(COMMON_OFFSET + COMMON_Q_SIZE, 2) as u16;
            self.setup_queue(q, size.min(max));
        }
        let ok = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
        self.set_status(ok | STATUS_DRIVER_OK);
        assert_eq!(self.status(), ok | STATUS_DRIVER_OK);
        self.handle_all();
    }

    /// Handles every queue token (what the event thread would do).
    pub fn handle_all(&mut self) {
        for q in 0..self.rings.len() {
            self.dev.handle_event(q as u32);
        }
    }

    /// Allocates `len` bytes of guest memory filled with `fill`.
    pub fn alloc(&mut self, len: u32, fill: u8) -> u64 {
        let addr = self.next_data;
        self.next_data = (addr + u64::from(len)).next_multiple_of(16);
        assert!(self.next_data < MEM_SIZE, "test data out of memory");
        self.mem
            .write_slice(&vec![fill; len as usize], GuestAddress(addr))
            .unwrap();
        addr
    }

    /// Writes descriptor `index` of queue `q` as given.
    pub fn write_desc(&mut self, q: usize, index: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let at = self.rings[q].desc + 16 * u64::from(index);
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&addr.to_le_bytes());
        raw[8..12].copy_from_slice(&len.to_le_bytes());
        raw[12..14].copy_from_slice(&flags.to_le_bytes());
        raw[14..].copy_from_slice(&next.to_le_bytes());
        self.mem.write_slice(&raw, GuestAddress(at)).unwrap();
    }

    /// Makes `head` available on queue `q`.
    pub fn publish(&mut self, q: usize, head: u16) {
        let ring = self.rings[q];
        let slot = ring.avail + 4 + 2 * u64::from(ring.avail_idx % ring.size);
        self.mem.write_obj(head, GuestAddress(slot)).unwrap();
        let idx = ring.avail_idx.wrapping_add(1);
        self.mem
            .write_obj(idx, GuestAddress(ring.avail + 2))
            .unwrap();
        self.rings[q].avail_idx = idx;
    }

    /// Puts a chain of `bufs` on queue `q`; returns its head.
    pub fn push(&mut self, q: usize, bufs: &[Buf]) -> u16 {
        let size = self.rings[q].size;
        let head = self.rings[q].next_desc;
        for (i, &(addr, len, writable)) in bufs.iter().enumerate() {
            let index = (head + i as u16) % size;
            let last = i + 1 == bufs.len();
            let flags = if last { 0 } else { F_NEXT } | if writable { F_WRITE } else { 0 };
            self.write_desc(q, index, addr, len, flags, (index + 1) % size);
        }
        self.rings[q].next_desc = (head + bufs.len() as u16) % size;
        self.publish(q, head);
        head
    }

    /// The guest writes queue `q`'s notification address.
    pub fn notify(&mut self, q: u16) {
        let offset = NOTIFY_OFFSET + u64::from(NOTIFY_OFF_MULTIPLIER) * u64::from(q);
        self.write_bar(offset, u64::from(q), 2);
    }

    /// Notifies queue `q` and lets the event thread handle it.
    pub fn kick(&mut self, q: u16) {
        self.notify(q);
        self.dev.handle_event(u32::from(q));
    }

    /// New used entries (id, len) on queue `q` since the last call.
    pub fn used(&mut self, q: usize) -> Vec<(u32, u32)> {
        let ring = self.rings[q];
        let idx: u16 = self.mem.read_obj(GuestAddress(ring.used + 2)).unwrap();
        let mut out = Vec::new();
        let mut seen = ring.used_seen;
        while seen != idx {
            let at = ring.used + 4 + 8 * u64::from(seen % ring.size);
            let id: u32 = self.mem.read_obj(GuestAddress(at)).unwrap();
            let len: u32 = self.mem.read_obj(GuestAddress(at + 4)).unwrap();
            out.push((id, len));
            seen = seen.wrapping_add(1);
        }
        self.rings[q].used_seen = seen;
        out
    }

    /// `len` bytes of guest memory at `addr`.
    pub fn bytes(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.mem.read_slice(&mut out, GuestAddress(addr)).unwrap();
        out
    }
}

/// A small deterministic generator for garbage.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
