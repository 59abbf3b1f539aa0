//! One virtio-blk request: the 16-byte header (type, reserved, sector) in
//! the device-readable part, data, and the status byte that ends the
//! device-writable part; and the disk that serves it. Data moves between
//! the file and guest memory directly, without a bounce buffer.

use std::fs::File;
use std::io::{Seek, SeekFrom};

use vm_memory::{Bytes, GuestAddress};

use super::{ID_BYTES, SECTOR_SIZE};
use crate::virtio::chain::{Chain, Segment};
use crate::virtio::device::GuestMemory;

/// Request type: read sectors.
pub const VIRTIO_BLK_T_IN: u32 = 0;
/// Request type: write sectors.
pub const VIRTIO_BLK_T_OUT: u32 = 1;
/// Request type: flush the write cache.
pub const VIRTIO_BLK_T_FLUSH: u32 = 4;
/// Request type: get the device ID string.
pub const VIRTIO_BLK_T_GET_ID: u32 = 8;
/// Status: success.
pub const VIRTIO_BLK_S_OK: u8 = 0;
/// Status: device or driver error.
pub const VIRTIO_BLK_S_IOERR: u8 = 1;
/// Status: request unsupported.
pub const VIRTIO_BLK_S_UNSUPP: u8 = 2;

/// Bytes of `struct virtio_blk_outhdr`.
const HEADER_LEN: usize = 16;

/// A piece of guest memory to move data to or from.
type Span = (GuestAddress, usize);

/// How a request ended: its status and the data bytes the device wrote
/// into guest buffers.
struct Outcome {
    status: u8,
    written: usize,
}

impl Outcome {
    fn status(status: u8) -> Self {
        Self { status, written: 0 }
    }
}

/// The backing file and what the guest sees of it.
#[derive(Debug)]
pub(super) struct Disk {
    file: File,
    /// Where the file's cursor is, when known (saves a seek for
    /// sequential segments and requests).
    position: Option<u64>,
    capacity: u64,
    readonly: bool,
    serial: [u8; ID_BYTES],
}

impl Disk {
    pub(super) fn new(file: File, capacity: u64, readonly: bool) -> Self {
        Self {
            file,
            position: None,
            capacity,
            readonly,
            serial: [0; ID_BYTES],
        }
    }

    pub(super) fn set_serial(&mut self, serial: &[u8]) {
        self.serial = [0; ID_BYTES];
        let len = serial.len().min(ID_BYTES);
        self.serial[..len].copy_from_slice(&serial[..len]);
    }

    pub(super) fn capacity(&self) -> u64 {
        self.capacity
    }

    pub(super) fn readonly(&self) -> bool {
        self.readonly
    }

    /// Serves one chain; returns the used length (0 when the chain has no
    /// status byte to report through, or never ends).
    pub(super) fn serve(&mut self, chain: &Chain, mem: &GuestMemory) -> u32 {
        let Some(status_at) = status_byte(chain) else {
            return 0;
        };
        let outcome = self.execute(chain, mem);
        if mem.write_obj(outcome.status, status_at).is_err() {
            return 0;
        }
        u32::try_from(outcome.written + 1).unwrap_or(u32::MAX)
    }

    fn execute(&mut self, chain: &Chain, mem: &GuestMemory) -> Outcome {
        let readable_ok = chain.readable().all(|s| s.in_memory);
        if !chain.well_ordered() || !readable_ok {
            return Outcome::status(VIRTIO_BLK_S_IOERR);
        }
        let Some(header) = read_header(chain, mem) else {
            return Outcome::status(VIRTIO_BLK_S_IOERR);
        };
        let kind = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let sector = u64::from_le_bytes(header[8..16].try_into().unwrap_or([0xff; 8]));
        match kind {
            VIRTIO_BLK_T_IN => self.read(sector, &device_writable_data(chain), mem),
            VIRTIO_BLK_T_OUT => self.write(sector, &device_readable_data(chain), mem),
            VIRTIO_BLK_T_FLUSH => self.flush(),
            VIRTIO_BLK_T_GET_ID => self.get_id(&device_writable_data(chain), mem),
            _ => Outcome::status(VIRTIO_BLK_S_UNSUPP),
        }
    }

    /// The byte offset of a transfer of `spans` at `sector`, if it is a
    /// whole number of sectors inside the disk.
    fn byte_range(&self, sector: u64, spans: &[Span]) -> Option<u64> {
        let len = spans.iter().map(|&(_, l)| l as u64).sum::<u64>();
        let start = sector.checked_mul(SECTOR_SIZE)?;
        let end = start.checked_add(len)?;
        let whole = len % SECTOR_SIZE == 0;
        (whole && end <= self.capacity * SECTOR_SIZE).then_some(start)
    }

