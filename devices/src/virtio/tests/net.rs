use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use vm_memory::Bytes;
use vmm_sys_util::eventfd::EventFd;

use super::harness::*;
use crate::virtio::*;

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const RX: usize = 0;
const TX: usize = 1;

fn features() -> u64 {
    1 << VIRTIO_F_VERSION_1 | 1 << VIRTIO_NET_F_MAC | 1 << VIRTIO_NET_F_STATUS
}

/// Frames waiting to be received, and frames sent.
#[derive(Default)]
struct Wire {
    inbound: VecDeque<Vec<u8>>,
    outbound: Vec<Vec<u8>>,
}

/// An in-memory backend.
struct Mock {
    wire: Arc<Mutex<Wire>>,
    fd: EventFd,
}

impl NetBackend for Mock {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let frame = self.wire.lock().unwrap().inbound.pop_front();
        let frame = frame.ok_or(io::ErrorKind::WouldBlock)?;
        let len = frame.len().min(buf.len());
        buf[..len].copy_from_slice(&frame[..len]);
        Ok(len)
    }
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.wire.lock().unwrap().outbound.push(frame.to_vec());
        Ok(())
    }
    fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn mock_driver() -> (Driver<Net>, Arc<Mutex<Wire>>) {
    let wire = Arc::new(Mutex::new(Wire::default()));
    let mock = Mock {
        wire: wire.clone(),
        fd: EventFd::new(0).unwrap(),
    };
    let mut d = Driver::new(Net::new(Box::new(mock), MAC));
    assert_eq!(d.device_features(), features());
    d.init(features(), 32);
    (d, wire)
}

fn frame(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
}

/// Posts a receive buffer of `len` bytes; returns its address.
fn post_rx(d: &mut Driver<Net>, len: u32) -> u64 {
    let buf = d.alloc(len, 0);
    d.push(RX, &[(buf, len, true)]);
    buf
}

/// The frame delivered in a receive buffer, after checking its header.
fn delivered(d: &Driver<Net>, buf: u64, used_len: u32) -> Vec<u8> {
    let bytes = d.bytes(buf, used_len as usize);
    let mut header = [0u8; NET_HDR_LEN];
    header[10] = 1;
    assert_eq!(bytes[..NET_HDR_LEN], header, "zero header, num_buffers 1");
    bytes[NET_HDR_LEN..].to_vec()
}

#[test]
fn test_net_config_has_mac_and_link_up() {
    let (mut d, _) = mock_driver();
    let mac = d.read_bar(DEVICE_OFFSET, 6).to_le_bytes();
    assert_eq!(mac[..6], MAC);
    assert_eq!(
        d.read_bar(DEVICE_OFFSET + 6, 2),
        u64::from(VIRTIO_NET_S_LINK_UP)
    );
    assert_eq!(d.read_config(0, 4), 0x1041_1af4);
    assert_eq!(d.read_config(8, 4) >> 8, 0x02_00_00);
    assert_eq!(d.read_bar(COMMON_OFFSET + COMMON_NUMQ, 2), 2);
}

#[test]
fn test_net_transmit_strips_header_and_sends_frame() {
    let (mut d, wire) = mock_driver();
    let payload = frame(7, 60);
    let hdr = d.alloc(NET_HDR_LEN as u32, 0);
    let data = d.alloc(60, 0);
    d.mem
        .write_slice(&payload, vm_memory::GuestAddress(data))
        .unwrap();
    let head = d.push(TX, &[(hdr, NET_HDR_LEN as u32, false), (data, 60, false)]);
    d.kick(TX as u16);
    assert_eq!(d.used(TX), vec![(u32::from(head), 0)]);
    assert_eq!(wire.lock().unwrap().outbound, vec![payload]);
    assert_eq!(d.msi.take_vectors(), vec![2], "transmit queue vector");
}

#[test]
fn test_net_receive_waits_for_buffers_and_loses_nothing() {
    let (mut d, wire) = mock_driver();
    let frames: Vec<Vec<u8>> = (0..3).map(|i| frame(i * 10, 64 + usize::from(i))).collect();
    wire.lock().unwrap().inbound.extend(frames.clone());
    d.dev.handle_event(DEVICE_TOKEN_BASE);
    assert!(d.used(RX).is_empty(), "no buffers yet");
    assert_eq!(wire.lock().unwrap().inbound.len(), 3, "frames stay queued");

    let bufs = [post_rx(&mut d, 2048), post_rx(&mut d, 2048)];
    d.kick(RX as u16);
    let used = d.used(RX);
    assert_eq!(used.len(), 2);
    for (i, &(_, len)) in used.iter().enumerate() {
        assert_eq!(delivered(&d, bufs[i], len), frames[i]);
    }
    assert_eq!(d.msi.take_vectors(), vec![1]);

    let last = post_rx(&mut d, 2048);
    d.kick(RX as u16);
    let used = d.used(RX);
    assert_eq!(delivered(&d, last, used[0].1), frames[2]);
    d.dev.handle_event(DEVICE_TOKEN_BASE);
    assert!(d.used(RX).is_empty());
}

