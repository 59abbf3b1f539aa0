//! The compress engine: the AECS accumulator bits, then LZ77 tokens coded
//! with the AECS Huffman tables, then the end processing the descriptor
//! asks for. Matches reach back at most 4 KiB, IAA's history window.

use super::aecs::{Aecs, Code};
use super::bits::{BitWriter, Overflow};

/// IAA's history window.
pub const WINDOW: usize = 4096;
/// Deflate's shortest match, as zlib takes it: a 3-byte match within the
/// 4 KiB window always codes shorter than three fixed-code literals.
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
const HASH_BITS: u32 = 14;
const END_OF_BLOCK: usize = 256;

/// What follows the data (compression flags 3:2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndProcessing {
    /// Nothing: the block stays open.
    None,
    /// The end-of-block code.
    Eob,
    /// The end-of-block code, then an empty stored block (final or not).
    EobStored {
        /// Whether the stored block has BFINAL set.
        final_block: bool,
    },
}

/// Why compression failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// The output would exceed the destination.
    Overflow,
    /// The AECS gives a needed symbol no code.
    MissingCode,
}

impl From<Overflow> for EncodeError {
    fn from(_: Overflow) -> Self {
        EncodeError::Overflow
    }
}

/// A finished stream: its byte count and the valid bits in its last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    /// Bytes written.
    pub len: usize,
    /// Valid bits in the last byte.
    pub last_bits: u8,
}

/// Compressor scratch kept between descriptors: a hash table of the last
/// position each 3-byte prefix was seen at. Positions are stored offset by
/// a base that advances every call, so the table never needs clearing.
#[derive(Debug)]
pub struct Encoder {
    head: Vec<u32>,
    base: u32,
}

impl Default for Encoder {
    fn default() -> Self {
        Self {
            head: vec![0; 1 << HASH_BITS],
            base: 1,
        }
    }
}

/// Length symbol (257-285), extra bit count and extra value for a match of
/// `len` (3-258) bytes, per RFC 1951 3.2.5.
fn length_symbol(len: usize) -> (usize, u8, u32) {
    let l = (len - 3) as u32;
    if l < 8 {
        (257 + l as usize, 0, 0)
    } else if l == 255 {
        (285, 0, 0)
    } else {
        let log = 31 - l.leading_zeros();
        let extra = (log - 2) as u8;
        let symbol = 257 + 4 * (log - 1) + ((l >> (log - 2)) & 3);
        (symbol as usize, extra, l & ((1 << extra) - 1))
    }
}

/// Distance code (0-29), extra bit count and extra value for `dist` (1-32768).
fn distance_symbol(dist: usize) -> (usize, u8, u32) {
    let d = (dist - 1) as u32;
    if d < 4 {
        (d as usize, 0, 0)
    } else {
        let log = 31 - d.leading_zeros();
        let extra = (log - 1) as u8;
        let code = 2 * log + ((d >> (log - 1)) & 1);
        (code as usize, extra, d & ((1 << extra) - 1))
    }
}

fn put_code(w: &mut BitWriter<'_>, code: Option<&Code>) -> Result<(), EncodeError> {
    match code {
        Some(c) if c.len > 0 => Ok(w.put(c.bits, c.len)?),
        _ => Err(EncodeError::MissingCode),
    }
}

/// The 3-byte prefix at `at` (the unit matches are found by).
fn load24(data: &[u8], at: usize) -> Option<u32> {
    let bytes = data.get(at..at + 3)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], 0]))
}

/// Bytes from `a` and `b` (a < b) that agree, at most `max`.
fn match_len(data: &[u8], a: usize, b: usize, max: usize) -> usize {
    let (Some(x), Some(y)) = (data.get(a..a + max), data.get(b..b + max)) else {
        return 0;
    };
    let mut n = 0;
    for (cx, cy) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
        let diff = u64::from_le_bytes(cx.try_into().unwrap_or([0; 8]))
            ^ u64::from_le_bytes(cy.try_into().unwrap_or([0; 8]));
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + x[n..]
        .iter()
        .zip(&y[n..])
        .take_while(|(p, q)| p == q)
        .count()
}

