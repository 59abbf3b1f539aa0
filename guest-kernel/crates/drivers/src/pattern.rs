//! Deterministic pseudo-random sector contents: SplitMix64 started from
//! the seed and the sector number. The kernel's block self-test writes
//! them; the host regenerates them to check the disk image afterwards.

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
}