#[test]
fn test_net_frame_too_big_is_dropped_and_buffer_kept() {
    let (mut d, wire) = mock_driver();
    wire.lock()
        .unwrap()
        .inbound
        .extend([frame(1, 200), frame(2, 50)]);
    let buf = post_rx(&mut d, 100);
    d.kick(RX as u16);
    let used = d.used(RX);
    assert_eq!(used.len(), 1);
    assert_eq!(delivered(&d, buf, used[0].1), frame(2, 50));
    d.dev.with_device(|n| assert_eq!(n.drops().rx_too_big, 1));
}

#[test]
fn test_net_malformed_chains_never_panic_nor_eat_frames() {
    let (mut d, wire) = mock_driver();
    wire.lock().unwrap().inbound.push_back(frame(3, 40));
    // Receive: a readable buffer, one too small for a header, one
    // outside memory, and a loop; all go back empty.
    let buf = d.alloc(2048, 0);
    d.push(RX, &[(buf, 2048, false)]);
    d.push(RX, &[(buf, 8, true)]);
    d.push(RX, &[(MEM_SIZE - 16, 2048, true)]);
    let looped = d.rings[RX].size - 1;
    d.write_desc(RX, looped, buf, 2048, F_NEXT | F_WRITE, looped);
    d.publish(RX, looped);
    d.kick(RX as u16);
    let lens: Vec<u32> = d.used(RX).iter().map(|u| u.1).collect();
    assert_eq!(lens, vec![0, 0, 0, 0]);
    assert_eq!(wire.lock().unwrap().inbound.len(), 1, "frame kept");
    let good = post_rx(&mut d, 2048);
    d.kick(RX as u16);
    let used = d.used(RX);
    assert_eq!(delivered(&d, good, used[0].1), frame(3, 40));
    // Transmit: writable, short of a header, looped, outside memory.
    let hdr = d.alloc(64, 0);
    d.push(TX, &[(hdr, 64, true)]);
    d.push(TX, &[(hdr, 4, false)]);
    d.push(TX, &[(MEM_SIZE - 8, 64, false)]);
    let head = d.rings[TX].size - 1;
    d.write_desc(TX, head, hdr, 32, F_NEXT, head);
    d.publish(TX, head);
    d.kick(TX as u16);
    assert_eq!(d.used(TX).len(), 4);
    assert!(wire.lock().unwrap().outbound.is_empty());
    d.dev.with_device(|n| assert_eq!(n.drops().tx_malformed, 4));
}

/// A socket path in the temporary directory, removed when dropped.
struct SocketPath(PathBuf);

impl SocketPath {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "devices-virtio-net-{}-{name}.sock",
            std::process::id()
        ));
        Self(path)
    }
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn test_net_two_cards_linked_by_unix_datagrams() {
    let (pa, pb) = (SocketPath::new("a"), SocketPath::new("b"));
    let a = UnixDatagramBackend::new(&pa.0, &pb.0).unwrap();
    let b = UnixDatagramBackend::new(&pb.0, &pa.0).unwrap();
    let mut da = Driver::new(Net::new(Box::new(a), MAC));
    let mut db = Driver::new(Net::new(Box::new(b), [2, 0, 0, 0, 0, 2]));
    da.init(features(), 32);
    db.init(features(), 32);

    let frames: Vec<Vec<u8>> = (0..4).map(|i| frame(i, 1514 - usize::from(i))).collect();
    for f in &frames {
        let buf = da.alloc((NET_HDR_LEN + f.len()) as u32, 0);
        let at = vm_memory::GuestAddress(buf + NET_HDR_LEN as u64);
        da.mem.write_slice(f, at).unwrap();
        da.push(TX, &[(buf, (NET_HDR_LEN + f.len()) as u32, false)]);
    }
    da.kick(TX as u16);
    assert_eq!(da.used(TX).len(), 4);

    // B had no buffers when the frames came: they wait in its socket.
    db.dev.handle_event(DEVICE_TOKEN_BASE);
    assert!(db.used(RX).is_empty());
    let bufs: Vec<u64> = (0..4).map(|_| post_rx(&mut db, 1526)).collect();
    db.kick(RX as u16);
    let used = db.used(RX);
    assert_eq!(used.len(), 4);
    for (i, &(_, len)) in used.iter().enumerate() {
        assert_eq!(delivered(&db, bufs[i], len), frames[i], "frame {i}");
    }
}

#[test]
fn test_net_backend_replaces_stale_socket() {
    let (pa, pb) = (SocketPath::new("stale-a"), SocketPath::new("stale-b"));
    drop(UnixDatagramBackend::new(&pa.0, &pb.0).unwrap());
    assert!(pa.0.exists(), "a stale socket file stays behind");
    UnixDatagramBackend::new(&pa.0, &pb.0).unwrap();
}
