//! The compress engine encodes with whatever the AECS holds, not only
//! Linux's fixed tables: a driver that writes a dynamic-Huffman block header
//! into the accumulator and the matching codes into the tables gets a
//! valid dynamic block, and a non-final header with a final stored block
//! appended makes a valid two-block stream.

use super::super::descriptor::status as st;
use super::*;

/// Canonical Huffman codes (RFC 1951 3.2.2) for `lengths`, MSB-first.
fn canonical(lengths: &[u32]) -> Vec<u32> {
    let mut count = [0u32; 16];
    for &l in lengths {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; 16];
    let mut code = 0;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    lengths
        .iter()
        .map(|&l| {
            let c = next[l as usize];
            next[l as usize] += 1;
            c
        })
        .collect()
}

/// An LSB-first bit accumulator for the block header.
struct Bits {
    bytes: Vec<u8>,
    n: usize,
}

impl Bits {
    fn put(&mut self, value: u32, len: u32) {
        for i in 0..len {
            if self.n.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = (value >> i) & 1;
            *self.bytes.last_mut().unwrap() |= (bit as u8) << (self.n % 8);
            self.n += 1;
        }
    }

    /// A Huffman code, most-significant bit first.
    fn put_code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.put((code >> i) & 1, 1);
        }
    }
}

/// An AECS whose accumulator holds a final dynamic block header and whose
/// tables hold that header's codes: literals 0-225 get 8 bits, 226-285 get
/// 9; distances 0-1 get 4 bits, 2-29 get 5.
fn dynamic_aecs() -> Vec<u8> {
    let ll: Vec<u32> = (0..286).map(|s| if s < 226 { 8 } else { 9 }).collect();
    let d: Vec<u32> = (0..30).map(|s| if s < 2 { 4 } else { 5 }).collect();
    let mut h = Bits {
        bytes: Vec::new(),
        n: 0,
    };
    h.put(1, 1); // BFINAL
    h.put(2, 2); // dynamic
    h.put(286 - 257, 5);
    h.put(30 - 1, 5);
    // Code-length code: symbols 4, 5, 8 and 9, two bits each.
    const ORDER: [u32; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    h.put(12 - 4, 4);
    for symbol in &ORDER[..12] {
        h.put(if [4, 5, 8, 9].contains(symbol) { 2 } else { 0 }, 3);
    }
    for len in ll.iter().chain(&d) {
        let code = match len {
            4 => 0,
            5 => 1,
            8 => 2,
            _ => 3,
        };
        h.put_code(code, 2);
    }
    let mut aecs = vec![0u8; AECS_SIZE];
    aecs[0x1c..0x20].copy_from_slice(&(h.n as u32).to_le_bytes());
    aecs[0x20..0x20 + h.bytes.len()].copy_from_slice(&h.bytes);
    for (i, (code, len)) in canonical(&ll).iter().zip(&ll).enumerate() {
        let at = 0x120 + 4 * i;
        aecs[at..at + 4].copy_from_slice(&(code | (len << 15)).to_le_bytes());
    }
    for (i, (code, len)) in canonical(&d).iter().zip(&d).enumerate() {
        let at = 0x5a0 + 4 * i;
        aecs[at..at + 4].copy_from_slice(&(code | (len << 15)).to_le_bytes());
    }
    aecs
}

#[test]
fn test_dynamic_header_and_tables_from_the_aecs_make_a_valid_block() {
    let mut d = Driver::ready();
    d.put(AECS_ADDR, &dynamic_aecs());
    let mut rng = Rng(0xd1);
    for kind in [0, 1, 3, 4] {
        let original = page(&mut rng, kind, 4096);
        let record = d.compress(&original, 8192);
        assert_eq!(status(&record), st::SUCCESS);
        let stream = d.get(DST_ADDR, output_size(&record) as usize);
        assert_eq!(stream[0] & 0b111, 0b101, "BFINAL=1, BTYPE=10");
        let back = miniz_oxide::inflate::decompress_to_vec(&stream).unwrap();
        assert_eq!(back, original, "kind {kind}");
        // And the model decompresses its own dynamic block.
        let again = d.decompress(&stream, 4096);
        assert_eq!(status(&again), st::SUCCESS);
        assert_eq!(d.get(DST_ADDR, 4096), original);
    }
}

#[test]
fn test_non_final_fixed_header_with_final_stored_block_is_two_blocks() {
    let mut d = Driver::ready();
    let mut aecs = linux_fixed_aecs();
    aecs[0x20] = 0b010; // BFINAL=0, BTYPE=01
    d.put(AECS_ADDR, &aecs);
    let original = page(&mut Rng(4), 0, 4096);
    d.put(SRC_ADDR, &original);
    let mut desc = compress_desc(4096, 4096);
    desc.op_flags = 0x2 | (3 << 2); // flush, EOB + final stored block
    let record = d.run(&desc);
    assert_eq!(status(&record), st::SUCCESS);
    let stream = d.get(DST_ADDR, output_size(&record) as usize);
    let back = miniz_oxide::inflate::decompress_to_vec(&stream).unwrap();
    assert_eq!(back, original);
}

#[test]
fn test_aecs_without_a_needed_code_is_an_analytics_error() {
    let mut d = Driver::ready();
    let mut aecs = linux_fixed_aecs();
    aecs[0x120 + 4 * usize::from(b'e')..][..4].fill(0); // no code for 'e'
    d.put(AECS_ADDR, &aecs);
    let record = d.compress(b"hello", 4096);
    assert_eq!(
        (status(&record), error_code(&record)),
        (st::ANALYTICS_ERROR, 30)
    );
}
