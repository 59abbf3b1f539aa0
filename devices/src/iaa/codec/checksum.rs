//! The checksums a (de)compress completion record reports over the
//! uncompressed data: CRC-32 (zlib's, continuing from a seed), CRC-32C
//! when the descriptor asks for RFC 3720's, and a 16-bit XOR checksum.

/// CRC-32 (reflected 0x04C11DB7, as zlib's `crc32(seed, data)`).
pub fn crc32(seed: u32, data: &[u8]) -> u32 {
    zlib_rs::crc32::crc32(seed, data)
}

/// The reflected CRC-32C (Castagnoli) polynomial.
const CASTAGNOLI: u32 = 0x82f6_3b78;

fn crc32c_table() -> &'static [u32; 256] {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            (0..8).fold(i as u32, |c, _| {
                if c & 1 != 0 {
                    (c >> 1) ^ CASTAGNOLI
                } else {
                    c >> 1
                }
            })
        })
    })
}

/// CRC-32C (RFC 3720), continuing from `seed` like [`crc32`].
pub fn crc32c(seed: u32, data: &[u8]) -> u32 {
    let table = crc32c_table();
    !data.iter().fold(!seed, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// XOR of the data's little-endian 16-bit words (an odd last byte is the
/// low byte of a final word), starting from `seed`.
pub fn xor16(seed: u16, data: &[u8]) -> u16 {
    let mut words = data.chunks_exact(2);
    let mut x = words
        .by_ref()
        .fold(seed, |x, w| x ^ u16::from_le_bytes([w[0], w[1]]));
    if let [last] = words.remainder() {
        x ^= u16::from(*last);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_check_values_match_the_standard_ones() {
        assert_eq!(crc32(0, b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32c(0, b"123456789"), 0xe306_9283);
        assert_eq!(crc32(crc32(0, b"1234"), b"56789"), 0xcbf4_3926);
        assert_eq!(crc32c(crc32c(0, b"1234"), b"56789"), 0xe306_9283);
    }

    #[test]
    fn test_xor16_folds_words_and_odd_byte() {
        assert_eq!(xor16(0, &[0x01, 0x02, 0x10, 0x20]), 0x2211);
        assert_eq!(xor16(0, &[0x01, 0x02, 0x03]), 0x0202);
        assert_eq!(xor16(0xffff, &[]), 0xffff);
    }
}
