//! virtio-blk (virtio 1.x, 5.2): one request queue; each request is a
//! header (type, sector), an optional data buffer and a status byte the
//! device writes. Data moves through a driver-owned DMA bounce buffer.

use core::fmt;

use super::error::VirtioError;
use super::queue::{Buffer, VirtQueue};
use super::transport::VirtioPci;
use super::DEVICE_TYPE_BLOCK;
use crate::hal::Hal;
use crate::pci::{MsiTarget, PciDevice};

/// Bytes per sector (the unit of `capacity` and of request offsets).
pub const SECTOR_SIZE: usize = 512;

/// Feature: the device is read-only.
const F_RO: u64 = 1 << 5;
/// Feature: the device has a write cache and takes flush requests.
const F_FLUSH: u64 = 1 << 9;

/// Request types.
const T_IN: u32 = 0;
const T_OUT: u32 = 1;
const T_FLUSH: u32 = 4;
const T_GET_ID: u32 = 8;

/// Status values the device writes.
const S_OK: u8 = 0;
const S_IOERR: u8 = 1;
const S_UNSUPP: u8 = 2;

/// Device configuration: capacity in sectors (64 bits) at 0.
const CONFIG_CAPACITY: u64 = 0;

/// Bytes of the device ID a GET_ID request returns.
pub const ID_BYTES: usize = 20;
/// Entries in the request queue.
const QUEUE_SIZE: u16 = 16;
/// Sectors one request moves at most (the bounce buffer's size).
const MAX_SECTORS: usize = 8;
/// How long one request may take.
const TIMEOUT_MS: u64 = 5000;

/// Control page layout: request header, status byte, ID buffer.
const HEADER_AT: u64 = 0;
const HEADER_LEN: u32 = 16;
const STATUS_AT: u64 = 16;
const ID_AT: u64 = 32;

/// Errors from block requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlkError {
    /// The transport or queue failed.
    Virtio(VirtioError),
    /// The device answered VIRTIO_BLK_S_IOERR (e.g. a write to a read-only disk).
    Io,
    /// The device answered VIRTIO_BLK_S_UNSUPP.
    Unsupported,
    /// The device wrote a status byte the specification does not define.
    BadStatus(u8),
    /// The buffer is not a whole number of sectors.
    BadLength(usize),
    /// The request reaches past the end of the disk.
    OutOfRange {
        /// First sector.
        sector: u64,
        /// Sectors asked for.
        count: u64,
    },
}

impl fmt::Display for BlkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Virtio(e) => write!(f, "{e}"),
            Self::Io => f.write_str("device reported an I/O error"),
            Self::Unsupported => f.write_str("device does not support the request"),
            Self::BadStatus(s) => write!(f, "device wrote status {s}"),
            Self::BadLength(len) => write!(f, "{len} bytes is not a whole number of sectors"),
            Self::OutOfRange { sector, count } => {
                write!(f, "sectors {sector}+{count} are past the end of the disk")
            }
        }
    }
}

impl core::error::Error for BlkError {}

impl From<VirtioError> for BlkError {
    fn from(e: VirtioError) -> Self {
        Self::Virtio(e)
    }
}

impl From<crate::hal::HalError> for BlkError {
    fn from(e: crate::hal::HalError) -> Self {
        Self::Virtio(e.into())
    }
}

/// A virtio block device, ready for requests.
#[derive(Debug)]
pub struct VirtioBlk<H: Hal> {
    hal: H,
    transport: VirtioPci,
    queue: VirtQueue,
    control: u64,
    data: u64,
    capacity: u64,
    features: u64,
}

impl<H: Hal> VirtioBlk<H> {
    /// Initialises the block device `device`; completions interrupt
    /// `msi` through MSI-X entry 0 (or are only polled for, if `None`).
    pub fn new(hal: H, device: &PciDevice, msi: Option<MsiTarget>) -> Result<Self, BlkError> {
        let transport = VirtioPci::new(&hal, device, DEVICE_TYPE_BLOCK)?;
        let features = transport.negotiate(&hal, F_RO | F_FLUSH)?;
        let setup = (|| {
            let vector = match msi {
                Some(target) => transport.enable_msix(&hal, target).map(|_| Some(0))?,
                None => None,
            };
            let queue = transport.setup_queue(&hal, 0, QUEUE_SIZE, vector)?;
            let control = hal.dma_alloc(4096)?;
            let data = hal.dma_alloc(MAX_SECTORS * SECTOR_SIZE)?;
            transport.driver_ok(&hal)?;
            Ok::<_, VirtioError>((queue, control, data))
        })();
        let (queue, control, data) = setup.inspect_err(|_| transport.fail(&hal))?;
        let capacity = transport.config_u64(&hal, CONFIG_CAPACITY);
        Ok(Self {
            hal,
            transport,
            queue,
            control,
            data,
            capacity,
            features,
        })
    }

