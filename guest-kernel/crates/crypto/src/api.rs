//! The algorithm types, as in Linux's crypto API: an implementation of an
//! algorithm makes a keyed transform (tfm) with `set_key`; requests run on
//! the tfm. Implementations say who they are in [`AlgInfo`].

use alloc::boxed::Box;

use crate::data::Data;
use crate::error::CryptoError;

/// Who an implementation is: the algorithm it implements, its own name,
/// and its priority (the highest one that passed its self-test is used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlgInfo {
    /// The algorithm (`cbc(aes)`, `hmac(sha256)`, `deflate`, ...).
    pub name: &'static str,
    /// The implementation (`cbc-aes-soft`, `qat_aes_cbc`, ...).
    pub driver: &'static str,
    /// Higher wins.
    pub priority: u32,
}

/// Which way a cipher runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Plaintext to ciphertext.
    Encrypt,
    /// Ciphertext to plaintext.
    Decrypt,
}

/// A symmetric cipher (Linux's skcipher).
pub trait Skcipher: Send + Sync {
    /// Who this is.
    fn info(&self) -> AlgInfo;
    /// A transform keyed with `key`.
    fn set_key(&self, key: &[u8]) -> Result<Box<dyn SkcipherTfm>, CryptoError>;
}

/// A keyed symmetric cipher.
pub trait SkcipherTfm: Send {
    /// Runs the cipher over every input byte into the output, with the
    /// 16-byte `iv` (CBC IV or CTR counter block).
    fn crypt(&mut self, dir: Direction, iv: &[u8], data: Data<'_, '_>) -> Result<(), CryptoError>;
}

/// Authenticated encryption with associated data (Linux's aead).
pub trait Aead: Send + Sync {
    /// Who this is.
    fn info(&self) -> AlgInfo;
    /// IV bytes (12 for GCM, 16 for authenc with CBC).
    fn iv_size(&self) -> usize;
    /// A transform keyed with `key` producing `tag`-byte tags.
    fn set_key(&self, key: &[u8], tag: usize) -> Result<Box<dyn AeadTfm>, CryptoError>;
}

/// A keyed AEAD. The data are laid out as in Linux: encryption reads
/// `assoc ‖ plaintext` (`assoclen + cryptlen` bytes) and writes `assoc ‖
/// ciphertext ‖ tag`; decryption reads `assoc ‖ ciphertext ‖ tag`
/// (`cryptlen` counting the tag) and writes `assoc ‖ plaintext`.
pub trait AeadTfm: Send {
    /// Encrypts and authenticates.
    fn encrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        data: Data<'_, '_>,
    ) -> Result<(), CryptoError>;
    /// Verifies and decrypts; [`CryptoError::BadMessage`] if the tag is wrong.
    fn decrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        data: Data<'_, '_>,
    ) -> Result<(), CryptoError>;
}

/// A message digest, keyed (HMAC) or not (Linux's shash/ahash).
pub trait Hash: Send + Sync {
    /// Who this is.
    fn info(&self) -> AlgInfo;
    /// Digest bytes.
    fn digest_size(&self) -> usize;
    /// Whether it takes a key (HMAC).
    fn keyed(&self) -> bool;
    /// A transform keyed with `key` (empty for unkeyed hashes).
    fn set_key(&self, key: &[u8]) -> Result<Box<dyn HashTfm>, CryptoError>;
}

/// A keyed (or unkeyed) digest.
pub trait HashTfm: Send {
    /// The digest of the concatenated `data` segments, into `out`
    /// (`digest_size` bytes).
    fn digest(&mut self, data: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError>;
}

/// A lossless compressor (Linux's acomp): raw deflate for `deflate`.
pub trait Compression: Send + Sync {
    /// Who this is.
    fn info(&self) -> AlgInfo;
    /// Compresses `src` into `dst`; returns the compressed length.
    fn compress(&self, src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError>;
    /// Decompresses `src` into `dst`; returns the decompressed length.
    fn decompress(&self, src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError>;
}
