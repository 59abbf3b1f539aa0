//! `gcm(aes)` and `authenc(hmac(sha*),cbc(aes))` on the device. authenc is
//! Linux's `qat_aes_cbc_hmac_sha*`: CIPHER_HASH writing the digest after
//! the ciphertext, HASH_CIPHER comparing the one found there (a mismatch
//! is comn_status bit 7, Linux's -EBADMSG). GCM follows the project's
//! firmware subset: the AAD flat at aad_adr, the tag at auth_res_addr.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use guest_drivers::qat::la::{self, LaParams, Session, GCM_MAX_AAD};
use guest_drivers::qat::response_status;
use guest_drivers::Hal;

use super::skcipher::driver_dir;
use super::PRIORITY;
use super::{device_error, driver_hash, la_status, read_segments, stage, QatEngine, Service};
use crate::api::{Aead, AeadTfm, AlgInfo, Direction};
use crate::authenc;
use crate::data::Data;
use crate::error::CryptoError;
use crate::precompute::{hmac_states, ShaAlg};

/// GCM tag bytes this implementation offers.
const GCM_TAG: usize = 16;

/// `gcm(aes)` on the device.
pub struct QatGcm<H: Hal>(pub Arc<QatEngine<H>>);

struct GcmTfm<H: Hal> {
    engine: Arc<QatEngine<H>>,
    key: Vec<u8>,
}

impl<H: Hal + Send + 'static> Aead for QatGcm<H> {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "gcm(aes)",
            driver: "qat_aes_gcm",
            priority: PRIORITY,
        }
    }

    fn iv_size(&self) -> usize {
        12
    }

    fn set_key(&self, key: &[u8], tag: usize) -> Result<Box<dyn AeadTfm>, CryptoError> {
        if tag != GCM_TAG {
            return Err(CryptoError::Unsupported("GCM tags other than 16 bytes"));
        }
        // The firmware subset (spec §9.7) has AES-128 and AES-256 GCM.
        if !matches!(key.len(), 16 | 32) {
            return Err(CryptoError::Unsupported("GCM with AES-192 on QAT"));
        }
        Ok(Box::new(GcmTfm {
            engine: self.0.clone(),
            key: key.to_vec(),
        }))
    }
}

impl<H: Hal + Send> GcmTfm<H> {
    fn run(
        &self,
        dir: Direction,
        iv: &[u8],
        assoclen: usize,
        text: usize,
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        if iv.len() != 12 {
            return Err(CryptoError::BadIv);
        }
        if assoclen > GCM_MAX_AAD {
            return Err(CryptoError::Unsupported("GCM AAD over 240 bytes"));
        }
        let mut iv16 = [0u8; 16];
        iv16[..12].copy_from_slice(iv);
        let session = Session::gcm(&self.key, GCM_TAG, driver_dir(dir)).map_err(device_error)?;
        let body = assoclen + text;
        let input = data.gather(
            body + if dir == Direction::Decrypt {
                GCM_TAG
            } else {
                0
            },
        )?;
        self.engine.with_slot(Service::Sym, |slot| {
            let cd_addr = slot.put(&session.cd)?;
            let aad_addr = slot.put(&input[..assoclen])?;
            let tag_addr = slot.put(input.get(body..).unwrap_or_default())?;
            let (hal, cursor) = slot.parts();
            let staged = stage(hal, cursor, &data, body, body)?;
            let params = LaParams {
                cd_addr,
                src: staged.src,
                dst: staged.dst,
                cipher_offset: assoclen as u32,
                cipher_len: text as u32,
                iv: iv16,
                auth_offset: assoclen as u32,
                auth_len: text as u32,
                aad_addr,
                aad_len: assoclen as u8,
                auth_res_addr: tag_addr,
            };
            let resp = slot.submit(la::request(&session, &params))?;
            if response_status(&resp) != 0 {
                return Err(la_status(&resp));
            }
            let mut out = read_segments(slot.hal(), &staged.out, body);
            if dir == Direction::Encrypt {
                let mut tag = [0u8; GCM_TAG];
                slot.hal().dma_read(tag_addr, &mut tag);
                out.extend_from_slice(&tag);
            }
            data.scatter(&out)
        })
    }
}

