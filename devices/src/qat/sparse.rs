//! "Configure and forget" registers: 32-bit words that read back what
//! was last written (initially 0), kept sparsely because the BARs are
//! megabytes wide and the driver touches a few hundred words. A guest
//! writing everywhere cannot grow the store past [`MAX_WORDS`]: later
//! writes to new words are dropped (they read 0).

use std::collections::HashMap;

/// Most distinct words a store keeps.
pub const MAX_WORDS: usize = 1 << 16;

/// A sparse, bounded RAM of 32-bit registers addressed by byte offset.
#[derive(Debug, Default, Clone)]
pub struct SparseRegs {
    words: HashMap<u64, u32>,
}

impl SparseRegs {
    /// The word at `offset` (rounded down to 4 bytes).
    pub fn get(&self, offset: u64) -> u32 {
        self.words.get(&(offset & !3)).copied().unwrap_or(0)
    }

    /// Sets the word at `offset` (rounded down to 4 bytes).
    pub fn set(&mut self, offset: u64, value: u32) {
        let key = offset & !3;
        if value == 0 {
            self.words.remove(&key);
        } else if self.words.len() < MAX_WORDS || self.words.contains_key(&key) {
            self.words.insert(key, value);
        }
    }

    /// Forgets everything (a function-level reset).
    pub fn clear(&mut self) {
        self.words.clear();
    }
}

/// Splits an access of any width into the 32-bit words it touches:
/// (word offset, byte lane within the word, index into `len` bytes).
pub fn lanes(offset: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize)> {
    (0..len).filter_map(move |i| {
        let at = offset.checked_add(i as u64)?;
        Some((at & !3, (at & 3) as usize, i))
    })
}

/// Reads `data` from a word-addressed register file through `read_word`.
pub fn read_words(offset: u64, data: &mut [u8], mut read_word: impl FnMut(u64) -> u32) {
    let mut cached: Option<(u64, [u8; 4])> = None;
    for (word, lane, i) in lanes(offset, data.len()) {
        let bytes = match cached {
            Some((w, b)) if w == word => b,
            _ => {
                let b = read_word(word).to_le_bytes();
                cached = Some((word, b));
                b
            }
        };
        if let Some(slot) = data.get_mut(i) {
            *slot = bytes[lane];
        }
    }
}

/// Writes `data` into a word-addressed register file: each touched word
/// is merged with its current value (`current`) and handed to `write_word`
/// once, in ascending order.
pub fn write_words(
    offset: u64,
    data: &[u8],
    mut current: impl FnMut(u64) -> u32,
    mut write_word: impl FnMut(u64, u32),
) {
    let mut pending: Option<(u64, [u8; 4])> = None;
    for (word, lane, i) in lanes(offset, data.len()) {
        if pending.is_some_and(|(w, _)| w != word) {
            if let Some((w, b)) = pending.take() {
                write_word(w, u32::from_le_bytes(b));
            }
        }
        let entry = pending.get_or_insert_with(|| (word, current(word).to_le_bytes()));
        if let Some(&value) = data.get(i) {
            entry.1[lane] = value;
        }
    }
    if let Some((w, b)) = pending {
        write_word(w, u32::from_le_bytes(b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_sparse_regs_read_back_and_stay_bounded() {
        let mut regs = SparseRegs::default();
        regs.set(0x1002, 0xdead_beef);
        assert_eq!(regs.get(0x1000), 0xdead_beef);
        for i in 0..(MAX_WORDS as u64 + 10) {
            regs.set(0x10_0000 + 4 * i, 1);
        }
        assert_eq!(regs.words.len(), MAX_WORDS);
        regs.set(0x1000, 0);
        assert_eq!(regs.get(0x1000), 0);
    }

    #[test]
    fn test_partial_and_wide_accesses_merge_words() {
        let mut regs = SparseRegs::default();
        regs.set(0, 0x4433_2211);
        let mut out = [0u8; 2];
        read_words(1, &mut out, |w| regs.get(w));
        assert_eq!(out, [0x22, 0x33]);
        let mut store = regs.clone();
        write_words(
            2,
            &[0xaa, 0xbb, 0xcc, 0xdd],
            |w| regs.get(w),
            |w, v| store.set(w, v),
        );
        assert_eq!(store.get(0), 0xbbaa_2211);
        assert_eq!(store.get(4), 0x0000_ddcc);
        write_words(u64::MAX - 1, &[1, 2, 3, 4], |_| 0, |_, _| {});
    }
}
