//! virtio-net (virtio 1.x, 5.1): an Ethernet card with one receive and one
//! transmit queue on a [`NetBackend`].
//!
//! Features: MAC and STATUS (the link is always up); no offloads, so the
//! guest computes checksums and sends frames of at most its MTU. Every
//! buffer starts with the 12-byte `virtio_net_hdr_v1`, all zero on receive
//! except `num_buffers` = 1. Frames are taken from the backend only when
//! the guest has a receive buffer for them, so none is lost while it has
//! none posted; a frame too big for the buffer is dropped and the buffer
//! kept. Register the backend's descriptor edge-triggered (see
//! [`EventHandler`](super::EventHandler)).

mod backend;

use virtio_queue::{Queue, QueueOwnedT, QueueT};
use vm_memory::{Bytes, GuestAddress};

pub use backend::{NetBackend, UnixDatagramBackend};

use super::chain::{complete, Chain};
use super::device::{read_config_bytes, DeviceType, GuestMemory, Signals, VirtioDevice};

/// Feature bit: the configuration has a MAC address.
pub const VIRTIO_NET_F_MAC: u32 = 5;
/// Feature bit: the configuration has a link status.
pub const VIRTIO_NET_F_STATUS: u32 = 16;
/// Link status: up.
pub const VIRTIO_NET_S_LINK_UP: u16 = 1;
/// Bytes of `struct virtio_net_hdr_v1` (the header with `num_buffers`).
pub const NET_HDR_LEN: usize = 12;

/// Queue indexes.
const RX: usize = 0;
const TX: usize = 1;
/// Queue size the device offers for each queue.
const QUEUE_SIZE: u16 = 256;
/// The backend's token in [`VirtioDevice::event_fds`].
const BACKEND_TOKEN: u32 = 0;
/// Largest frame moved (no offloads: an MTU-sized frame is far smaller).
const MAX_FRAME: usize = 65536;
/// Offset of `num_buffers` in the header.
const NUM_BUFFERS: usize = 10;
/// Configuration layout: mac[6], status (le16), max_virtqueue_pairs (le16).
const CONFIG_LEN: usize = 12;

/// Counts of frames the device dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NetDrops {
    /// Received frames bigger than the guest's buffer.
    pub rx_too_big: u64,
    /// Transmit chains the device could not read (malformed, outside memory).
    pub tx_malformed: u64,
    /// Frames the backend refused to send.
    pub tx_backend: u64,
}

/// A virtio network card.
pub struct Net {
    backend: Box<dyn NetBackend>,
    config: [u8; CONFIG_LEN],
    queue_sizes: [u16; 2],
    frame: Vec<u8>,
    drops: NetDrops,
}

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Net")
            .field("mac", &&self.config[..6])
            .field("drops", &self.drops)
            .finish_non_exhaustive()
    }
}

impl Net {
    /// A card with address `mac` on `backend`.
    pub fn new(backend: Box<dyn NetBackend>, mac: [u8; 6]) -> Self {
        let mut config = [0u8; CONFIG_LEN];
        config[..6].copy_from_slice(&mac);
        config[6..8].copy_from_slice(&VIRTIO_NET_S_LINK_UP.to_le_bytes());
        config[8..10].copy_from_slice(&1u16.to_le_bytes());
        Self {
            backend,
            config,
            queue_sizes: [QUEUE_SIZE; 2],
            frame: vec![0; MAX_FRAME],
            drops: NetDrops::default(),
        }
    }

    /// Frames dropped so far.
    pub fn drops(&self) -> NetDrops {
        self.drops
    }

    /// Moves waiting frames into the guest's receive buffers until either
    /// runs out.
    fn receive(&mut self, queue: &mut Queue, mem: &GuestMemory, signals: &mut Signals) {
        while let Some(descriptors) = queue.pop_descriptor_chain(mem) {
            let chain = Chain::read(descriptors, mem);
            let Some(room) = receive_room(&chain) else {
                complete(queue, mem, &chain, 0, RX, signals);
                continue;
            };
            let len = match self.backend.recv(&mut self.frame) {
                Ok(len) => len.min(MAX_FRAME),
                Err(_) => {
                    // Nothing waits (or the backend failed): the buffer
                    // stays available for the next frame.
                    queue.go_to_previous_position();
                    return;
                }
            };
            if NET_HDR_LEN + len > room {
                self.drops.rx_too_big += 1;
                queue.go_to_previous_position();
                continue;
            }
            let written = write_frame(&chain, mem, &self.frame[..len]);
            complete(queue, mem, &chain, written, RX, signals);
        }
    }

