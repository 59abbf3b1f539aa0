//! PCI enumeration and MSI-X set-up against the PCI models: the host
//! bridge, root ports and a test endpoint below them, with resources
//! assigned the way the VMM assigns them before boot.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::{memory, MsiLog, Sim};
use devices::pci::{
    self, Bar as ModelBar, BarKind as ModelBarKind, ConfigSpace, HeaderType as ModelHeader,
    HostBridge, MsiSink, Msix as ModelMsix, PciFunction, PciRoot, RootPort, MSIX_CAP_ID,
};
use guest_drivers::pci::{enumerate, BarKind, HeaderType, MsiTarget, Msix, PciDevice};
use guest_drivers::{Bdf, Hal};

/// Offset of the PBA in BAR 0 (the table is at 0).
const PBA_OFFSET: u64 = 0x1000;
/// MSI-X capability's message control register, in configuration space.
fn control_offset(cap: usize) -> u64 {
    cap as u64 + 2
}

/// An endpoint with a 32-bit BAR 0 (MSI-X table and PBA), a 64-bit
/// prefetchable BAR 2 and an I/O BAR 4. It records a BAR size probe that
/// happens while decoding is on.
struct Endpoint {
    config: ConfigSpace,
    msix: ModelMsix,
    msix_cap: usize,
    sink: Arc<MsiLog>,
    probed_while_decoding: Arc<AtomicBool>,
}

impl Endpoint {
    fn new(device_id: u16, sink: Arc<MsiLog>, flag: Arc<AtomicBool>) -> Self {
        let mut config = ConfigSpace::new(0x8086, device_id, 0x08_80_00, 3, ModelHeader::Endpoint);
        let bar = |kind, size| ModelBar { kind, size };
        let mem32 = ModelBarKind::Memory32 {
            prefetchable: false,
        };
        config.set_bar(0, bar(mem32, 0x4000)).unwrap();
        let mem64 = ModelBarKind::Memory64 { prefetchable: true };
        config.set_bar(2, bar(mem64, 1 << 21)).unwrap();
        config.set_bar(4, bar(ModelBarKind::Io, 0x20)).unwrap();
        let msix = ModelMsix::new(4);
        let (body, mask) = msix.capability(0, 0, 0, PBA_OFFSET as u32);
        let msix_cap = config.add_capability(MSIX_CAP_ID, &body, &mask).unwrap();
        Self {
            config,
            msix,
            msix_cap,
            sink,
            probed_while_decoding: flag,
        }
    }

    fn raise(&mut self, vector: u16) {
        if let Some(message) = self.msix.notify(vector) {
            self.sink.send(vector, message);
        }
    }
}

impl PciFunction for Endpoint {
    fn name(&self) -> &str {
        "endpoint"
    }
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }
    fn write_config(&mut self, offset: u64, data: &[u8]) {
        let is_bar = (0x10..0x28).contains(&offset);
        if is_bar && data.iter().all(|&b| b == 0xff) && self.config.command() & 0b11 != 0 {
            self.probed_while_decoding.store(true, Ordering::SeqCst);
        }
        self.config.write(offset, data);
        let control = control_offset(self.msix_cap);
        if offset <= control + 1 && offset + data.len() as u64 > control {
            let mut bytes = [0u8; 2];
            self.config.read(control, &mut bytes);
            for message in self.msix.set_control(u16::from_le_bytes(bytes)) {
                self.sink.send(0, message);
            }
        }
    }
    fn read_bar(&mut self, bar: u8, offset: u64, data: &mut [u8]) {
        match (bar, offset) {
            (0, o) if o >= PBA_OFFSET => self.msix.read_pba(o - PBA_OFFSET, data),
            (0, o) => self.msix.read_table(o, data),
            _ => data.fill(0),
        }
    }
    fn write_bar(&mut self, bar: u8, offset: u64, data: &[u8]) {
        if bar == 0 && offset < PBA_OFFSET {
            for message in self.msix.write_table(offset, data) {
                self.sink.send(0, message);
            }
        }
    }
}

struct Topology {
    sim: Sim,
    endpoints: Vec<Arc<Mutex<Endpoint>>>,
    probed_while_decoding: Arc<AtomicBool>,
}

/// Host bridge, three root ports, endpoints below ports 1 and 3 (port 2's
/// link is empty), like the VMM's layout.
fn topology() -> Topology {
    let msi = Arc::new(MsiLog::default());
    let flag = Arc::new(AtomicBool::new(false));
    let mut root = PciRoot::new();
    root.add(
        pci::Bdf::root(0, 0),
        Arc::new(Mutex::new(HostBridge::new())),
    )
    .unwrap();
    let mut endpoints = Vec::new();
    for port in 1..=3u8 {
        root.add(
            pci::Bdf::root(port, 0),
            Arc::new(Mutex::new(RootPort::generic(port))),
        )
        .unwrap();
        if port != 2 {
            let endpoint = Arc::new(Mutex::new(Endpoint::new(
                0x1000 + u16::from(port),
                msi.clone(),
                flag.clone(),
            )));
            root.add_below(pci::Bdf::root(port, 0), 0, endpoint.clone())
                .unwrap();
            endpoints.push(endpoint);
        }
    }
    Topology {
        sim: Sim::new(root, memory(), msi),
        endpoints,
        probed_while_decoding: flag,
    }
}