    fn seek(&mut self, offset: u64) -> bool {
        if self.position == Some(offset) {
            return true;
        }
        self.position = (&self.file).seek(SeekFrom::Start(offset)).ok();
        self.position.is_some()
    }

    /// Moves every span to or from the file starting at `offset`.
    fn transfer(
        &mut self,
        mut offset: u64,
        spans: &[Span],
        mem: &GuestMemory,
        to_guest: bool,
    ) -> bool {
        for &(addr, len) in spans {
            if !self.seek(offset) {
                return false;
            }
            let mut file = &self.file;
            let done = if to_guest {
                mem.read_exact_volatile_from(addr, &mut file, len)
            } else {
                mem.write_all_volatile_to(addr, &mut file, len)
            };
            if done.is_err() {
                self.position = None;
                return false;
            }
            offset += len as u64;
            self.position = Some(offset);
        }
        true
    }

    fn read(&mut self, sector: u64, spans: &[Span], mem: &GuestMemory) -> Outcome {
        let Some(offset) = self.byte_range(sector, spans) else {
            return Outcome::status(VIRTIO_BLK_S_IOERR);
        };
        if !spans_in_memory(spans, mem) || !self.transfer(offset, spans, mem, true) {
            return Outcome::status(VIRTIO_BLK_S_IOERR);
        }
        Outcome {
            status: VIRTIO_BLK_S_OK,
            written: spans.iter().map(|&(_, l)| l).sum(),
        }
    }

    fn write(&mut self, sector: u64, spans: &[Span], mem: &GuestMemory) -> Outcome {
        let Some(offset) = self.byte_range(sector, spans).filter(|_| !self.readonly) else {
            return Outcome::status(VIRTIO_BLK_S_IOERR);
        };
        if !self.transfer(offset, spans, mem, false) {
            return Outcome::status(VIRTIO_BLK_S_IOERR);
        }
        Outcome::status(VIRTIO_BLK_S_OK)
    }

    fn flush(&mut self) -> Outcome {
        if self.readonly || self.file.sync_data().is_ok() {
            Outcome::status(VIRTIO_BLK_S_OK)
        } else {
            Outcome::status(VIRTIO_BLK_S_IOERR)
        }
    }

    fn get_id(&self, spans: &[Span], mem: &GuestMemory) -> Outcome {
        if !spans_in_memory(spans, mem) {
            return Outcome::status(VIRTIO_BLK_S_IOERR);
        }
        let mut written = 0;
        for &(addr, len) in spans {
            let take = len.min(ID_BYTES - written);
            if mem
                .write_slice(&self.serial[written..written + take], addr)
                .is_err()
            {
                return Outcome::status(VIRTIO_BLK_S_IOERR);
            }
            written += take;
        }
        Outcome {
            status: VIRTIO_BLK_S_OK,
            written,
        }
    }
}

/// Where the status byte goes: the last byte of the last buffer, which
/// must be device-writable and in guest memory.
fn status_byte(chain: &Chain) -> Option<GuestAddress> {
    if !chain.complete {
        return None;
    }
    let last = chain.segments.last()?;
    if !last.writable || last.len == 0 || !last.in_memory {
        return None;
    }
    last.addr
        .0
        .checked_add(u64::from(last.len) - 1)
        .map(GuestAddress)
}

/// The header from the start of the device-readable part, which may span
/// buffers.
fn read_header(chain: &Chain, mem: &GuestMemory) -> Option<[u8; HEADER_LEN]> {
    let mut header = [0u8; HEADER_LEN];
    let mut got = 0;
    for segment in chain.readable() {
        let take = (segment.len as usize).min(HEADER_LEN - got);
        mem.read_slice(&mut header[got..got + take], segment.addr)
            .ok()?;
        got += take;
        if got == HEADER_LEN {
            return Some(header);
        }
    }
    None
}

/// The device-readable bytes after the header.
fn device_readable_data(chain: &Chain) -> Vec<Span> {
    let mut skip = HEADER_LEN as u64;
    let mut spans = Vec::new();
    for segment in chain.readable() {
        let len = u64::from(segment.len);
        let skipped = skip.min(len);
        skip -= skipped;
        if len > skipped {
            spans.push((
                GuestAddress(segment.addr.0 + skipped),
                (len - skipped) as usize,
            ));
        }
    }
    spans
}

/// The device-writable bytes before the status byte.
fn device_writable_data(chain: &Chain) -> Vec<Span> {
    let writable: Vec<&Segment> = chain.writable().collect();
    let count = writable.len();
    writable
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let len = (s.len as usize).saturating_sub(usize::from(i + 1 == count));
            (s.addr, len)
        })
        .filter(|&(_, len)| len > 0)
        .collect()
}

fn spans_in_memory(spans: &[Span], mem: &GuestMemory) -> bool {
    spans
        .iter()
        .all(|&(addr, len)| vm_memory::GuestMemoryBackend::check_range(mem, addr, len))
}
