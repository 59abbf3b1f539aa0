//! The page-compression interface a compressed swap cache (zswap) plugs
//! into, whoever does the work: an accelerator like IAA, or software.

use core::fmt;

/// Compresses and decompresses pages.
pub trait Compressor {
    /// Why an operation failed.
    type Error: fmt::Debug + fmt::Display;

    /// The algorithm's name (Linux's crypto driver name, e.g. `deflate-iaa`).
    fn name(&self) -> &'static str;

    /// Compresses `page` into `out`; returns the compressed length. Fails
    /// (and leaves `out` unspecified) if the result does not fit `out`.
    fn compress(&mut self, page: &[u8], out: &mut [u8]) -> Result<usize, Self::Error>;

    /// Decompresses `input` into `out`; returns the decompressed length.
    fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize, Self::Error>;
}