    /// Sends every frame the guest queued.
    fn transmit(&mut self, queue: &mut Queue, mem: &GuestMemory, signals: &mut Signals) {
        while let Some(descriptors) = queue.pop_descriptor_chain(mem) {
            let chain = Chain::read(descriptors, mem);
            match gather_frame(&chain, mem, &mut self.frame) {
                Some(len) => {
                    if self.backend.send(&self.frame[..len]).is_err() {
                        self.drops.tx_backend += 1;
                    }
                }
                None => self.drops.tx_malformed += 1,
            }
            complete(queue, mem, &chain, 0, TX, signals);
        }
    }
}

/// The bytes a receive chain can take: it must end, be all
/// device-writable, lie in guest memory and hold at least a header.
fn receive_room(chain: &Chain) -> Option<usize> {
    let usable = chain.complete && chain.segments.iter().all(|s| s.writable && s.in_memory);
    let room = chain.segments.iter().map(|s| s.len as usize).sum::<usize>();
    (usable && room >= NET_HDR_LEN).then_some(room)
}

/// Writes the header and `frame` across the chain; returns bytes written.
fn write_frame(chain: &Chain, mem: &GuestMemory, frame: &[u8]) -> u32 {
    let mut header = [0u8; NET_HDR_LEN];
    header[NUM_BUFFERS..].copy_from_slice(&1u16.to_le_bytes());
    let mut parts = [&header[..], frame];
    let mut written = 0usize;
    for segment in &chain.segments {
        let mut at = segment.addr.0;
        let mut room = segment.len as usize;
        for part in parts.iter_mut() {
            let take = part.len().min(room);
            if take == 0 {
                continue;
            }
            if mem.write_slice(&part[..take], GuestAddress(at)).is_err() {
                return written as u32;
            }
            *part = &part[take..];
            at += take as u64;
            room -= take;
            written += take;
        }
    }
    written as u32
}

/// Copies a transmit chain's frame (after the header) into `buf`; None if
/// the chain is malformed or has no whole header.
fn gather_frame(chain: &Chain, mem: &GuestMemory, buf: &mut [u8]) -> Option<usize> {
    let usable = chain.complete && chain.segments.iter().all(|s| !s.writable && s.in_memory);
    if !usable {
        return None;
    }
    let mut skip = NET_HDR_LEN;
    let mut len = 0usize;
    for segment in &chain.segments {
        let seg_len = segment.len as usize;
        let skipped = skip.min(seg_len);
        skip -= skipped;
        let take = (seg_len - skipped).min(buf.len() - len);
        let from = GuestAddress(segment.addr.0.checked_add(skipped as u64)?);
        mem.read_slice(&mut buf[len..len + take], from).ok()?;
        len += take;
    }
    (skip == 0).then_some(len)
}

impl VirtioDevice for Net {
    fn device_type(&self) -> DeviceType {
        DeviceType::Net
    }

    fn name(&self) -> &str {
        "virtio-net"
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &self.queue_sizes
    }

    fn features(&self) -> u64 {
        (1 << VIRTIO_NET_F_MAC) | (1 << VIRTIO_NET_F_STATUS)
    }

    fn config_len(&self) -> u32 {
        CONFIG_LEN as u32
    }

    fn read_config(&self, offset: u64, data: &mut [u8]) {
        read_config_bytes(&self.config, offset, data);
    }

    fn process_queue(
        &mut self,
        index: usize,
        queue: &mut Queue,
        mem: &GuestMemory,
        signals: &mut Signals,
    ) {
        match index {
            RX => self.receive(queue, mem, signals),
            TX => self.transmit(queue, mem, signals),
            _ => {}
        }
    }

    fn event_fds(&self) -> Vec<(std::os::fd::RawFd, u32)> {
        vec![(self.backend.raw_fd(), BACKEND_TOKEN)]
    }

    fn handle_event(
        &mut self,
        token: u32,
        queues: &mut [Queue],
        mem: &GuestMemory,
        signals: &mut Signals,
    ) {
        if token != BACKEND_TOKEN {
            return;
        }
        if let Some(queue) = queues.get_mut(RX).filter(|q| q.ready()) {
            self.receive(queue, mem, signals);
        }
    }
}
