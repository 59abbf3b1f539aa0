//! `cbc(aes)` and `ctr(aes)` on the `aes`, `cbc` and `ctr` crates.

use alloc::boxed::Box;
use alloc::vec::Vec;

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, StreamCipher};
use aes::{Aes128, Aes192, Aes256};

use super::PRIORITY;
use crate::api::{AlgInfo, Direction, Skcipher, SkcipherTfm};
use crate::data::Data;
use crate::error::CryptoError;

/// AES block bytes.
const BLOCK: usize = 16;

/// Checks an AES key length.
pub(super) fn aes_key(key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    matches!(key.len(), 16 | 24 | 32)
        .then(|| key.to_vec())
        .ok_or(CryptoError::BadKey)
}

/// CBC over `buf` (whole blocks) with `key` and `iv`.
pub(super) fn cbc(
    key: &[u8],
    iv: &[u8],
    dir: Direction,
    buf: &mut [u8],
) -> Result<(), CryptoError> {
    if !buf.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::BadLength);
    }
    macro_rules! run {
        ($aes:ty) => {{
            let bad = |_| CryptoError::BadIv;
            match dir {
                Direction::Encrypt => {
                    let mut mode = cbc::Encryptor::<$aes>::new_from_slices(key, iv).map_err(bad)?;
                    for chunk in buf.chunks_exact_mut(BLOCK) {
                        mode.encrypt_block(chunk.try_into().expect("16-byte chunk"));
                    }
                }
                Direction::Decrypt => {
                    let mut mode = cbc::Decryptor::<$aes>::new_from_slices(key, iv).map_err(bad)?;
                    for chunk in buf.chunks_exact_mut(BLOCK) {
                        mode.decrypt_block(chunk.try_into().expect("16-byte chunk"));
                    }
                }
            }
        }};
    }
    match key.len() {
        16 => run!(Aes128),
        24 => run!(Aes192),
        32 => run!(Aes256),
        _ => return Err(CryptoError::BadKey),
    }
    Ok(())
}

/// CTR (128-bit big-endian counter) over `buf` with `key`, counter `iv`.
pub(super) fn ctr(key: &[u8], iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
    macro_rules! run {
        ($aes:ty) => {{
            let mut mode =
                ctr::Ctr128BE::<$aes>::new_from_slices(key, iv).map_err(|_| CryptoError::BadIv)?;
            mode.apply_keystream(buf);
        }};
    }
    match key.len() {
        16 => run!(Aes128),
        24 => run!(Aes192),
        32 => run!(Aes256),
        _ => return Err(CryptoError::BadKey),
    }
    Ok(())
}

/// Runs `op` over the gathered input and scatters the result.
fn in_out(
    mut data: Data<'_, '_>,
    op: impl FnOnce(&mut [u8]) -> Result<(), CryptoError>,
) -> Result<(), CryptoError> {
    let mut buf = data.gather(data.input_len())?;
    op(&mut buf)?;
    data.scatter(&buf)
}

/// `cbc(aes)` in software.
#[derive(Debug, Clone, Copy)]
pub struct CbcAesSoft;

struct CbcTfm(Vec<u8>);

impl Skcipher for CbcAesSoft {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "cbc(aes)",
            driver: "cbc-aes-soft",
            priority: PRIORITY,
        }
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn SkcipherTfm>, CryptoError> {
        Ok(Box::new(CbcTfm(aes_key(key)?)))
    }
}

impl SkcipherTfm for CbcTfm {
    fn crypt(&mut self, dir: Direction, iv: &[u8], data: Data<'_, '_>) -> Result<(), CryptoError> {
        in_out(data, |buf| cbc(&self.0, iv, dir, buf))
    }
}

/// `ctr(aes)` in software.
#[derive(Debug, Clone, Copy)]
pub struct CtrAesSoft;

struct CtrTfm(Vec<u8>);

impl Skcipher for CtrAesSoft {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "ctr(aes)",
            driver: "ctr-aes-soft",
            priority: PRIORITY,
        }
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn SkcipherTfm>, CryptoError> {
        Ok(Box::new(CtrTfm(aes_key(key)?)))
    }
}

impl SkcipherTfm for CtrTfm {
    fn crypt(&mut self, _dir: Direction, iv: &[u8], data: Data<'_, '_>) -> Result<(), CryptoError> {
        in_out(data, |buf| ctr(&self.0, iv, buf))
    }
}
