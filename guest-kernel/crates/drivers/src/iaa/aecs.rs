//! The compress AECS (Analytics Engine Configuration and State) of
//! iaa_crypto's "fixed" mode: no CRC seed, the 3 header bits of a final
//! fixed-Huffman block (BFINAL = 1, BTYPE = 01) waiting in the output
//! accumulator, and RFC 1951's fixed literal/length and distance codes.
//! The device then emits one raw deflate block per compress.

/// Bytes of the compress AECS (`struct aecs_comp_table_record`).
pub const AECS_SIZE: usize = 1568;
/// The AECS must start 32-byte aligned.
pub const AECS_ALIGN: u64 = 32;

/// Offset of the count of valid output-accumulator bits.
const NUM_ACCUM_BITS: usize = 0x1c;
/// Offset of the output accumulator (256 bytes, LSB first).
const OUTPUT_ACCUM: usize = 0x20;
/// Offset of the literal/length code table (286 entries of 32 bits).
const LL_TABLE: usize = 0x120;
/// Offset of the distance code table (30 entries of 32 bits).
const D_TABLE: usize = 0x5a0;
/// Literal/length symbols.
const LL_SYMBOLS: u16 = 286;
/// Distance symbols.
const D_SYMBOLS: u16 = 30;
/// BFINAL = 1 and BTYPE = 01 (fixed Huffman), as the stream's first bits.
const FIXED_FINAL_HEADER: u8 = 0b011;
/// Bits of that header.
const FIXED_HEADER_BITS: u32 = 3;

/// A table entry: the code (most significant bit first) in bits 14:0,
/// its length in bits 18:15.
const fn entry(code: u32, len: u32) -> u32 {
    (len << 15) | code
}

/// The fixed code of literal/length `symbol` (RFC 1951, 3.2.6).
pub const fn fixed_ll_entry(symbol: u16) -> u32 {
    let s = symbol as u32;
    match symbol {
        0..=143 => entry(0x30 + s, 8),
        144..=255 => entry(0x190 + s - 144, 9),
        256..=279 => entry(s - 256, 7),
        _ => entry(0xc0 + s - 280, 8),
    }
}

/// The fixed code of distance `symbol`: five bits, the symbol itself.
pub const fn fixed_d_entry(symbol: u16) -> u32 {
    entry(symbol as u32, 5)
}

/// The AECS bytes iaa_crypto's fixed mode hands the device.
pub fn fixed_mode() -> [u8; AECS_SIZE] {
    let mut aecs = [0u8; AECS_SIZE];
    aecs[NUM_ACCUM_BITS..NUM_ACCUM_BITS + 4].copy_from_slice(&FIXED_HEADER_BITS.to_le_bytes());
    aecs[OUTPUT_ACCUM] = FIXED_FINAL_HEADER;
    for symbol in 0..LL_SYMBOLS {
        let at = LL_TABLE + 4 * usize::from(symbol);
        aecs[at..at + 4].copy_from_slice(&fixed_ll_entry(symbol).to_le_bytes());
    }
    for symbol in 0..D_SYMBOLS {
        let at = D_TABLE + 4 * usize::from(symbol);
        aecs[at..at + 4].copy_from_slice(&fixed_d_entry(symbol).to_le_bytes());
    }
    aecs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(aecs: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(aecs[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn test_fixed_entries_match_linux_tables() {
        // Spot values of iaa_crypto_comp_fixed.c's fixed_ll_sym / fixed_d_sym.
        assert_eq!(fixed_ll_entry(0), 0x40030);
        assert_eq!(fixed_ll_entry(143), 0x400bf);
        assert_eq!(fixed_ll_entry(144), 0x48190);
        assert_eq!(fixed_ll_entry(255), 0x481ff);
        assert_eq!(fixed_ll_entry(256), 0x38000);
        assert_eq!(fixed_ll_entry(279), 0x38017);
        assert_eq!(fixed_ll_entry(280), 0x400c0);
        assert_eq!(fixed_ll_entry(285), 0x400c5);
        assert_eq!(fixed_d_entry(0), 0x28000);
        assert_eq!(fixed_d_entry(29), 0x2801d);
    }

    #[test]
    fn test_fixed_mode_layout() {
        let aecs = fixed_mode();
        assert_eq!(u32_at(&aecs, 0), 0, "CRC seed");
        assert_eq!(u32_at(&aecs, NUM_ACCUM_BITS), 3);
        assert_eq!(aecs[OUTPUT_ACCUM], 0x03);
        assert!(aecs[OUTPUT_ACCUM + 1..LL_TABLE].iter().all(|&b| b == 0));
        assert_eq!(u32_at(&aecs, LL_TABLE), 0x40030);
        assert_eq!(u32_at(&aecs, LL_TABLE + 4 * 285), 0x400c5);
        assert_eq!(u32_at(&aecs, 0x598), 0, "reserved after the LL table");
        assert_eq!(u32_at(&aecs, D_TABLE + 4 * 29), 0x2801d);
        assert!(aecs[0x618..].iter().all(|&b| b == 0), "padding");
    }
}
