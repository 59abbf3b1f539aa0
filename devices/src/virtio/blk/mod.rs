//! virtio-blk (virtio 1.x, 5.2): a disk on a host file, one request queue.
//!
//! Requests: IN (read), OUT (write), FLUSH (fdatasync) and GET_ID (the
//! 20-byte serial); anything else completes with UNSUPP. The disk is the
//! file's first `len / 512` sectors: a file whose size is not a multiple
//! of 512 bytes loses its tail bytes to the guest (they are never read or
//! written). Requests past the end, writes to a readonly disk and
//! malformed chains complete with IOERR; chains with no status byte to
//! write (or that never end) go back with length 0.

mod request;

use std::fs::{File, OpenOptions};
use std::path::Path;

use thiserror::Error;
use virtio_queue::{Queue, QueueT};

use super::chain::{complete, Chain};
use super::device::{read_config_bytes, DeviceType, GuestMemory, Signals, VirtioDevice};
use request::Disk;
pub use request::{
    VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_FLUSH,
    VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
};

/// Bytes per sector: capacity and request offsets count these.
pub const SECTOR_SIZE: u64 = 512;
/// Bytes of the serial GET_ID returns.
pub const ID_BYTES: usize = 20;

/// Queue size the device offers.
const QUEUE_SIZE: u16 = 256;
/// Feature bit: `seg_max` is valid.
pub const VIRTIO_BLK_F_SEG_MAX: u32 = 2;
/// Feature bit: the disk is readonly.
pub const VIRTIO_BLK_F_RO: u32 = 5;
/// Feature bit: `blk_size` is valid.
pub const VIRTIO_BLK_F_BLK_SIZE: u32 = 6;
/// Feature bit: FLUSH is supported.
pub const VIRTIO_BLK_F_FLUSH: u32 = 9;

/// Configuration layout (`struct virtio_blk_config`): capacity in sectors.
const CONFIG_CAPACITY: usize = 0;
/// Configuration layout: most segments in a request.
const CONFIG_SEG_MAX: usize = 12;
/// Configuration layout: the block size.
const CONFIG_BLK_SIZE: usize = 20;
/// Configuration layout: number of request queues.
const CONFIG_NUM_QUEUES: usize = 34;
/// Bytes of configuration exposed (fields we do not offer read 0).
const CONFIG_LEN: usize = 64;

/// Errors opening a disk.
#[derive(Debug, Error)]
pub enum BlockError {
    /// The backing file could not be opened or measured.
    #[error("disk image {path}: {source}")]
    Open {
        /// The path given.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The backing file could not be measured.
    #[error("disk image: {0}")]
    Metadata(#[from] std::io::Error),
}

/// A virtio block device on a host file.
#[derive(Debug)]
pub struct Block {
    disk: Disk,
    config: [u8; CONFIG_LEN],
    features: u64,
    queue_sizes: [u16; 1],
}

impl Block {
    /// A disk on `file` (opened for reading, and writing unless
    /// `readonly`); its capacity is the file's length rounded down to
    /// whole sectors.
    pub fn new(file: File, readonly: bool) -> Result<Self, BlockError> {
        let capacity = file.metadata()?.len() / SECTOR_SIZE;
        let mut features =
            (1 << VIRTIO_BLK_F_SEG_MAX) | (1 << VIRTIO_BLK_F_BLK_SIZE) | (1 << VIRTIO_BLK_F_FLUSH);
        if readonly {
            features |= 1 << VIRTIO_BLK_F_RO;
        }
        let mut config = [0u8; CONFIG_LEN];
        let mut put = |at: usize, bytes: &[u8]| config[at..at + bytes.len()].copy_from_slice(bytes);
        put(CONFIG_CAPACITY, &capacity.to_le_bytes());
        put(CONFIG_SEG_MAX, &u32::from(QUEUE_SIZE - 2).to_le_bytes());
        put(CONFIG_BLK_SIZE, &(SECTOR_SIZE as u32).to_le_bytes());
        put(CONFIG_NUM_QUEUES, &1u16.to_le_bytes());
        Ok(Self {
            disk: Disk::new(file, capacity, readonly),
            config,
            features,
            queue_sizes: [QUEUE_SIZE],
        })
    }

    /// Opens the image at `path` (read/write unless `readonly`).
    pub fn open(path: &Path, readonly: bool) -> Result<Self, BlockError> {
        let file = OpenOptions::new()
            .read(true)
            .write(!readonly)
            .open(path)
            .map_err(|source| BlockError::Open {
                path: path.display().to_string(),
                source,
            })?;
        Self::new(file, readonly)
    }

    /// Sets the serial GET_ID reports (cut to 20 bytes, zero-padded).
    pub fn with_serial(mut self, serial: &[u8]) -> Self {
        self.disk.set_serial(serial);
        self
    }

    /// The capacity in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.disk.capacity()
    }

    /// Whether writes are refused.
    pub fn readonly(&self) -> bool {
        self.disk.readonly()
    }
}

impl VirtioDevice for Block {
    fn device_type(&self) -> DeviceType {
        DeviceType::Block
    }

    fn name(&self) -> &str {
        "virtio-blk"
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &self.queue_sizes
    }

    fn features(&self) -> u64 {
        self.features
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
        while let Some(descriptors) = queue.pop_descriptor_chain(mem) {
            let chain = Chain::read(descriptors, mem);
            let len = self.disk.serve(&chain, mem);
            complete(queue, mem, &chain, len, index, signals);
        }
    }
}
