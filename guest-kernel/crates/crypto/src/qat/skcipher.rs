//! `cbc(aes)` and `ctr(aes)` on the device (Linux's `qat_aes_cbc`,
//! `qat_aes_ctr`): cmd CIPHER over the whole payload, IV in the request.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use guest_drivers::qat::la::{self, CipherMode, LaParams, Session};
use guest_drivers::qat::response_status;
use guest_drivers::Hal;

use super::{device_error, stage, unstage, QatEngine, Service, PRIORITY};
use crate::api::{AlgInfo, Direction, Skcipher, SkcipherTfm};
use crate::data::Data;
use crate::error::CryptoError;

/// An AES mode on the device.
pub struct QatSkcipher<H: Hal> {
    engine: Arc<QatEngine<H>>,
    mode: CipherMode,
}

impl<H: Hal> QatSkcipher<H> {
    /// `cbc(aes)`.
    pub fn cbc(engine: Arc<QatEngine<H>>) -> Self {
        Self {
            engine,
            mode: CipherMode::Cbc,
        }
    }

    /// `ctr(aes)`.
    pub fn ctr(engine: Arc<QatEngine<H>>) -> Self {
        Self {
            engine,
            mode: CipherMode::Ctr,
        }
    }
}

struct Tfm<H: Hal> {
    engine: Arc<QatEngine<H>>,
    mode: CipherMode,
    key: Vec<u8>,
}

/// The driver's direction for `dir`.
pub(crate) fn driver_dir(dir: Direction) -> la::Direction {
    match dir {
        Direction::Encrypt => la::Direction::Encrypt,
        Direction::Decrypt => la::Direction::Decrypt,
    }
}

impl<H: Hal + Send + 'static> Skcipher for QatSkcipher<H> {
    fn info(&self) -> AlgInfo {
        let (name, driver) = match self.mode {
            CipherMode::Cbc => ("cbc(aes)", "qat_aes_cbc"),
            CipherMode::Ctr => ("ctr(aes)", "qat_aes_ctr"),
        };
        AlgInfo {
            name,
            driver,
            priority: PRIORITY,
        }
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn SkcipherTfm>, CryptoError> {
        la::aes_code(key.len()).map_err(|_| CryptoError::BadKey)?;
        Ok(Box::new(Tfm {
            engine: self.engine.clone(),
            mode: self.mode,
            key: key.to_vec(),
        }))
    }
}

impl<H: Hal + Send> SkcipherTfm for Tfm<H> {
    fn crypt(
        &mut self,
        dir: Direction,
        iv: &[u8],
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let len = data.input_len();
        if self.mode == CipherMode::Cbc && !len.is_multiple_of(16) {
            return Err(CryptoError::BadLength);
        }
        let iv: [u8; 16] = iv.try_into().map_err(|_| CryptoError::BadIv)?;
        let session =
            Session::cipher(&self.key, self.mode, driver_dir(dir)).map_err(device_error)?;
        self.engine.with_slot(Service::Sym, |slot| {
            let cd_addr = slot.put(&session.cd)?;
            let (hal, cursor) = slot.parts();
            let staged = stage(hal, cursor, &data, len, len)?;
            let params = LaParams {
                cd_addr,
                src: staged.src,
                dst: staged.dst,
                cipher_len: len as u32,
                iv,
                ..LaParams::default()
            };
            let resp = slot.submit(la::request(&session, &params))?;
            match response_status(&resp) {
                0 => unstage(slot.hal(), &staged.out, len, &mut data),
                _ => Err(super::la_status(&resp)),
            }
        })
    }
}
