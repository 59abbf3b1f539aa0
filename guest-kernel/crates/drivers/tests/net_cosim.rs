//! The virtio-net driver against the virtio-net model: two simulated
//! machines, each with one card, linked by the model's Unix datagram
//! backend, exchanging frames.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::{memory, MsiLog, Sim};
use devices::pci::{self, HostBridge, MsiSink, PciRoot, RootPort};
use devices::virtio::{Net, UnixDatagramBackend, VirtioPci};
use guest_drivers::pci::{enumerate, MsiTarget};
use guest_drivers::virtio::{self, NetError, VirtioNet, DEVICE_TYPE_NET, MAX_FRAME};

const TARGET: MsiTarget = MsiTarget {
    apic_id: 0,
    vector: 0x40,
};
/// How long a receive may wait.
const WAIT_MS: u64 = 2000;

/// One machine: a card with `mac` on the socket `local`, sending to `peer`.
fn machine(mac: [u8; 6], local: &Path, peer: &Path) -> (Sim, VirtioNet<Sim>) {
    let mem = memory();
    let msi = Arc::new(MsiLog::default());
    let backend = UnixDatagramBackend::new(local, peer).unwrap();
    let sink: Arc<dyn MsiSink> = msi.clone();
    let function = VirtioPci::new(Net::new(Box::new(backend), mac), mem.clone(), sink).unwrap();
    let handler = function.handler();
    let mut root = PciRoot::new();
    root.add(
        pci::Bdf::root(0, 0),
        Arc::new(Mutex::new(HostBridge::new())),
    )
    .unwrap();
    let port = pci::Bdf::root(1, 0);
    root.add(port, Arc::new(Mutex::new(RootPort::generic(1))))
        .unwrap();
    root.add_below(port, 0, Arc::new(Mutex::new(function)))
        .unwrap();
    let sim = Sim::new(root, mem, msi);
    sim.add_pump(Box::new(move || {
        for (_, token) in handler.events() {
            handler.handle_event(token);
        }
    }));
    let devices = enumerate(&sim);
    let device = devices
        .iter()
        .find(|d| virtio::device_type(d.vendor_id, d.device_id) == Some(DEVICE_TYPE_NET))
        .unwrap();
    let net = VirtioNet::new(sim.clone(), device, Some(TARGET)).unwrap();
    (sim, net)
}

fn socket(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("guest-drivers-{}-{name}.sock", std::process::id()))
}

/// Socket files, removed when the test ends.
struct Sockets([PathBuf; 2]);

impl Drop for Sockets {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Two linked machines (and their socket files).
fn pair(tag: &str) -> ([(Sim, VirtioNet<Sim>); 2], Sockets) {
    let (a, b) = (socket(&format!("{tag}-a")), socket(&format!("{tag}-b")));
    let first = machine([0x52, 0x54, 0, 0x12, 0x34, 1], &a, &b);
    let second = machine([0x52, 0x54, 0, 0x12, 0x34, 2], &b, &a);
    ([first, second], Sockets([a, b]))
}

fn frame(from: [u8; 6], len: usize, fill: u8) -> Vec<u8> {
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(&from);
    frame.extend_from_slice(&[0x88, 0xb5]);
    frame.resize(len, fill);
    frame
}

#[test]
fn test_net_reads_mac_and_moves_frames_both_ways() {
    let ([(sim_a, mut a), (sim_b, mut b)], _sockets) = pair("both");
    let mac_a = a.mac().unwrap();
    assert_eq!(mac_a, [0x52, 0x54, 0, 0x12, 0x34, 1]);
    let small = frame(mac_a, 60, 0xa5);
    a.send(&small).unwrap();
    let mut buf = vec![0u8; MAX_FRAME];
    let len = b.receive(&mut buf, WAIT_MS).unwrap().expect("a frame");
    assert_eq!(&buf[..len], &small[..]);
    let big = frame(b.mac().unwrap(), MAX_FRAME, 0x3c);
    b.send(&big).unwrap();
    let len = a.receive(&mut buf, WAIT_MS).unwrap().expect("a frame");
    assert_eq!(&buf[..len], &big[..]);
    for sim in [&sim_a, &sim_b] {
        let messages = sim.0.msi.messages();
        assert_eq!(messages.len(), 2, "one transmit and one receive completion");
        assert!(messages
            .iter()
            .all(|(_, m)| m.address == 0xfee0_0000 && m.data == 0x40));
    }
}

#[test]
fn test_net_receive_buffers_are_reposted() {
    let ([(_, mut a), (_, mut b)], _sockets) = pair("repost");
    let mut buf = vec![0u8; MAX_FRAME];
    // Far more frames than receive buffers (8).
    for i in 0..40u8 {
        let sent = frame(a.mac().unwrap(), 64 + usize::from(i), i);
        a.send(&sent).unwrap();
        let len = b.receive(&mut buf, WAIT_MS).unwrap().expect("a frame");
        assert_eq!(&buf[..len], &sent[..], "frame {i}");
    }
    assert!(!b.can_receive());
    assert_eq!(b.try_receive(&mut buf).unwrap(), None);
}

#[test]
fn test_net_refuses_oversized_frames_and_short_buffers() {
    let ([(_, mut a), (_, mut b)], _sockets) = pair("sizes");
    assert_eq!(
        a.send(&vec![0u8; MAX_FRAME + 1]),
        Err(NetError::FrameTooLarge(MAX_FRAME + 1))
    );
    a.send(&frame(a.mac().unwrap(), 100, 1)).unwrap();
    let mut small = [0u8; 50];
    assert_eq!(
        b.receive(&mut small, WAIT_MS),
        Err(NetError::FrameTooLarge(100))
    );
    // The buffer went back to the device: the next frame arrives.
    a.send(&frame(a.mac().unwrap(), 60, 2)).unwrap();
    let mut buf = vec![0u8; MAX_FRAME];
    assert_eq!(b.receive(&mut buf, WAIT_MS).unwrap(), Some(60));
}

#[test]
fn test_net_receive_times_out_without_traffic() {
    let ([(_, _a), (_, mut b)], _sockets) = pair("quiet");
    let mut buf = vec![0u8; MAX_FRAME];
    assert_eq!(b.receive(&mut buf, 20).unwrap(), None);
}
