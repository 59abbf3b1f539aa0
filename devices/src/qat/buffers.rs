//! The data a request points at: a flat buffer, or the driver's buffer
//! list (`qat_bl.h`: a 16-byte header with the entry count at +8, then
//! 16-byte entries {len u32, reserved u32, addr u64}). The logical payload
//! is the concatenation of the entries. Lists are bounded in entries and
//! bytes, and every entry must lie in guest memory.

use thiserror::Error;
use vm_memory::{Bytes, GuestAddress};

use crate::virtio::GuestMemory;

/// Most entries a buffer list may have.
pub const MAX_ENTRIES: u32 = 4096;
/// Most payload bytes a request may describe (source or destination).
pub const MAX_PAYLOAD: u64 = 64 << 20;
/// Bytes of the list header.
const HEADER_BYTES: u64 = 16;
/// Bytes of one list entry.
const ENTRY_BYTES: u64 = 16;

/// Why a request's buffers cannot be used.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum BufferError {
    /// A list, entry or data range lies outside guest memory.
    #[error("buffer at {0:#x} outside guest memory")]
    OutOfMemory(u64),
    /// The list claims more entries than [`MAX_ENTRIES`].
    #[error("buffer list with {0} entries")]
    TooManyEntries(u32),
    /// The payload exceeds [`MAX_PAYLOAD`].
    #[error("payload larger than the device accepts")]
    TooLarge,
    /// An offset/length the request names lies beyond the payload.
    #[error("region {offset}+{len} beyond the {total}-byte payload")]
    Short {
        /// Start of the region.
        offset: u64,
        /// Its length.
        len: u64,
        /// Payload bytes the buffers hold.
        total: u64,
    },
}

/// A validated list of guest memory segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buffers {
    segments: Vec<(u64, u64)>,
    total: u64,
}

impl Buffers {
    /// The buffers at `addr`: a buffer list if `sgl`, else `flat_len` bytes.
    pub fn parse(
        mem: &GuestMemory,
        addr: u64,
        sgl: bool,
        flat_len: u32,
    ) -> Result<Self, BufferError> {
        if !sgl {
            let segments = vec![(addr, u64::from(flat_len))];
            return Self::checked(mem, segments);
        }
        let mut header = [0u8; HEADER_BYTES as usize];
        mem.read_slice(&mut header, GuestAddress(addr))
            .map_err(|_| BufferError::OutOfMemory(addr))?;
        let count = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if count > MAX_ENTRIES {
            return Err(BufferError::TooManyEntries(count));
        }
        let table_len = u64::from(count) * ENTRY_BYTES;
        let table_addr = addr
            .checked_add(HEADER_BYTES)
            .ok_or(BufferError::OutOfMemory(addr))?;
        let mut table = vec![0u8; table_len as usize];
        mem.read_slice(&mut table, GuestAddress(table_addr))
            .map_err(|_| BufferError::OutOfMemory(table_addr))?;
        let segments = table
            .chunks_exact(ENTRY_BYTES as usize)
            .map(|e| {
                let len = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
                let mut a = [0u8; 8];
                a.copy_from_slice(&e[8..16]);
                (u64::from_le_bytes(a), u64::from(len))
            })
            .filter(|&(_, len)| len > 0)
            .collect();
        Self::checked(mem, segments)
    }

    fn checked(mem: &GuestMemory, segments: Vec<(u64, u64)>) -> Result<Self, BufferError> {
        let mut total = 0u64;
        for &(addr, len) in &segments {
            total = total.checked_add(len).ok_or(BufferError::TooLarge)?;
            if total > MAX_PAYLOAD {
                return Err(BufferError::TooLarge);
            }
            if len > 0 && !in_memory(mem, addr, len) {
                return Err(BufferError::OutOfMemory(addr));
            }
        }
        Ok(Self { segments, total })
    }

    /// Payload bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Checks that `offset..offset + len` lies in the payload.
    pub fn check(&self, offset: u64, len: u64) -> Result<(), BufferError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.total => Ok(()),
            _ => Err(BufferError::Short {
                offset,
                len,
                total: self.total,
            }),
        }
    }

    /// Reads `len` payload bytes from `offset`.
    pub fn read(&self, mem: &GuestMemory, offset: u64, len: u64) -> Result<Vec<u8>, BufferError> {
        self.check(offset, len)?;
        let mut out = vec![0u8; len as usize];
        self.copy(offset, &mut out, |addr, chunk| {
            mem.read_slice(chunk, GuestAddress(addr))
                .map_err(|_| BufferError::OutOfMemory(addr))
        })?;
        Ok(out)
    }

    /// Writes `data` into the payload at `offset`.
    pub fn write(&self, mem: &GuestMemory, offset: u64, data: &[u8]) -> Result<(), BufferError> {
        self.check(offset, data.len() as u64)?;
        let mut scratch = data.to_vec();
        self.copy(offset, &mut scratch, |addr, chunk| {
            mem.write_slice(chunk, GuestAddress(addr))
                .map_err(|_| BufferError::OutOfMemory(addr))
        })
    }

    /// Walks the segments covering `offset..offset + buf.len()`, handing
    /// each guest address with its part of `buf` to `op`.
    fn copy(
        &self,
        offset: u64,
        buf: &mut [u8],
        mut op: impl FnMut(u64, &mut [u8]) -> Result<(), BufferError>,
    ) -> Result<(), BufferError> {
        let mut skip = offset;
        let mut rest = buf;
        for &(addr, len) in &self.segments {
            if rest.is_empty() {
                break;
            }
            if skip >= len {
                skip -= len;
                continue;
            }
            let take = (len - skip).min(rest.len() as u64) as usize;
            let (head, tail) = rest.split_at_mut(take);
            op(addr + skip, head)?;
            rest = tail;
            skip = 0;
        }
        Ok(())
    }
}

