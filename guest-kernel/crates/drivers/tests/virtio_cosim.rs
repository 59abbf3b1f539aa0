//! The virtio drivers against the virtio-pci device models: each model
//! sits below its own root port, resources assigned as the VMM assigns
//! them, queues processed by the model's event handler whenever the
//! driver waits, MSI-X messages recorded.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::{memory, MsiLog, Sim};
use devices::pci::{self, HostBridge, MsiSink, PciRoot, RootPort, SharedFunction};
use devices::virtio::{Block, EventHandler, Rng, VirtioPci};
use guest_drivers::pattern;
use guest_drivers::pci::{enumerate, MsiTarget, PciDevice};
use guest_drivers::virtio::{
    self, BlkError, VirtioBlk, VirtioError, VirtioPci as Transport, VirtioRng, DEVICE_TYPE_BLOCK,
    DEVICE_TYPE_RNG, SECTOR_SIZE, STATUS_ACKNOWLEDGE, STATUS_DRIVER, STATUS_DRIVER_OK,
    STATUS_FEATURES_OK,
};
use vm_memory::GuestMemoryMmap;

/// Where the drivers' interrupts go.
const TARGET: MsiTarget = MsiTarget {
    apic_id: 1,
    vector: 0x40,
};
/// Sectors in the test disks.
const DISK_SECTORS: usize = 64;

/// A model ready to plug in: the function and its event side.
type Model = (SharedFunction, Arc<dyn EventHandler>);

fn plug<D: devices::virtio::VirtioDevice + 'static>(
    device: D,
    mem: &GuestMemoryMmap,
    msi: &Arc<MsiLog>,
) -> Model {
    let sink: Arc<dyn MsiSink> = msi.clone();
    let function = VirtioPci::new(device, mem.clone(), sink).expect("virtio function");
    let handler = function.handler();
    (Arc::new(Mutex::new(function)), handler)
}

