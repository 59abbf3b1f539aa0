//! A register table in BAR 0 (GRPCFG, WQCFG, MSI-X permissions): fixed-size
//! entries of plain storage whose writable bits a per-byte mask names.

/// Entries of `entry_size` bytes; bits outside the mask read as 0.
#[derive(Debug, Clone)]
pub struct Table {
    bytes: Vec<u8>,
    mask: Vec<u8>,
    entry_size: usize,
}

impl Table {
    /// `entries` entries of `entry_mask.len()` bytes each, all zero.
    pub fn new(entries: usize, entry_mask: &[u8]) -> Self {
        Self {
            bytes: vec![0; entries * entry_mask.len()],
            mask: entry_mask.repeat(entries),
            entry_size: entry_mask.len(),
        }
    }

    /// Bytes the table spans.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// Which entry holds byte `offset`.
    pub fn entry_of(&self, offset: u64) -> usize {
        usize::try_from(offset).unwrap_or(usize::MAX) / self.entry_size.max(1)
    }

    /// The byte at `offset` (0 outside the table).
    pub fn byte(&self, offset: u64) -> u8 {
        usize::try_from(offset)
            .ok()
            .and_then(|o| self.bytes.get(o).copied())
            .unwrap_or(0)
    }

    /// Stores the writable bits of `value` at `offset`.
    pub fn set_byte(&mut self, offset: u64, value: u8) {
        let Ok(at) = usize::try_from(offset) else {
            return;
        };
        if let (Some(byte), Some(mask)) = (self.bytes.get_mut(at), self.mask.get(at)) {
            *byte = value & mask;
        }
    }

    /// Entry `index`'s little-endian 32-bit word `word` (0 if absent).
    pub fn dword(&self, index: usize, word: usize) -> u32 {
        let at = (index * self.entry_size + word * 4) as u64;
        u32::from_le_bytes(std::array::from_fn(|i| self.byte(at + i as u64)))
    }

    /// Entry `index`'s little-endian 64-bit word `word` (0 if absent).
    pub fn qword(&self, index: usize, word: usize) -> u64 {
        u64::from(self.dword(index, 2 * word)) | (u64::from(self.dword(index, 2 * word + 1)) << 32)
    }

    /// Zeroes entry `index`.
    pub fn clear_entry(&mut self, index: usize) {
        let start = index * self.entry_size;
        if let Some(entry) = self.bytes.get_mut(start..start + self.entry_size) {
            entry.fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_masked_bits_read_zero_and_words_assemble() {
        let mut t = Table::new(2, &[0xff, 0x0f, 0, 0]);
        for (i, v) in [0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22].into_iter().enumerate() {
            t.set_byte(i as u64, v);
        }
        assert_eq!(t.dword(0, 0), 0x0baa);
        assert_eq!(t.dword(1, 0), 0x0211);
        assert_eq!(t.entry_of(5), 1);
        t.clear_entry(0);
        assert_eq!(t.dword(0, 0), 0);
        t.set_byte(1000, 1);
        assert_eq!(t.byte(1000), 0);
    }
}