fn config_snapshot(sim: &Sim, bdf: Bdf) -> Vec<u8> {
    let mut bytes = vec![0u8; 0x40];
    for (i, chunk) in bytes.chunks_mut(4).enumerate() {
        let value: u32 = sim.config_read(bdf, 4 * i as u16);
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    bytes
}

fn find(devices: &[PciDevice], bdf: Bdf) -> &PciDevice {
    devices
        .iter()
        .find(|d| d.bdf == bdf)
        .unwrap_or_else(|| panic!("{bdf} not found"))
}

#[test]
fn test_enumeration_walks_bus0_then_each_port_secondary_bus() {
    let t = topology();
    let devices = enumerate(&t.sim);
    let found: Vec<String> = devices.iter().map(|d| d.bdf.to_string()).collect();
    assert_eq!(
        found,
        ["00:00.0", "00:01.0", "01:00.0", "00:02.0", "00:03.0", "03:00.0"]
    );
    let host = find(&devices, Bdf::new(0, 0, 0));
    assert_eq!(
        (host.vendor_id, host.device_id, host.class),
        (0x1b36, 0x0008, 0x06_00_00)
    );
    assert_eq!(host.header_type, HeaderType::Endpoint);
    let port = find(&devices, Bdf::new(0, 2, 0));
    assert_eq!(
        (port.vendor_id, port.device_id, port.class),
        (0x1b36, 0x000c, 0x06_04_00)
    );
    assert_eq!(port.header_type, HeaderType::Bridge);
    assert_eq!(port.buses, Some((2, 2)));
    let endpoint = find(&devices, Bdf::new(3, 0, 0));
    assert_eq!((endpoint.device_id, endpoint.revision), (0x1003, 3));
}

#[test]
fn test_enumeration_sizes_bars_at_their_assigned_addresses() {
    let t = topology();
    let devices = enumerate(&t.sim);
    let endpoint = find(&devices, Bdf::new(1, 0, 0));
    let kinds: Vec<_> = endpoint
        .bars
        .iter()
        .map(|b| (b.index, b.kind, b.prefetchable, b.size))
        .collect();
    assert_eq!(
        kinds,
        [
            (0, BarKind::Memory32, false, 0x4000),
            (2, BarKind::Memory64, true, 1 << 21),
            (4, BarKind::Io, false, 0x20),
        ]
    );
    let bar0 = endpoint.bar(0).unwrap();
    assert!((0xc000_0000..0xe000_0000).contains(&bar0.address));
    assert!(
        endpoint.bar(2).unwrap().address >= 1 << 32,
        "64-bit aperture"
    );
    assert!(endpoint.bar(4).unwrap().address >= 0xc000);
    // The BAR decodes where enumeration says: the MSI-X table's first
    // vector control word reads "masked".
    let control: u32 = t.sim.mmio_read(bar0.address + 12);
    assert_eq!(control, 1);
    let port = find(&devices, Bdf::new(0, 1, 0));
    assert!(port.bars.is_empty(), "root ports implement no BAR");
}

#[test]
fn test_bar_probe_restores_registers_and_disables_decode_meanwhile() {
    let t = topology();
    let bdfs = [Bdf::new(0, 1, 0), Bdf::new(1, 0, 0), Bdf::new(3, 0, 0)];
    let before: Vec<_> = bdfs.iter().map(|&b| config_snapshot(&t.sim, b)).collect();
    enumerate(&t.sim);
    let after: Vec<_> = bdfs.iter().map(|&b| config_snapshot(&t.sim, b)).collect();
    assert_eq!(before, after);
    assert!(!t.probed_while_decoding.load(Ordering::SeqCst));
}

#[test]
fn test_capability_lists_and_summary_lines() {
    let t = topology();
    let devices = enumerate(&t.sim);
    let port = find(&devices, Bdf::new(0, 1, 0));
    assert_eq!(
        port.to_string(),
        "00:01.0 1b36:000c class 060400 bus 01-01 caps 10,01"
    );
    let endpoint = find(&devices, Bdf::new(1, 0, 0));
    assert_eq!(endpoint.capabilities_with(0x11).count(), 1);
    let line = endpoint.to_string();
    assert!(
        line.starts_with("01:00.0 8086:1001 class 088000 bar0 mem32 0xc"),
        "{line}"
    );
    assert!(line.ends_with(" caps 11"), "{line}");
}

#[test]
fn test_msix_programmed_vector_sends_lapic_message() {
    let t = topology();
    let devices = enumerate(&t.sim);
    let endpoint = find(&devices, Bdf::new(3, 0, 0));
    let msix = Msix::new(&t.sim, endpoint).unwrap();
    assert_eq!(msix.entries(), 4);
    msix.enable_masked(&t.sim);
    let target = MsiTarget {
        apic_id: 2,
        vector: 0x45,
    };
    msix.program(&t.sim, 1, target).unwrap();
    assert_eq!(msix.entry(&t.sim, 1).unwrap(), (0xfee0_2000, 0x45, false));
    t.endpoints[1].lock().unwrap().raise(1);
    assert_eq!(t.sim.0.msi.count(), 0, "function still masked: pending");
    msix.unmask_function(&t.sim);
    assert!(msix.is_enabled(&t.sim));
    let messages = t.sim.0.msi.messages();
    assert_eq!(messages.len(), 1, "the pending message went out on unmask");
    assert_eq!(
        (messages[0].1.address, messages[0].1.data),
        (0xfee0_2000, 0x45)
    );
    t.endpoints[1].lock().unwrap().raise(1);
    assert_eq!(t.sim.0.msi.count(), 2);
    assert!(msix.program(&t.sim, 4, target).is_err());
}

#[test]
fn test_msix_absent_capability_is_an_error() {
    let t = topology();
    let devices = enumerate(&t.sim);
    let port = find(&devices, Bdf::new(0, 1, 0));
    assert!(Msix::new(&t.sim, port).is_err());
}
