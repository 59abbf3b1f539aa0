//! `deflate` (raw RFC 1951 streams, as Linux's deflate and QAT produce) on
//! miniz_oxide.

use miniz_oxide::inflate::{self, TINFLStatus};

use super::PRIORITY;
use crate::api::{AlgInfo, Compression};
use crate::error::CryptoError;

/// Compression level (zlib's default).
const LEVEL: u8 = 6;

/// Inflates the raw deflate stream `src` into `dst`; returns its length.
pub fn inflate(src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError> {
    match inflate::decompress_to_vec_with_limit(src, dst.len()) {
        Ok(out) => {
            dst[..out.len()].copy_from_slice(&out);
            Ok(out.len())
        }
        Err(e) if e.status == TINFLStatus::HasMoreOutput => Err(CryptoError::Overflow),
        Err(_) => Err(CryptoError::Corrupt),
    }
}

/// `deflate` in software.
#[derive(Debug, Clone, Copy)]
pub struct DeflateSoft;

impl Compression for DeflateSoft {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "deflate",
            driver: "deflate-soft",
            priority: PRIORITY,
        }
    }

    fn compress(&self, src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError> {
        let out = miniz_oxide::deflate::compress_to_vec(src, LEVEL);
        let room = dst.get_mut(..out.len()).ok_or(CryptoError::Overflow)?;
        room.copy_from_slice(&out);
        Ok(out.len())
    }

    fn decompress(&self, src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError> {
        inflate(src, dst)
    }
}