/// The machine: the host bridge, then one root port per model with the
/// model below it, in order.
struct Rig {
    sim: Sim,
    devices: Vec<PciDevice>,
    /// Set to stop the event thread, if there is one.
    stop: Arc<AtomicBool>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Rig {
    /// Queues are processed when the driver waits.
    fn new(build: impl FnOnce(&GuestMemoryMmap, &Arc<MsiLog>) -> Vec<Model>) -> Self {
        Self::build(build, false)
    }

    /// Queues are processed by an event thread running on its own, as
    /// in the VMM.
    fn threaded(build: impl FnOnce(&GuestMemoryMmap, &Arc<MsiLog>) -> Vec<Model>) -> Self {
        Self::build(build, true)
    }

    fn build(
        build: impl FnOnce(&GuestMemoryMmap, &Arc<MsiLog>) -> Vec<Model>,
        threaded: bool,
    ) -> Self {
        let mem = memory();
        let msi = Arc::new(MsiLog::default());
        let models = build(&mem, &msi);
        let mut root = PciRoot::new();
        root.add(
            pci::Bdf::root(0, 0),
            Arc::new(Mutex::new(HostBridge::new())),
        )
        .unwrap();
        let mut handlers = Vec::new();
        for (i, (function, handler)) in models.into_iter().enumerate() {
            let port = pci::Bdf::root(i as u8 + 1, 0);
            root.add(port, Arc::new(Mutex::new(RootPort::generic(i as u8 + 1))))
                .unwrap();
            root.add_below(port, 0, function).unwrap();
            handlers.push(handler);
        }
        let sim = Sim::new(root, mem, msi);
        let stop = Arc::new(AtomicBool::new(false));
        let pump = move || {
            for handler in &handlers {
                for (_, token) in handler.events() {
                    handler.handle_event(token);
                }
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
        let devices = enumerate(&sim);
        Self { sim, devices, stop }
    }

    /// The `n`th virtio device of `device_type`.
    fn virtio(&self, device_type: u16, n: usize) -> &PciDevice {
        self.devices
            .iter()
            .filter(|d| virtio::device_type(d.vendor_id, d.device_id) == Some(device_type))
            .nth(n)
            .expect("virtio device present")
    }

    fn messages(&self) -> Vec<(u16, devices::pci::MsiMessage)> {
        self.sim.0.msi.messages()
    }
}

/// A disk image in the temporary directory: sector `s` filled with byte `s`.
fn disk_image(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("guest-drivers-{}-{name}.img", std::process::id()));
    let bytes: Vec<u8> = (0..DISK_SECTORS)
        .flat_map(|s| std::iter::repeat_n(s as u8, SECTOR_SIZE))
        .collect();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn block(path: &Path, readonly: bool) -> Block {
    Block::open(path, readonly)
        .unwrap()
        .with_serial(b"cosim-disk")
}

#[test]
fn test_rng_bytes_arrive_with_an_msix_message_per_completion() {
    let rig = Rig::new(|mem, msi| vec![plug(Rng::new(), mem, msi)]);
    let device = rig.virtio(DEVICE_TYPE_RNG, 0);
    let mut rng = VirtioRng::new(rig.sim.clone(), device, Some(TARGET)).unwrap();
    let status = rng.transport().status(&rig.sim);
    assert_eq!(
        status,
        STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK
    );
    let mut bytes = [0u8; 64];
    rng.fill(&mut bytes).unwrap();
    assert!(bytes.iter().any(|&b| b != bytes[0]), "{bytes:?}");
    let messages = rig.messages();
    assert_eq!(messages.len(), 1, "one request, one message");
    assert_eq!(messages[0].1.address, 0xfee0_1000);
    assert_eq!(messages[0].1.data, 0x40);
}

#[test]
fn test_rng_polled_without_msix_sends_no_message() {
    let rig = Rig::new(|mem, msi| vec![plug(Rng::new(), mem, msi)]);
    let mut rng = VirtioRng::new(rig.sim.clone(), rig.virtio(DEVICE_TYPE_RNG, 0), None).unwrap();
    let mut bytes = [0u8; 300];
    rng.fill(&mut bytes).unwrap();
    assert!(rig.messages().is_empty());
}

#[test]
fn test_blk_writes_reach_the_file_and_read_back() {
    let path = disk_image("rw");
    let rig = Rig::new(|mem, msi| vec![plug(block(&path, false), mem, msi)]);
    let mut blk = VirtioBlk::new(
        rig.sim.clone(),
        rig.virtio(DEVICE_TYPE_BLOCK, 0),
        Some(TARGET),
    )
    .unwrap();
    assert_eq!(blk.capacity(), DISK_SECTORS as u64);
    assert!(!blk.read_only());
    assert!(blk.has_flush());
    let mut first = vec![0u8; 2 * SECTOR_SIZE];
    blk.read(3, &mut first).unwrap();
    assert!(first[..SECTOR_SIZE].iter().all(|&b| b == 3));
    assert!(first[SECTOR_SIZE..].iter().all(|&b| b == 4));

    // Twelve sectors: more than one request's worth (the bounce buffer
    // holds eight).
    let mut data = vec![0u8; 12 * SECTOR_SIZE];
    for (i, sector) in data.chunks_mut(SECTOR_SIZE).enumerate() {
        pattern::fill(42, 1 + i as u64, sector);
    }
    blk.write(1, &data).unwrap();
    blk.flush().unwrap();
    let file = std::fs::read(&path).unwrap();
    assert_eq!(&file[SECTOR_SIZE..13 * SECTOR_SIZE], &data[..]);
    assert!(
        file[..SECTOR_SIZE].iter().all(|&b| b == 0),
        "sector 0 untouched"
    );
    assert!(file[13 * SECTOR_SIZE..14 * SECTOR_SIZE]
        .iter()
        .all(|&b| b == 13));
    let mut back = vec![0u8; data.len()];
    blk.read(1, &mut back).unwrap();
    assert_eq!(back, data);
    let requests = 1 + 2 + 1 + 2;
    assert_eq!(rig.messages().len(), requests, "one message per request");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn test_blk_id_is_the_serial() {
    let path = disk_image("id");
    let rig = Rig::new(|mem, msi| vec![plug(block(&path, false), mem, msi)]);
    let mut blk = VirtioBlk::new(
        rig.sim.clone(),
        rig.virtio(DEVICE_TYPE_BLOCK, 0),
        Some(TARGET),
    )
    .unwrap();
    let id = blk.id().unwrap();
    assert_eq!(&id[..10], b"cosim-disk");
    assert!(id[10..].iter().all(|&b| b == 0));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn test_blk_readonly_disk_answers_writes_with_ioerr() {
    let path = disk_image("ro");
    let rig = Rig::new(|mem, msi| vec![plug(block(&path, true), mem, msi)]);
    let mut blk = VirtioBlk::new(
        rig.sim.clone(),
        rig.virtio(DEVICE_TYPE_BLOCK, 0),
        Some(TARGET),
    )
    .unwrap();
    assert!(blk.read_only());
    assert_eq!(blk.write(0, &[0x5a; SECTOR_SIZE]), Err(BlkError::Io));
    let mut sector = [0u8; SECTOR_SIZE];
    blk.read(5, &mut sector).unwrap();
    assert!(sector.iter().all(|&b| b == 5));
    let file = std::fs::read(&path).unwrap();
    assert!(
        file[..SECTOR_SIZE].iter().all(|&b| b == 0),
        "file unchanged"
    );
    std::fs::remove_file(path).unwrap();
}

#[test]
fn test_blk_refuses_ranges_past_the_end_and_partial_sectors() {
    let path = disk_image("range");
    let rig = Rig::new(|mem, msi| vec![plug(block(&path, false), mem, msi)]);
    let mut blk = VirtioBlk::new(rig.sim.clone(), rig.virtio(DEVICE_TYPE_BLOCK, 0), None).unwrap();
    let mut two = [0u8; 2 * SECTOR_SIZE];
    assert_eq!(
        blk.read(DISK_SECTORS as u64 - 1, &mut two),
        Err(BlkError::OutOfRange {
            sector: DISK_SECTORS as u64 - 1,
            count: 2
        })
    );
    assert_eq!(blk.write(0, &[0u8; 100]), Err(BlkError::BadLength(100)));
    blk.read(DISK_SECTORS as u64 - 2, &mut two).unwrap();
    std::fs::remove_file(path).unwrap();
}

#[test]
fn test_devices_in_pci_order_and_reinitialisation() {
    let (a, b) = (disk_image("order-a"), disk_image("order-b"));
    let rig = Rig::new(|mem, msi| {
        vec![
            plug(block(&a, false), mem, msi),
            plug(Rng::new(), mem, msi),
            plug(block(&b, true), mem, msi),
        ]
    });
    let first = rig.virtio(DEVICE_TYPE_BLOCK, 0);
    let second = rig.virtio(DEVICE_TYPE_BLOCK, 1);
    assert!(first.bdf < second.bdf);
    assert!(!VirtioBlk::new(rig.sim.clone(), first, None)
        .unwrap()
        .read_only());
    assert!(VirtioBlk::new(rig.sim.clone(), second, None)
        .unwrap()
        .read_only());
    // A second driver instance resets the device and starts over.
    let mut again = VirtioBlk::new(rig.sim.clone(), first, Some(TARGET)).unwrap();
    let mut sector = [0u8; SECTOR_SIZE];
    again.read(7, &mut sector).unwrap();
    assert!(sector.iter().all(|&b| b == 7));
    // BAR 0 is a 64-bit BAR below 4 GiB, as the kernel's test expects.
    let bar = first.bar(0).unwrap();
    assert_eq!(bar.kind, guest_drivers::pci::BarKind::Memory64);
    assert!(bar.address + bar.size <= 1 << 32);
    std::fs::remove_file(a).unwrap();
    std::fs::remove_file(b).unwrap();
}

#[test]
fn test_transport_rejects_the_wrong_device_type() {
    let rig = Rig::new(|mem, msi| vec![plug(Rng::new(), mem, msi)]);
    let rng = rig.virtio(DEVICE_TYPE_RNG, 0);
    assert_eq!(
        VirtioBlk::new(rig.sim.clone(), rng, None).err(),
        Some(BlkError::Virtio(VirtioError::NotVirtio(rng.bdf)))
    );
    let transport = Transport::new(&rig.sim, rng, DEVICE_TYPE_RNG).unwrap();
    let features = transport.negotiate(&rig.sim, u64::MAX).unwrap();
    assert_ne!(features & virtio::F_VERSION_1, 0);
    assert_eq!(transport.num_queues(&rig.sim), 1);
    assert_eq!(
        transport.setup_queue(&rig.sim, 1, 8, None).err(),
        Some(VirtioError::QueueUnavailable(1))
    );
}

#[test]
fn test_blk_with_a_concurrent_event_thread() {
    let path = disk_image("threaded");
    let rig = Rig::threaded(|mem, msi| vec![plug(block(&path, false), mem, msi)]);
    let mut blk = VirtioBlk::new(
        rig.sim.clone(),
        rig.virtio(DEVICE_TYPE_BLOCK, 0),
        Some(TARGET),
    )
    .unwrap();
    let mut data = vec![0u8; 4 * SECTOR_SIZE];
    let mut back = vec![0u8; data.len()];
    // More requests than the queue has entries: descriptors are recycled.
    for round in 0..40u64 {
        for (i, sector) in data.chunks_mut(SECTOR_SIZE).enumerate() {
            pattern::fill(round, i as u64, sector);
        }
        let at = round % (DISK_SECTORS as u64 - 4);
        blk.write(at, &data).unwrap();
        blk.read(at, &mut back).unwrap();
        assert_eq!(back, data, "round {round}");
    }
    assert_eq!(rig.messages().len(), 80);
    std::fs::remove_file(path).unwrap();
}
