//! Deterministic pseudo-random sector contents: SplitMix64 started from
//! the seed and the sector number. The kernel's block self-test writes
//! them; the host regenerates them to check the disk image afterwards.
//! Also pages of different compressibility for the compression tests,
//! cheap to make in the guest (few instructions per byte).

/// SplitMix64's increment (the golden ratio in 64 bits).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// Fills `buf` with the contents of `sector` for `seed`: little-endian
/// 64-bit SplitMix64 outputs, the state starting at
/// `seed ^ (sector * GAMMA)` (a tail shorter than 8 bytes takes the
/// first bytes of the next output).
pub fn fill(seed: u64, sector: u64, buf: &mut [u8]) {
    let mut state = seed ^ sector.wrapping_mul(GAMMA);
    for chunk in buf.chunks_mut(8) {
        state = state.wrapping_add(GAMMA);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}

/// Kinds of page contents, from most to least compressible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// All zeros.
    Zeros,
    /// A line of English text, numbered by the page index, repeated.
    Text,
    /// Little-endian 32-bit integers counting up from the page index
    /// times 1000 (an array of indices).
    Counters,
    /// [`fill`]'s pseudo-random bytes (seed 0, sector = page index):
    /// incompressible.
    Random,
}

impl PageKind {
    /// Every kind, in order.
    pub const ALL: [PageKind; 4] = [Self::Zeros, Self::Text, Self::Counters, Self::Random];
}

/// Fills `buf` with page `index`'s contents of `kind`.
pub fn fill_page(kind: PageKind, index: u64, buf: &mut [u8]) {
    match kind {
        PageKind::Zeros => buf.fill(0),
        PageKind::Text => {
            let mut line = [b' '; 64];
            let text = b"the quick brown fox jumps over the lazy dog, page ";
            line[..text.len()].copy_from_slice(text);
            let mut digits = index;
            for at in (text.len()..63).rev() {
                line[at] = b'0' + (digits % 10) as u8;
                digits /= 10;
            }
            line[63] = b'\n';
            for chunk in buf.chunks_mut(line.len()) {
                chunk.copy_from_slice(&line[..chunk.len()]);
            }
        }
        PageKind::Counters => {
            let start = index.wrapping_mul(1000) as u32;
            for (i, chunk) in buf.chunks_mut(4).enumerate() {
                let value = start.wrapping_add(i as u32).to_le_bytes();
                chunk.copy_from_slice(&value[..chunk.len()]);
            }
        }
        PageKind::Random => fill(0, index, buf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_pattern_is_pinned_and_differs_by_seed_and_sector() {
        let mut a = [0u8; 16];
        fill(0, 0, &mut a);
        // SplitMix64 from state 0: its published first two outputs.
        assert_eq!(
            u64::from_le_bytes(a[..8].try_into().unwrap()),
            0xe220_a839_7b1d_cdaf
        );
        assert_eq!(
            u64::from_le_bytes(a[8..].try_into().unwrap()),
            0x6e78_9e6a_a1b9_65f4
        );
        let mut b = [0u8; 16];
        fill(1, 0, &mut b);
        assert_ne!(a, b);
        fill(0, 1, &mut b);
        assert_ne!(a, b);
        let mut short = [0u8; 5];
        fill(0, 0, &mut short);
        assert_eq!(short, a[..5]);
    }

    #[test]
    fn test_fill_page_kinds_differ_and_number_the_page() {
        let mut text = [0u8; 128];
        fill_page(PageKind::Text, 42, &mut text);
        assert!(text.starts_with(b"the quick brown fox"));
        assert_eq!(&text[61..64], b"42\n");
        assert_eq!(text[..64], text[64..]);
        let mut counters = [0u8; 8];
        fill_page(PageKind::Counters, 2, &mut counters);
        assert_eq!(counters, [0xd0, 0x07, 0, 0, 0xd1, 0x07, 0, 0]);
        let mut random = [0u8; 16];
        fill_page(PageKind::Random, 0, &mut random);
        let mut sector = [0u8; 16];
        fill(0, 0, &mut sector);
        assert_eq!(random, sector);
    }
}