fn hash(value: u32) -> usize {
    (value.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
}

impl Encoder {
    /// Compresses `input` into `out` (at most `limit` bytes) with `aecs`'s
    /// accumulator and codes; `literals_only` skips matching.
    pub fn encode(
        &mut self,
        aecs: &Aecs,
        input: &[u8],
        literals_only: bool,
        end: EndProcessing,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<Encoded, EncodeError> {
        let mut w = BitWriter::new(out, limit);
        emit_accumulator(&mut w, aecs)?;
        if literals_only {
            for &byte in input {
                put_code(&mut w, aecs.ll.get(usize::from(byte)))?;
            }
        } else {
            self.emit_tokens(&mut w, aecs, input)?;
        }
        match end {
            EndProcessing::None => {}
            EndProcessing::Eob => put_code(&mut w, aecs.ll.get(END_OF_BLOCK))?,
            EndProcessing::EobStored { final_block } => {
                put_code(&mut w, aecs.ll.get(END_OF_BLOCK))?;
                w.put(u32::from(final_block), 3)?;
                w.align()?;
                w.put(0xffff_0000, 32)?;
            }
        }
        let (len, last_bits) = w.finish()?;
        Ok(Encoded { len, last_bits })
    }

    /// Greedy LZ77 with one hash probe per position (every position is
    /// hashed, inside matches too).
    fn emit_tokens(
        &mut self,
        w: &mut BitWriter<'_>,
        aecs: &Aecs,
        input: &[u8],
    ) -> Result<(), EncodeError> {
        let span = u32::try_from(input.len() + WINDOW).unwrap_or(u32::MAX);
        if self.base.checked_add(span).is_none() {
            self.head.fill(0);
            self.base = 1;
        }
        let base = self.base;
        self.base += span;
        let mut i = 0;
        while let Some(value) = load24(input, i) {
            let slot = hash(value);
            let candidate = self.head[slot];
            self.head[slot] = base + i as u32;
            if candidate >= base {
                let at = (candidate - base) as usize;
                let dist = i - at;
                if dist <= WINDOW && load24(input, at) == Some(value) {
                    let max = MAX_MATCH.min(input.len() - i);
                    let len = MIN_MATCH
                        + match_len(input, at + MIN_MATCH, i + MIN_MATCH, max - MIN_MATCH);
                    emit_match(w, aecs, len, dist)?;
                    for j in i + 1..i + len {
                        if let Some(v) = load24(input, j) {
                            self.head[hash(v)] = base + j as u32;
                        }
                    }
                    i += len;
                    continue;
                }
            }
            put_code(w, aecs.ll.get(usize::from(input[i])))?;
            i += 1;
        }
        for &byte in input.get(i..).unwrap_or_default() {
            put_code(w, aecs.ll.get(usize::from(byte)))?;
        }
        Ok(())
    }
}

fn emit_accumulator(w: &mut BitWriter<'_>, aecs: &Aecs) -> Result<(), EncodeError> {
    let mut left = aecs.accum_bits;
    for &byte in &aecs.accum {
        if left == 0 {
            break;
        }
        let n = left.min(8);
        w.put(u32::from(byte) & ((1 << n) - 1), n as u8)?;
        left -= n;
    }
    Ok(())
}

fn emit_match(
    w: &mut BitWriter<'_>,
    aecs: &Aecs,
    len: usize,
    dist: usize,
) -> Result<(), EncodeError> {
    let (symbol, extra_len, extra) = length_symbol(len);
    put_code(w, aecs.ll.get(symbol))?;
    w.put(extra, extra_len)?;
    let (code, extra_len, extra) = distance_symbol(dist);
    put_code(w, aecs.d.get(code))?;
    w.put(extra, extra_len)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_length_symbols_follow_rfc1951() {
        assert_eq!(length_symbol(3), (257, 0, 0));
        assert_eq!(length_symbol(10), (264, 0, 0));
        assert_eq!(length_symbol(11), (265, 1, 0));
        assert_eq!(length_symbol(12), (265, 1, 1));
        assert_eq!(length_symbol(19), (269, 2, 0));
        assert_eq!(length_symbol(227), (284, 5, 0));
        assert_eq!(length_symbol(257), (284, 5, 30));
        assert_eq!(length_symbol(258), (285, 0, 0));
    }

    #[test]
    fn test_distance_symbols_follow_rfc1951() {
        assert_eq!(distance_symbol(1), (0, 0, 0));
        assert_eq!(distance_symbol(4), (3, 0, 0));
        assert_eq!(distance_symbol(5), (4, 1, 0));
        assert_eq!(distance_symbol(6), (4, 1, 1));
        assert_eq!(distance_symbol(7), (5, 1, 0));
        assert_eq!(distance_symbol(4096), (23, 10, 1023));
        assert_eq!(distance_symbol(32768), (29, 13, 8191));
    }

    #[test]
    fn test_match_len_counts_agreeing_bytes() {
        let data = b"abcdefghijabcdefghiXabcdefghijklmnopqrstuvwxyz";
        assert_eq!(match_len(data, 0, 10, 12), 9);
        assert_eq!(match_len(data, 0, 20, 10), 10);
        assert_eq!(match_len(data, 0, 40, 10), 0, "past the end");
    }
}
