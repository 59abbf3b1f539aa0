//! DMA memory the requests point at: a bump cursor over one region (a
//! request's content descriptor, buffer lists and data are laid out in
//! the region its ring slot owns), and the SGL buffer lists
//! (`qat_bl.h`: a 16-byte header, then 16 bytes per segment).

use alloc::vec::Vec;

use super::error::QatError;
use crate::hal::Hal;

/// Most segments one buffer list may have.
pub const MAX_SEGMENTS: usize = 16;
/// Bytes of a buffer list header.
const BUFL_HEADER: usize = 16;
/// Bytes of a buffer list entry.
const BUFL_ENTRY: usize = 16;

/// A physically contiguous piece of DMA memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaRegion {
    /// Physical address.
    pub addr: u64,
    /// Length in bytes.
    pub len: usize,
}

/// Hands out consecutive, aligned pieces of a [`DmaRegion`].
#[derive(Debug, Clone, Copy)]
pub struct DmaCursor {
    region: DmaRegion,
    used: usize,
}

impl DmaCursor {
    /// A cursor at the start of `region`.
    pub fn new(region: DmaRegion) -> Self {
        Self { region, used: 0 }
    }

    /// The next `len` bytes aligned to `align` (a power of two).
    pub fn take(&mut self, len: usize, align: usize) -> Result<u64, QatError> {
        let start = (self.region.addr as usize + self.used).next_multiple_of(align)
            - self.region.addr as usize;
        let end = start.checked_add(len).filter(|&end| end <= self.region.len);
        let Some(end) = end else {
            return Err(QatError::TooLarge {
                needed: start.saturating_add(len),
                available: self.region.len,
            });
        };
        self.used = end;
        Ok(self.region.addr + start as u64)
    }

    /// Takes room for `data` (64-byte aligned) and copies it there.
    pub fn put<H: Hal>(&mut self, hal: &H, data: &[u8]) -> Result<u64, QatError> {
        let addr = self.take(data.len().max(1), 64)?;
        hal.dma_write(addr, data);
        Ok(addr)
    }
}

/// One segment of a buffer list: DMA address and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Physical address of the data.
    pub addr: u64,
    /// Bytes.
    pub len: u32,
}

/// The bytes of a buffer list over `segments`.
pub fn buffer_list(segments: &[Segment]) -> Result<Vec<u8>, QatError> {
    if segments.is_empty() || segments.len() > MAX_SEGMENTS {
        return Err(QatError::BadSegments(segments.len()));
    }
    let mut bytes = alloc::vec![0u8; BUFL_HEADER + BUFL_ENTRY * segments.len()];
    let count = segments.len() as u32;
    bytes[8..12].copy_from_slice(&count.to_le_bytes());
    bytes[12..16].copy_from_slice(&count.to_le_bytes());
    for (entry, seg) in bytes[BUFL_HEADER..]
        .chunks_exact_mut(BUFL_ENTRY)
        .zip(segments)
    {
        entry[0..4].copy_from_slice(&seg.len.to_le_bytes());
        entry[8..16].copy_from_slice(&seg.addr.to_le_bytes());
    }
    Ok(bytes)
}

/// Writes a buffer list over `segments` at the cursor; returns its address.
pub fn put_buffer_list<H: Hal>(
    hal: &H,
    cursor: &mut DmaCursor,
    segments: &[Segment],
) -> Result<u64, QatError> {
    cursor.put(hal, &buffer_list(segments)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cursor_aligns_and_stops_at_the_end() {
        let mut cursor = DmaCursor::new(DmaRegion {
            addr: 0x1000,
            len: 256,
        });
        assert_eq!(cursor.take(10, 8), Ok(0x1000));
        assert_eq!(cursor.take(64, 64), Ok(0x1040));
        assert_eq!(cursor.take(8, 8), Ok(0x1080));
        assert_eq!(
            cursor.take(200, 64),
            Err(QatError::TooLarge {
                needed: 392,
                available: 256
            })
        );
        assert_eq!(cursor.take(64, 64), Ok(0x10c0));
    }

    #[test]
    fn test_buffer_list_has_header_and_entries() {
        let list = buffer_list(&[
            Segment {
                addr: 0xaa00,
                len: 5,
            },
            Segment {
                addr: 0xbb00,
                len: 7,
            },
        ])
        .unwrap();
        assert_eq!(list.len(), 48);
        assert_eq!(&list[8..16], &[2, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(&list[16..20], &[5, 0, 0, 0]);
        assert_eq!(&list[24..32], &0xaa00u64.to_le_bytes());
        assert_eq!(&list[32..36], &[7, 0, 0, 0]);
        assert_eq!(&list[40..48], &0xbb00u64.to_le_bytes());
        assert_eq!(buffer_list(&[]), Err(QatError::BadSegments(0)));
    }
}
