//! `gcm(aes)` on `aes-gcm`, and `authenc(hmac(sha*),cbc(aes))` composed of
//! the software HMAC and CBC (encrypt, then MAC over AAD ‖ ciphertext).

use alloc::boxed::Box;
use alloc::vec::Vec;

use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{AesGcm, Nonce, Tag};

use super::hash::hmac;
use super::skcipher::{aes_key, cbc};
use super::PRIORITY;
use crate::api::{Aead, AeadTfm, AlgInfo, Direction};
use crate::authenc;
use crate::data::Data;
use crate::error::CryptoError;
use crate::precompute::ShaAlg;

/// GCM tag bytes (the only size this API offers).
pub const GCM_TAG: usize = 16;
/// GCM IV bytes.
pub const GCM_IV: usize = 12;

/// Compares without an early exit.
pub(crate) fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `gcm(aes)` in software.
#[derive(Debug, Clone, Copy)]
pub struct GcmSoft;

struct GcmTfm(Vec<u8>);

impl Aead for GcmSoft {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "gcm(aes)",
            driver: "gcm-aes-soft",
            priority: PRIORITY,
        }
    }

    fn iv_size(&self) -> usize {
        GCM_IV
    }

    fn set_key(&self, key: &[u8], tag: usize) -> Result<Box<dyn AeadTfm>, CryptoError> {
        if tag != GCM_TAG {
            return Err(CryptoError::Unsupported("GCM tags other than 16 bytes"));
        }
        Ok(Box::new(GcmTfm(aes_key(key)?)))
    }
}

/// Runs GCM over `text` in place: encrypting returns the tag; decrypting
/// checks `tag`.
fn gcm(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    text: &mut [u8],
    tag: Option<&[u8]>,
) -> Result<Vec<u8>, CryptoError> {
    let nonce = Nonce::<U12>::try_from(iv).map_err(|_| CryptoError::BadIv)?;
    macro_rules! run {
        ($aes:ty) => {{
            let cipher =
                AesGcm::<$aes, U12>::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
            match tag {
                None => cipher
                    .encrypt_inout_detached(&nonce, aad, text.into())
                    .map(|t| t.to_vec())
                    .map_err(|_| CryptoError::BadLength),
                Some(tag) => {
                    let tag = Tag::try_from(tag).map_err(|_| CryptoError::BadLength)?;
                    cipher
                        .decrypt_inout_detached(&nonce, aad, text.into(), &tag)
                        .map(|()| Vec::new())
                        .map_err(|_| CryptoError::BadMessage)
                }
            }
        }};
    }
    match key.len() {
        16 => run!(Aes128),
        24 => run!(Aes192),
        32 => run!(Aes256),
        _ => Err(CryptoError::BadKey),
    }
}

impl AeadTfm for GcmTfm {
    fn encrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let mut buf = data.gather(assoclen + cryptlen)?;
        let (aad, text) = buf.split_at_mut(assoclen);
        let tag = gcm(&self.0, iv, aad, text, None)?;
        buf.extend_from_slice(&tag);
        data.scatter(&buf)
    }

    fn decrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let text_len = cryptlen
            .checked_sub(GCM_TAG)
            .ok_or(CryptoError::BadLength)?;
        let mut buf = data.gather(assoclen + cryptlen)?;
        let (head, tag) = buf.split_at_mut(assoclen + text_len);
        let (aad, text) = head.split_at_mut(assoclen);
        gcm(&self.0, iv, aad, text, Some(tag))?;
        buf.truncate(assoclen + text_len);
        data.scatter(&buf)
    }
}

/// The algorithm and driver names of authenc with `alg`.
pub(crate) fn authenc_names(alg: ShaAlg) -> [&'static str; 2] {
    match alg {
        ShaAlg::Sha1 => [
            "authenc(hmac(sha1),cbc(aes))",
            "authenc-hmac-sha1-cbc-aes-soft",
        ],
        ShaAlg::Sha256 => [
            "authenc(hmac(sha256),cbc(aes))",
            "authenc-hmac-sha256-cbc-aes-soft",
        ],
        ShaAlg::Sha512 => [
            "authenc(hmac(sha512),cbc(aes))",
            "authenc-hmac-sha512-cbc-aes-soft",
        ],
    }
}

/// `authenc(hmac(alg),cbc(aes))` in software.
#[derive(Debug, Clone, Copy)]
pub struct AuthencSoft(pub ShaAlg);

struct AuthencTfm {
    alg: ShaAlg,
    auth: Vec<u8>,
    enc: Vec<u8>,
    tag: usize,
}

impl Aead for AuthencSoft {
    fn info(&self) -> AlgInfo {
        let [name, driver] = authenc_names(self.0);
        AlgInfo {
            name,
            driver,
            priority: PRIORITY,
        }
    }

    fn iv_size(&self) -> usize {
        16
    }

    fn set_key(&self, key: &[u8], tag: usize) -> Result<Box<dyn AeadTfm>, CryptoError> {
        let keys = authenc::split(key)?;
        if tag == 0 || tag > self.0.digest_size() {
            return Err(CryptoError::BadLength);
        }
        Ok(Box::new(AuthencTfm {
            alg: self.0,
            auth: keys.auth.to_vec(),
            enc: aes_key(keys.enc)?,
            tag,
        }))
    }
}

impl AeadTfm for AuthencTfm {
    fn encrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let mut buf = data.gather(assoclen + cryptlen)?;
        cbc(&self.enc, iv, Direction::Encrypt, &mut buf[assoclen..])?;
        let mac = hmac(self.alg, &self.auth, &[&buf]);
        buf.extend_from_slice(&mac[..self.tag]);
        data.scatter(&buf)
    }

    fn decrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let text_len = cryptlen
            .checked_sub(self.tag)
            .ok_or(CryptoError::BadLength)?;
        let mut buf = data.gather(assoclen + cryptlen)?;
        let (head, tag) = buf.split_at(assoclen + text_len);
        let mac = hmac(self.alg, &self.auth, &[head]);
        if !equal(&mac[..self.tag], tag) {
            return Err(CryptoError::BadMessage);
        }
        buf.truncate(assoclen + text_len);
        cbc(&self.enc, iv, Direction::Decrypt, &mut buf[assoclen..])?;
        data.scatter(&buf)
    }
}