    /// The transport (status, MSI-X table, ...).
    pub fn transport(&self) -> &VirtioPci {
        &self.transport
    }

    /// Size of the disk in sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Whether the device said it is read-only (VIRTIO_BLK_F_RO). Writes
    /// are still sent: the device answers them with an I/O error.
    pub fn read_only(&self) -> bool {
        self.features & F_RO != 0
    }

    /// Whether the device has a write cache to flush (VIRTIO_BLK_F_FLUSH).
    pub fn has_flush(&self) -> bool {
        self.features & F_FLUSH != 0
    }

    /// One request: header, optional data buffer, status.
    fn request(&mut self, kind: u32, sector: u64, data: Option<Buffer>) -> Result<(), BlkError> {
        let mut header = [0u8; HEADER_LEN as usize];
        header[..4].copy_from_slice(&kind.to_le_bytes());
        header[8..].copy_from_slice(&sector.to_le_bytes());
        self.hal.dma_write(self.control + HEADER_AT, &header);
        self.hal.dma_store(self.control + STATUS_AT, 0xffu8);
        let head = Buffer::readable(self.control + HEADER_AT, HEADER_LEN);
        let status = Buffer::writable(self.control + STATUS_AT, 1);
        match data {
            Some(data) => {
                self.queue
                    .submit_and_wait(&self.hal, &[head, data, status], TIMEOUT_MS)?
            }
            None => self
                .queue
                .submit_and_wait(&self.hal, &[head, status], TIMEOUT_MS)?,
        };
        match self.hal.dma_load::<u8>(self.control + STATUS_AT) {
            S_OK => Ok(()),
            S_IOERR => Err(BlkError::Io),
            S_UNSUPP => Err(BlkError::Unsupported),
            other => Err(BlkError::BadStatus(other)),
        }
    }

    fn check_range(&self, sector: u64, len: usize) -> Result<(), BlkError> {
        if !len.is_multiple_of(SECTOR_SIZE) {
            return Err(BlkError::BadLength(len));
        }
        let count = (len / SECTOR_SIZE) as u64;
        if sector
            .checked_add(count)
            .is_none_or(|end| end > self.capacity)
        {
            return Err(BlkError::OutOfRange { sector, count });
        }
        Ok(())
    }

    /// Reads `buf.len()` bytes (whole sectors) from `sector` on.
    pub fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), BlkError> {
        self.check_range(sector, buf.len())?;
        for (i, chunk) in buf.chunks_mut(MAX_SECTORS * SECTOR_SIZE).enumerate() {
            let at = sector + (i * MAX_SECTORS) as u64;
            let data = Buffer::writable(self.data, chunk.len() as u32);
            self.request(T_IN, at, Some(data))?;
            self.hal.dma_read(self.data, chunk);
        }
        Ok(())
    }

    /// Writes `data` (whole sectors) from `sector` on.
    pub fn write(&mut self, sector: u64, data: &[u8]) -> Result<(), BlkError> {
        self.check_range(sector, data.len())?;
        for (i, chunk) in data.chunks(MAX_SECTORS * SECTOR_SIZE).enumerate() {
            let at = sector + (i * MAX_SECTORS) as u64;
            self.hal.dma_write(self.data, chunk);
            let buffer = Buffer::readable(self.data, chunk.len() as u32);
            self.request(T_OUT, at, Some(buffer))?;
        }
        Ok(())
    }

    /// Reads `len` bytes (whole sectors) from `sector` into DMA memory at
    /// `addr`, as one request with one data descriptor whatever its size
    /// (what a block layer does with a large contiguous buffer).
    pub fn read_dma(&mut self, sector: u64, addr: u64, len: u32) -> Result<(), BlkError> {
        self.check_range(sector, len as usize)?;
        self.request(T_IN, sector, Some(Buffer::writable(addr, len)))
    }

    /// Writes `len` bytes (whole sectors) from DMA memory at `addr` to
    /// `sector` on, as one request.
    pub fn write_dma(&mut self, sector: u64, addr: u64, len: u32) -> Result<(), BlkError> {
        self.check_range(sector, len as usize)?;
        self.request(T_OUT, sector, Some(Buffer::readable(addr, len)))
    }

    /// Makes completed writes durable (a no-op without a write cache).
    pub fn flush(&mut self) -> Result<(), BlkError> {
        if !self.has_flush() {
            return Ok(());
        }
        self.request(T_FLUSH, 0, None)
    }

    /// The device's ID string (up to 20 bytes, NUL-padded).
    pub fn id(&mut self) -> Result<[u8; ID_BYTES], BlkError> {
        let buffer = Buffer::writable(self.control + ID_AT, ID_BYTES as u32);
        self.request(T_GET_ID, 0, Some(buffer))?;
        let mut id = [0u8; ID_BYTES];
        self.hal.dma_read(self.control + ID_AT, &mut id);
        Ok(id)
    }
}
