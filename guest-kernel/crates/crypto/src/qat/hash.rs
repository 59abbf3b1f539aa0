//! `sha*` and `hmac(sha*)` on the device: cmd AUTH, mode 0 (plain) or
//! mode 1 (HMAC from the inner and outer states computed at set_key, as
//! Linux's `qat_alg_do_precomputes` does); the digest goes to a DMA
//! location of its own.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;

use guest_drivers::qat::dma::put_buffer_list;
use guest_drivers::qat::la::{self, LaParams, Session};
use guest_drivers::qat::response_status;
use guest_drivers::Hal;

use super::{device_error, driver_hash, stage_segments, QatEngine, Service, PRIORITY};
use crate::api::{AlgInfo, Hash, HashTfm};
use crate::error::CryptoError;
use crate::precompute::{hmac_states, ShaAlg};

/// A digest on the device.
pub struct QatHash<H: Hal> {
    engine: Arc<QatEngine<H>>,
    alg: ShaAlg,
    hmac: bool,
}

impl<H: Hal> QatHash<H> {
    /// The plain digest.
    pub fn plain(engine: Arc<QatEngine<H>>, alg: ShaAlg) -> Self {
        Self {
            engine,
            alg,
            hmac: false,
        }
    }

    /// The HMAC.
    pub fn hmac(engine: Arc<QatEngine<H>>, alg: ShaAlg) -> Self {
        Self {
            engine,
            alg,
            hmac: true,
        }
    }
}

struct Tfm<H: Hal> {
    engine: Arc<QatEngine<H>>,
    session: Session,
    digest: usize,
}

impl<H: Hal + Send + 'static> Hash for QatHash<H> {
    fn info(&self) -> AlgInfo {
        let (name, driver) = match (self.alg, self.hmac) {
            (ShaAlg::Sha1, false) => ("sha1", "qat_sha1"),
            (ShaAlg::Sha256, false) => ("sha256", "qat_sha256"),
            (ShaAlg::Sha512, false) => ("sha512", "qat_sha512"),
            (ShaAlg::Sha1, true) => ("hmac(sha1)", "qat_hmac_sha1"),
            (ShaAlg::Sha256, true) => ("hmac(sha256)", "qat_hmac_sha256"),
            (ShaAlg::Sha512, true) => ("hmac(sha512)", "qat_hmac_sha512"),
        };
        AlgInfo {
            name,
            driver,
            priority: PRIORITY,
        }
    }

    fn digest_size(&self) -> usize {
        self.alg.digest_size()
    }

    fn keyed(&self) -> bool {
        self.hmac
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn HashTfm>, CryptoError> {
        let alg = driver_hash(self.alg);
        let session = if self.hmac {
            let (inner, outer) = hmac_states(self.alg, key);
            Session::hash(alg, Some((&inner, &outer)))
        } else if key.is_empty() {
            Session::hash(alg, None)
        } else {
            return Err(CryptoError::BadKey);
        };
        Ok(Box::new(Tfm {
            engine: self.engine.clone(),
            session: session.map_err(device_error)?,
            digest: self.alg.digest_size(),
        }))
    }
}

impl<H: Hal + Send> HashTfm for Tfm<H> {
    fn digest(&mut self, data: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
        if out.len() != self.digest {
            return Err(CryptoError::BadLength);
        }
        let len: usize = data.iter().map(|d| d.len()).sum();
        let session = &self.session;
        let digest = self.engine.with_slot(Service::Sym, |slot| {
            let cd_addr = slot.put(&session.cd)?;
            let (hal, cursor) = slot.parts();
            let segs = stage_segments(hal, cursor, data, len)?;
            let list = put_buffer_list(hal, cursor, &segs).map_err(device_error)?;
            let result_at = cursor.take(64, 64).map_err(device_error)?;
            let params = LaParams {
                cd_addr,
                src: list,
                dst: list,
                auth_len: len as u32,
                auth_res_addr: result_at,
                ..LaParams::default()
            };
            let resp = slot.submit(la::request(session, &params))?;
            match response_status(&resp) {
                0 => {
                    let mut digest = vec![0u8; self.digest];
                    slot.hal().dma_read(result_at, &mut digest);
                    Ok(digest)
                }
                _ => Err(super::la_status(&resp)),
            }
        })?;
        out.copy_from_slice(&digest);
        Ok(())
    }
}