impl<H: Hal + Send> AeadTfm for GcmTfm<H> {
    fn encrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        self.run(Direction::Encrypt, iv, assoclen, cryptlen, data)
    }

    fn decrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let text = cryptlen
            .checked_sub(GCM_TAG)
            .ok_or(CryptoError::BadLength)?;
        self.run(Direction::Decrypt, iv, assoclen, text, data)
    }
}

/// `authenc(hmac(alg),cbc(aes))` on the device.
pub struct QatAuthenc<H: Hal>(pub Arc<QatEngine<H>>, pub ShaAlg);

struct AuthencTfm<H: Hal> {
    engine: Arc<QatEngine<H>>,
    alg: ShaAlg,
    enc: Vec<u8>,
    inner: Vec<u8>,
    outer: Vec<u8>,
    tag: usize,
}

impl<H: Hal + Send + 'static> Aead for QatAuthenc<H> {
    fn info(&self) -> AlgInfo {
        let (name, driver) = match self.1 {
            ShaAlg::Sha1 => ("authenc(hmac(sha1),cbc(aes))", "qat_aes_cbc_hmac_sha1"),
            ShaAlg::Sha256 => ("authenc(hmac(sha256),cbc(aes))", "qat_aes_cbc_hmac_sha256"),
            ShaAlg::Sha512 => ("authenc(hmac(sha512),cbc(aes))", "qat_aes_cbc_hmac_sha512"),
        };
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
        la::aes_code(keys.enc.len()).map_err(|_| CryptoError::BadKey)?;
        if tag == 0 || tag > self.1.digest_size() {
            return Err(CryptoError::BadLength);
        }
        let (inner, outer) = hmac_states(self.1, keys.auth);
        Ok(Box::new(AuthencTfm {
            engine: self.0.clone(),
            alg: self.1,
            enc: keys.enc.to_vec(),
            inner,
            outer,
            tag,
        }))
    }
}

impl<H: Hal + Send> AuthencTfm<H> {
    fn run(
        &self,
        dir: Direction,
        iv: &[u8],
        assoclen: usize,
        text: usize,
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let iv: [u8; 16] = iv.try_into().map_err(|_| CryptoError::BadIv)?;
        if !text.is_multiple_of(16) {
            return Err(CryptoError::BadLength);
        }
        let states = (&self.inner[..], &self.outer[..]);
        let alg = driver_hash(self.alg);
        let session = Session::authenc(&self.enc, alg, states, self.tag, driver_dir(dir))
            .map_err(device_error)?;
        let body = assoclen + text;
        let (in_len, out_len) = match dir {
            Direction::Encrypt => (body, body + self.tag),
            Direction::Decrypt => (body + self.tag, body),
        };
        self.engine.with_slot(Service::Sym, |slot| {
            let cd_addr = slot.put(&session.cd)?;
            let (hal, cursor) = slot.parts();
            let staged = stage(hal, cursor, &data, in_len, out_len)?;
            let params = LaParams {
                cd_addr,
                src: staged.src,
                dst: staged.dst,
                cipher_offset: assoclen as u32,
                cipher_len: text as u32,
                iv,
                auth_offset: 0,
                auth_len: body as u32,
                ..LaParams::default()
            };
            let resp = slot.submit(la::request(&session, &params))?;
            match response_status(&resp) {
                0 => data.scatter(&read_segments(slot.hal(), &staged.out, out_len)),
                _ => Err(la_status(&resp)),
            }
        })
    }
}

impl<H: Hal + Send> AeadTfm for AuthencTfm<H> {
    fn encrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        self.run(Direction::Encrypt, iv, assoclen, cryptlen, data)
    }

    fn decrypt(
        &mut self,
        iv: &[u8],
        assoclen: usize,
        cryptlen: usize,
        data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let text = cryptlen
            .checked_sub(self.tag)
            .ok_or(CryptoError::BadLength)?;
        self.run(Direction::Decrypt, iv, assoclen, text, data)
    }
}
