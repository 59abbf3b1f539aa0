//! `sha1`, `sha256`, `sha512` and their `hmac(...)` on the RustCrypto crates.

use alloc::boxed::Box;
use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use sha1::Digest;

use super::PRIORITY;
use crate::api::{AlgInfo, Hash, HashTfm};
use crate::error::CryptoError;
use crate::precompute::ShaAlg;

/// The algorithm and driver names of `alg`, plain and HMAC.
pub(crate) fn names(alg: ShaAlg) -> [&'static str; 4] {
    match alg {
        ShaAlg::Sha1 => ["sha1", "sha1-soft", "hmac(sha1)", "hmac-sha1-soft"],
        ShaAlg::Sha256 => ["sha256", "sha256-soft", "hmac(sha256)", "hmac-sha256-soft"],
        ShaAlg::Sha512 => ["sha512", "sha512-soft", "hmac(sha512)", "hmac-sha512-soft"],
    }
}

/// The digest of the concatenated `data`.
fn digest(alg: ShaAlg, data: &[&[u8]]) -> Vec<u8> {
    macro_rules! run {
        ($h:ty) => {{
            let mut h = <$h>::new();
            data.iter().for_each(|d| h.update(d));
            h.finalize().to_vec()
        }};
    }
    match alg {
        ShaAlg::Sha1 => run!(sha1::Sha1),
        ShaAlg::Sha256 => run!(sha2::Sha256),
        ShaAlg::Sha512 => run!(sha2::Sha512),
    }
}

/// The HMAC of the concatenated `data` with `key`.
pub(super) fn hmac(alg: ShaAlg, key: &[u8], data: &[&[u8]]) -> Vec<u8> {
    macro_rules! run {
        ($h:ty) => {{
            let mut m = <hmac::Hmac<$h>>::new_from_slice(key).expect("HMAC takes any key");
            data.iter().for_each(|d| m.update(d));
            m.finalize().into_bytes().to_vec()
        }};
    }
    match alg {
        ShaAlg::Sha1 => run!(sha1::Sha1),
        ShaAlg::Sha256 => run!(sha2::Sha256),
        ShaAlg::Sha512 => run!(sha2::Sha512),
    }
}

fn put(out: &mut [u8], digest: &[u8]) -> Result<(), CryptoError> {
    if out.len() != digest.len() {
        return Err(CryptoError::BadLength);
    }
    out.copy_from_slice(digest);
    Ok(())
}

/// A SHA digest in software.
#[derive(Debug, Clone, Copy)]
pub struct ShaSoft(pub ShaAlg);

impl Hash for ShaSoft {
    fn info(&self) -> AlgInfo {
        let [name, driver, ..] = names(self.0);
        AlgInfo {
            name,
            driver,
            priority: PRIORITY,
        }
    }

    fn digest_size(&self) -> usize {
        self.0.digest_size()
    }

    fn keyed(&self) -> bool {
        false
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn HashTfm>, CryptoError> {
        if !key.is_empty() {
            return Err(CryptoError::BadKey);
        }
        Ok(Box::new(*self))
    }
}

impl HashTfm for ShaSoft {
    fn digest(&mut self, data: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
        put(out, &digest(self.0, data))
    }
}

/// HMAC with a SHA digest in software.
#[derive(Debug, Clone, Copy)]
pub struct HmacSoft(pub ShaAlg);

struct HmacTfm(ShaAlg, Vec<u8>);

impl Hash for HmacSoft {
    fn info(&self) -> AlgInfo {
        let [_, _, name, driver] = names(self.0);
        AlgInfo {
            name,
            driver,
            priority: PRIORITY,
        }
    }

    fn digest_size(&self) -> usize {
        self.0.digest_size()
    }

    fn keyed(&self) -> bool {
        true
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn HashTfm>, CryptoError> {
        Ok(Box::new(HmacTfm(self.0, key.to_vec())))
    }
}

impl HashTfm for HmacTfm {
    fn digest(&mut self, data: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
        put(out, &hmac(self.0, &self.1, data))
    }
}
