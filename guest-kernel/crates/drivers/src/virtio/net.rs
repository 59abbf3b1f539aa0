//! virtio-net (virtio 1.x, 5.1): raw Ethernet frames through the receive
//! queue (0) and the transmit queue (1). No offloads and no mergeable
//! buffers are negotiated, so every frame travels in one buffer behind the
//! 12-byte `virtio_net_hdr` (all zero on transmit), as Linux lays it out
//! with VIRTIO_F_VERSION_1.

use alloc::vec::Vec;
use core::fmt;

use super::error::VirtioError;
use super::queue::{Buffer, VirtQueue};
use super::transport::VirtioPci;
use super::DEVICE_TYPE_NET;
use crate::hal::Hal;
use crate::pci::{MsiTarget, PciDevice};

/// Feature: the device has a MAC address in its configuration.
const F_MAC: u64 = 1 << 5;
/// Device configuration: the MAC address at 0.
const CONFIG_MAC: u64 = 0;
/// Size of `virtio_net_hdr` with VERSION_1 (num_buffers included).
pub const HEADER_LEN: usize = 12;
/// Largest frame without offloads: 1514 bytes (no FCS).
pub const MAX_FRAME: usize = 1514;
/// Bytes per receive or transmit buffer (header + frame, rounded up).
const BUFFER_SIZE: usize = 2048;
/// Receive buffers kept posted.
const RX_BUFFERS: u16 = 8;
/// Queue sizes.
const QUEUE_SIZE: u16 = 16;
/// Queue indices.
const RX_QUEUE: u16 = 0;
const TX_QUEUE: u16 = 1;
/// How long a transmission may take.
const TX_TIMEOUT_MS: u64 = 5000;

/// Errors from the network device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// The transport or a queue failed.
    Virtio(VirtioError),
    /// The frame is larger than [`MAX_FRAME`] (or the receive buffer is
    /// smaller than the frame that arrived).
    FrameTooLarge(usize),
    /// The device used a receive buffer with less than a header in it.
    ShortBuffer(u32),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Virtio(e) => write!(f, "{e}"),
            Self::FrameTooLarge(len) => write!(f, "{len}-byte frame does not fit"),
            Self::ShortBuffer(len) => write!(f, "device returned a {len}-byte receive buffer"),
        }
    }
}

impl core::error::Error for NetError {}

impl From<VirtioError> for NetError {
    fn from(e: VirtioError) -> Self {
        Self::Virtio(e)
    }
}

/// A virtio network device, receive buffers posted.
#[derive(Debug)]
pub struct VirtioNet<H: Hal> {
    hal: H,
    transport: VirtioPci,
    rx: VirtQueue,
    tx: VirtQueue,
    /// Receive buffer address by head descriptor.
    rx_buffers: Vec<(u16, u64)>,
    tx_buffer: u64,
    mac: Option<[u8; 6]>,
}

impl<H: Hal> VirtioNet<H> {
    /// Initialises the network device `device` and posts its receive
    /// buffers; both queues interrupt `msi` (entries 0 and 1, or the only
    /// entry) or are only polled for.
    pub fn new(hal: H, device: &PciDevice, msi: Option<MsiTarget>) -> Result<Self, NetError> {
        let transport = VirtioPci::new(&hal, device, DEVICE_TYPE_NET)?;
        let features = transport.negotiate(&hal, F_MAC)?;
        let setup = (|| {
            let vectors = match msi {
                Some(target) => {
                    let entries = transport.enable_msix(&hal, target)?;
                    (Some(0), Some(1.min(entries - 1)))
                }
                None => (None, None),
            };
            let mut rx = transport.setup_queue(&hal, RX_QUEUE, QUEUE_SIZE, vectors.0)?;
            let tx = transport.setup_queue(&hal, TX_QUEUE, QUEUE_SIZE, vectors.1)?;
            let pool = hal.dma_alloc(BUFFER_SIZE * (usize::from(RX_BUFFERS) + 1))?;
            let mut rx_buffers = Vec::with_capacity(usize::from(RX_BUFFERS));
            for i in 0..u64::from(RX_BUFFERS) {
                let addr = pool + i * BUFFER_SIZE as u64;
                let head = rx.add(&hal, &[Buffer::writable(addr, BUFFER_SIZE as u32)])?;
                rx_buffers.push((head, addr));
            }
            let tx_buffer = pool + u64::from(RX_BUFFERS) * BUFFER_SIZE as u64;
            transport.driver_ok(&hal)?;
            rx.notify(&hal);
            Ok::<_, VirtioError>((rx, tx, rx_buffers, tx_buffer))
        })();
        let (rx, tx, rx_buffers, tx_buffer) = setup.inspect_err(|_| transport.fail(&hal))?;
        let mac = (features & F_MAC != 0).then(|| {
            let mut mac = [0u8; 6];
            for (i, byte) in mac.iter_mut().enumerate() {
                *byte = transport.config(&hal, CONFIG_MAC + i as u64);
            }
            mac
        });
        Ok(Self {
            hal,
            transport,
            rx,
            tx,
            rx_buffers,
            tx_buffer,
            mac,
        })
    }