/// Whether `addr..addr + len` lies in guest memory.
pub fn in_memory(mem: &GuestMemory, addr: u64, len: u64) -> bool {
    use vm_memory::GuestMemory as _;
    let Some(last) = len.checked_sub(1).and_then(|l| addr.checked_add(l)) else {
        return len == 0;
    };
    usize::try_from(last - addr + 1)
        .is_ok_and(|n| mem.check_range(GuestAddress(addr), n, vm_memory::Permissions::ReadWrite))
}

/// Reads `N` bytes at `addr` of guest memory.
pub fn read_array<const N: usize>(mem: &GuestMemory, addr: u64) -> Result<[u8; N], BufferError> {
    let mut out = [0u8; N];
    mem.read_slice(&mut out, GuestAddress(addr))
        .map_err(|_| BufferError::OutOfMemory(addr))?;
    Ok(out)
}

/// Reads `len` bytes at `addr` of guest memory.
pub fn read_vec(mem: &GuestMemory, addr: u64, len: usize) -> Result<Vec<u8>, BufferError> {
    let mut out = vec![0u8; len];
    mem.read_slice(&mut out, GuestAddress(addr))
        .map_err(|_| BufferError::OutOfMemory(addr))?;
    Ok(out)
}

/// Writes `data` at `addr` of guest memory.
pub fn write_at(mem: &GuestMemory, addr: u64, data: &[u8]) -> Result<(), BufferError> {
    mem.write_slice(data, GuestAddress(addr))
        .map_err(|_| BufferError::OutOfMemory(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem() -> GuestMemory {
        GuestMemory::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap()
    }

    fn list(mem: &GuestMemory, at: u64, entries: &[(u32, u64)]) {
        let mut raw = vec![0u8; 16];
        raw[8..12].copy_from_slice(&(entries.len() as u32).to_le_bytes());
        for &(len, addr) in entries {
            raw.extend_from_slice(&len.to_le_bytes());
            raw.extend_from_slice(&[0; 4]);
            raw.extend_from_slice(&addr.to_le_bytes());
        }
        mem.write_slice(&raw, GuestAddress(at)).unwrap();
    }

    #[test]
    fn test_list_concatenates_entries_across_reads_and_writes() {
        let m = mem();
        m.write_slice(b"hello", GuestAddress(0x1000)).unwrap();
        m.write_slice(b" world", GuestAddress(0x3000)).unwrap();
        list(&m, 0x100, &[(5, 0x1000), (0, 0x9999_9999), (6, 0x3000)]);
        let b = Buffers::parse(&m, 0x100, true, 0).unwrap();
        assert_eq!(b.total(), 11);
        assert_eq!(b.read(&m, 3, 5).unwrap(), b"lo wo");
        b.write(&m, 4, b"XY").unwrap();
        assert_eq!(b.read(&m, 0, 11).unwrap(), b"hellXYworld");
        assert!(matches!(b.read(&m, 8, 4), Err(BufferError::Short { .. })));
    }

    #[test]
    fn test_lists_outside_memory_or_oversized_are_refused() {
        let m = mem();
        list(&m, 0x100, &[(16, 0xff_fff8)]);
        assert_eq!(
            Buffers::parse(&m, 0x100, true, 0),
            Err(BufferError::OutOfMemory(0xff_fff8))
        );
        assert!(Buffers::parse(&m, 0xff_fff8, true, 0).is_err());
        m.write_slice(&u32::MAX.to_le_bytes(), GuestAddress(0x108))
            .unwrap();
        assert_eq!(
            Buffers::parse(&m, 0x100, true, 0),
            Err(BufferError::TooManyEntries(u32::MAX))
        );
        assert!(Buffers::parse(&m, u64::MAX - 4, false, 16).is_err());
        assert!(Buffers::parse(&m, 0, false, u32::MAX).is_err());
    }
}
