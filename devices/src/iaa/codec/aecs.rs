//! The compress AECS (Analytics Engine Configuration and State) the driver
//! passes as source 2: checksum seeds, the bits to emit before any data
//! (for Linux: a final fixed-Huffman block header) and the literal/length
//! and distance Huffman codes to encode with (`struct
//! aecs_comp_table_record` in `drivers/crypto/intel/iaa/iaa_crypto.h`).

/// Bytes of a compress AECS.
pub const AECS_SIZE: usize = 1568;
/// Required AECS alignment.
pub const AECS_ALIGN: u64 = 32;

const CRC_AT: usize = 0x000;
const XOR_AT: usize = 0x004;
const ACCUM_BITS_AT: usize = 0x01c;
const ACCUM_AT: usize = 0x020;
const ACCUM_LEN: usize = 256;
const LL_AT: usize = 0x120;
const D_AT: usize = 0x5a0;
/// Literal/length symbols in the table.
pub const LL_SYMBOLS: usize = 286;
/// Distance symbols in the table.
pub const D_SYMBOLS: usize = 30;

/// One Huffman code ready to emit LSB-first: the code bits reversed (deflate
/// sends Huffman codes most-significant bit first) and its length; length
/// 0 means the table gives the symbol no code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Code {
    /// The code, bit-reversed for an LSB-first writer.
    pub bits: u32,
    /// Its length in bits (0 to 15).
    pub len: u8,
}

impl Code {
    /// Decodes a table entry: bits 14:0 the code (MSB-first), 18:15 its length.
    fn from_entry(entry: u32) -> Self {
        let len = ((entry >> 15) & 0xf) as u8;
        let value = entry & 0x7fff;
        let bits = if len == 0 {
            0
        } else {
            value.reverse_bits() >> (32 - u32::from(len))
        };
        Self { bits, len }
    }
}

/// Why an AECS cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AecsError {
    /// More accumulator bits than the accumulator holds.
    AccumulatorBits(u32),
}

/// A parsed compress AECS.
#[derive(Debug, Clone)]
pub struct Aecs {
    /// CRC seed (the running CRC to continue).
    pub crc_seed: u32,
    /// XOR checksum seed.
    pub xor_seed: u32,
    /// Bits to emit first, LSB-first.
    pub accum: [u8; ACCUM_LEN],
    /// How many accumulator bits are valid.
    pub accum_bits: u32,
    /// Literal/length codes, symbols 0-285.
    pub ll: [Code; LL_SYMBOLS],
    /// Distance codes, symbols 0-29.
    pub d: [Code; D_SYMBOLS],
}

fn u32_at(b: &[u8; AECS_SIZE], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Aecs {
    /// Decodes the 1568 bytes the driver prepared.
    pub fn parse(b: &[u8; AECS_SIZE]) -> Result<Self, AecsError> {
        let accum_bits = u32_at(b, ACCUM_BITS_AT);
        if accum_bits as usize > ACCUM_LEN * 8 {
            return Err(AecsError::AccumulatorBits(accum_bits));
        }
        let mut accum = [0u8; ACCUM_LEN];
        accum.copy_from_slice(&b[ACCUM_AT..ACCUM_AT + ACCUM_LEN]);
        let mut ll = [Code::default(); LL_SYMBOLS];
        for (i, code) in ll.iter_mut().enumerate() {
            *code = Code::from_entry(u32_at(b, LL_AT + 4 * i));
        }
        let mut d = [Code::default(); D_SYMBOLS];
        for (i, code) in d.iter_mut().enumerate() {
            *code = Code::from_entry(u32_at(b, D_AT + 4 * i));
        }
        Ok(Self {
            crc_seed: u32_at(b, CRC_AT),
            xor_seed: u32_at(b, XOR_AT),
            accum,
            accum_bits,
            ll,
            d,
        })
    }

    /// Whether this is exactly what Linux's "fixed" mode passes: an
    /// accumulator holding only a final fixed-Huffman block header and the
    /// RFC 1951 fixed codes (so a stock fixed-block encoder produces the
    /// same bits).
    pub fn is_fixed_final_header(&self) -> bool {
        self.accum_bits == 3
            && self.accum[0] & 0b111 == 0b011
            && self.ll == *fixed_ll()
            && self.d == *fixed_d()
    }
}

/// RFC 1951's fixed literal/length code for `symbol` (0-287) as a table
/// entry: the code MSB-first in bits 14:0, its length in 18:15.
fn fixed_ll_entry(symbol: u32) -> u32 {
    let (value, len) = match symbol {
        0..=143 => (0x30 + symbol, 8),
        144..=255 => (0x190 + symbol - 144, 9),
        256..=279 => (symbol - 256, 7),
        _ => (0xc0 + symbol - 280, 8),
    };
    value | (len << 15)
}

/// A fixed distance code's table entry (5 bits each).
fn fixed_d_entry(symbol: u32) -> u32 {
    symbol | (5 << 15)
}

fn fixed_ll_code(symbol: u32) -> Code {
    Code::from_entry(fixed_ll_entry(symbol))
}

/// The fixed literal/length codes, as an AECS would carry them.
pub fn fixed_ll() -> &'static [Code; LL_SYMBOLS] {
    static TABLE: std::sync::OnceLock<[Code; LL_SYMBOLS]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|s| fixed_ll_code(s as u32)))
}