    /// The transport (status, MSI-X table, ...).
    pub fn transport(&self) -> &VirtioPci {
        &self.transport
    }

    /// The MAC address the device reports (VIRTIO_NET_F_MAC), if any.
    pub fn mac(&self) -> Option<[u8; 6]> {
        self.mac
    }

    /// Sends one Ethernet frame (destination, source, type, payload; no
    /// FCS) and waits until the device has taken it.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), NetError> {
        if frame.len() > MAX_FRAME {
            return Err(NetError::FrameTooLarge(frame.len()));
        }
        self.hal.dma_write(self.tx_buffer, &[0u8; HEADER_LEN]);
        self.hal
            .dma_write(self.tx_buffer + HEADER_LEN as u64, frame);
        let len = (HEADER_LEN + frame.len()) as u32;
        self.tx.submit_and_wait(
            &self.hal,
            &[Buffer::readable(self.tx_buffer, len)],
            TX_TIMEOUT_MS,
        )?;
        Ok(())
    }

    /// Whether a received frame is waiting.
    pub fn can_receive(&self) -> bool {
        self.rx.has_used(&self.hal)
    }

    /// Copies the next received frame into `buf` and returns its length,
    /// or `None` if nothing has arrived. The buffer goes back to the device.
    pub fn try_receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, NetError> {
        let Some((head, written)) = self.rx.pop_used(&self.hal)? else {
            return Ok(None);
        };
        let addr = self
            .rx_buffers
            .iter()
            .find(|(h, _)| *h == head)
            .map(|(_, a)| *a)
            .ok_or(VirtioError::BadUsedEntry(u32::from(head)))?;
        let result = frame_len(written).and_then(|len| {
            let dest = buf.get_mut(..len).ok_or(NetError::FrameTooLarge(len))?;
            self.hal.dma_read(addr + HEADER_LEN as u64, dest);
            Ok(len)
        });
        self.repost(head, addr)?;
        result.map(Some)
    }

    /// Waits at most `timeout_ms` for a frame, then receives it like
    /// [`VirtioNet::try_receive`].
    pub fn receive(&mut self, buf: &mut [u8], timeout_ms: u64) -> Result<Option<usize>, NetError> {
        let (hal, rx) = (&self.hal, &self.rx);
        if !hal.wait_until(timeout_ms, &mut || rx.has_used(hal)) {
            return Ok(None);
        }
        self.try_receive(buf)
    }

    /// Posts a receive buffer again (the same descriptor comes back as head).
    fn repost(&mut self, old_head: u16, addr: u64) -> Result<(), NetError> {
        let head = self
            .rx
            .add(&self.hal, &[Buffer::writable(addr, BUFFER_SIZE as u32)])?;
        if let Some(entry) = self.rx_buffers.iter_mut().find(|(h, _)| *h == old_head) {
            entry.0 = head;
        }
        self.rx.notify(&self.hal);
        Ok(())
    }
}

/// The frame length in a receive buffer the device wrote `written` bytes to.
fn frame_len(written: u32) -> Result<usize, NetError> {
    (written as usize)
        .checked_sub(HEADER_LEN)
        .ok_or(NetError::ShortBuffer(written))
}
