//! The decompress engine: any raw deflate stream (stored, fixed and
//! dynamic blocks) up to its final block. libdeflate decodes (the fastest
//! of the crates measured); when it fails, zlib-rs decodes the stream
//! again to learn why: an output overflow, or a malformed stream whose
//! zlib message becomes IAA's analytics error code.

use libdeflater::{DecompressionError, Decompressor};
use zlib_rs::{Inflate, InflateFlush, Status};

use crate::iaa::descriptor::error_code;

/// Why decompression failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// The output would exceed the destination.
    Overflow,
    /// The stream is malformed; the IAA analytics error code.
    Corrupt(u8),
}

/// Decompressor state kept between descriptors.
pub struct Inflater {
    fast: Decompressor,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater").finish_non_exhaustive()
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Self {
            fast: Decompressor::new(),
        }
    }
}

impl Inflater {
    /// Decodes `input` into `out` (whose length is the limit); returns the
    /// bytes produced.
    pub fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize, InflateError> {
        // libdeflate reads past the end of the input as zero bits, so a
        // truncated stream may look like one that overflows: let zlib-rs
        // judge every failure.
        match self.fast.deflate_decompress(input, out) {
            Ok(n) => Ok(n),
            Err(DecompressionError::InsufficientSpace | DecompressionError::BadData) => {
                slow_path(input, out)
            }
        }
    }
}

/// Decodes a stream libdeflate refused again with zlib-rs, which says why
/// (and whose verdict stands should the two ever disagree).
fn slow_path(input: &[u8], out: &mut [u8]) -> Result<usize, InflateError> {
    let mut z = Inflate::new(false, 15);
    let verdict = |z: &Inflate, result| match result {
        Ok(Status::StreamEnd) => Ok(z.total_out() as usize),
        Ok(_) => Err(InflateError::Corrupt(error_code::BAD_EOF)),
        Err(_) => Err(InflateError::Corrupt(code_for(z.error_message()))),
    };
    let first = z.decompress(input, out, InflateFlush::Finish);
    if !matches!(first, Ok(Status::Ok | Status::BufError)) || (z.total_out() as usize) < out.len() {
        return verdict(&z, first);
    }
    // The output is full: one more byte tells an overflow from a stream
    // that simply stops short.
    let rest = input.get(z.total_in() as usize..).unwrap_or_default();
    let mut probe = [0u8; 1];
    let before = z.total_out();
    let second = z.decompress(rest, &mut probe, InflateFlush::Finish);
    if z.total_out() > before {
        return Err(InflateError::Overflow);
    }
    verdict(&z, second).map(|_| out.len())
}

/// zlib's message for a bad stream, as an IAA analytics error code.
fn code_for(message: Option<&str>) -> u8 {
    let m = message.unwrap_or("");
    if m.starts_with("invalid block type") {
        error_code::INVALID_BLOCK_TYPE
    } else if m.starts_with("invalid stored block lengths") {
        error_code::BAD_STORED_LEN
    } else if m.starts_with("too many length or distance symbols") {
        error_code::TOO_MANY_CODES
    } else if m.starts_with("invalid code lengths set") {
        error_code::BAD_CL_CODE_LEN
    } else if m.starts_with("invalid bit length repeat") {
        error_code::BAD_CL_CODE
    } else if m.starts_with("invalid literal/lengths set")
        || m.starts_with("invalid code -- missing end-of-block")
    {
        error_code::BAD_LL_CODE_LEN
    } else if m.starts_with("invalid distances set") {
        error_code::BAD_D_CODE_LEN
    } else if m.starts_with("invalid literal/length code") {
        error_code::BAD_LL_CODE
    } else if m.contains("too far back") {
        error_code::REF_BEFORE_START
    } else if m.starts_with("invalid distance code") {
        error_code::BAD_D_CODE
    } else {
        error_code::BAD_EOF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(input: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
        let mut out = vec![0u8; limit];
        let n = Inflater::default().inflate(input, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    #[test]
    fn test_stored_fixed_and_dynamic_blocks_decode() {
        // A final stored block holding "hi".
        assert_eq!(
            inflate(&[0x01, 0x02, 0x00, 0xfd, 0xff, b'h', b'i'], 16),
            Ok(b"hi".to_vec())
        );
        // zlib's raw fixed-block encoding of "a".
        assert_eq!(inflate(&[0x4b, 0x04, 0x00], 16), Ok(b"a".to_vec()));
    }

    #[test]
    fn test_malformed_streams_get_their_error_codes() {
        assert_eq!(
            inflate(&[0x07], 16),
            Err(InflateError::Corrupt(error_code::INVALID_BLOCK_TYPE))
        );
        assert_eq!(
            inflate(&[0x01, 0x02, 0x00, 0x00, 0x00, b'h', b'i'], 16),
            Err(InflateError::Corrupt(error_code::BAD_STORED_LEN))
        );
        // A fixed block whose first token is a match at distance 1.
        assert_eq!(
            inflate(&[0x03, 0x02, 0x00], 16),
            Err(InflateError::Corrupt(error_code::REF_BEFORE_START))
        );
        // Truncated: the stored block promises two bytes, holds one.
        assert_eq!(
            inflate(&[0x01, 0x02, 0x00, 0xfd, 0xff, b'h'], 16),
            Err(InflateError::Corrupt(error_code::BAD_EOF))
        );
        assert_eq!(
            inflate(&[], 16),
            Err(InflateError::Corrupt(error_code::BAD_EOF))
        );
    }

    #[test]
    fn test_output_past_the_limit_is_an_overflow() {
        assert_eq!(
            inflate(&[0x01, 0x02, 0x00, 0xfd, 0xff, b'h', b'i'], 1),
            Err(InflateError::Overflow)
        );
    }
}