/// The fixed distance codes (5 bits each).
pub fn fixed_d() -> &'static [Code; D_SYMBOLS] {
    static TABLE: std::sync::OnceLock<[Code; D_SYMBOLS]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|s| Code::from_entry(fixed_d_entry(s as u32))))
}

/// The AECS Linux 6.12's iaa_crypto builds for "fixed" mode (its
/// `fixed_ll_sym`/`fixed_d_sym` tables and a 3-bit final fixed header),
/// for tests, benchmarks and guest drivers that want the same.
pub fn linux_fixed_aecs() -> [u8; AECS_SIZE] {
    let mut b = [0u8; AECS_SIZE];
    b[ACCUM_BITS_AT..ACCUM_BITS_AT + 4].copy_from_slice(&3u32.to_le_bytes());
    b[ACCUM_AT] = 0b011;
    for s in 0..LL_SYMBOLS {
        let at = LL_AT + 4 * s;
        b[at..at + 4].copy_from_slice(&fixed_ll_entry(s as u32).to_le_bytes());
    }
    for s in 0..D_SYMBOLS {
        let at = D_AT + 4 * s;
        b[at..at + 4].copy_from_slice(&fixed_d_entry(s as u32).to_le_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_linux_table_entries_decode_to_rfc_fixed_codes() {
        // Spot values from iaa_crypto_comp_fixed.c.
        assert_eq!(Code::from_entry(0x40030), fixed_ll_code(0));
        assert_eq!(Code::from_entry(0x48190), fixed_ll_code(144));
        assert_eq!(Code::from_entry(0x38000), fixed_ll_code(256));
        assert_eq!(Code::from_entry(0x400c5), fixed_ll_code(285));
        // 0b00110000 reversed over 8 bits is 0b00001100.
        assert_eq!(fixed_ll_code(0), Code { bits: 0x0c, len: 8 });
    }

    #[test]
    fn test_linux_fixed_aecs_is_recognised() {
        let aecs = Aecs::parse(&linux_fixed_aecs()).unwrap();
        assert!(aecs.is_fixed_final_header());
        assert_eq!((aecs.crc_seed, aecs.xor_seed), (0, 0));
        let mut other = linux_fixed_aecs();
        other[ACCUM_AT] = 0b010; // not final
        assert!(!Aecs::parse(&other).unwrap().is_fixed_final_header());
    }

    #[test]
    fn test_oversized_accumulator_is_an_error() {
        let mut b = linux_fixed_aecs();
        b[ACCUM_BITS_AT..ACCUM_BITS_AT + 4].copy_from_slice(&4000u32.to_le_bytes());
        assert_eq!(
            Aecs::parse(&b).unwrap_err(),
            AecsError::AccumulatorBits(4000)
        );
    }
}
