//! The lookaside symmetric-crypto service (service type 4): cipher only,
//! hash only, encrypt-then-MAC and verify-then-decrypt chains, and GCM,
//! on flat buffers or the driver's buffer lists, in place or out of place.
//! Results are computed on the host and written back to guest memory;
//! failures become the crypto error status, never a panic.

pub mod cipher;
pub mod gcm;
pub mod hash;
mod params;

use thiserror::Error;

use self::cipher::{CipherConfig, CipherError};
use self::gcm::GcmError;
use self::params::*;
use super::buffers::{read_vec, write_at, BufferError, Buffers};
use super::msg::{ErrCode, Request, Response, STATUS_CRYPTO_ERR};
use crate::virtio::GuestMemory;

pub use self::params::{CMD_AUTH, CMD_CIPHER, CMD_CIPHER_HASH, CMD_HASH_CIPHER, PROTO_GCM};

/// Why an LA request fails.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum LaError {
    /// A buffer, descriptor or IV is outside guest memory or too short.
    #[error("buffers: {0}")]
    Buffer(#[from] BufferError),
    /// The cipher rejected its configuration or data.
    #[error("cipher: {0}")]
    Cipher(#[from] CipherError),
    /// GCM failed (unsupported parameters or a tag mismatch).
    #[error("gcm: {0}")]
    Gcm(#[from] GcmError),
    /// An unknown command, algorithm or mode.
    #[error("unsupported request")]
    Unsupported,
    /// Offsets or sizes in the request contradict each other.
    #[error("malformed request")]
    Malformed,
    /// The computed digest differs from the one supplied.
    #[error("authentication failed")]
    AuthMismatch,
}

impl LaError {
    /// The firmware error code reported for this failure.
    fn code(self) -> ErrCode {
        match self {
            LaError::Buffer(BufferError::OutOfMemory(_)) => ErrCode::Endpoint,
            _ => ErrCode::Fatal,
        }
    }
}

/// Serves one LA request; the response reports success or the error.
pub fn process(mem: &GuestMemory, req: &Request) -> Response {
    match run(mem, req) {
        Ok(()) => Response::to(req),
        Err(LaError::AuthMismatch | LaError::Gcm(GcmError::TagMismatch)) => {
            Response::to(req).with_status(STATUS_CRYPTO_ERR)
        }
        Err(e) => Response::to(req).fail(STATUS_CRYPTO_ERR, e.code()),
    }
}

/// The request's source and destination buffers (the same list in place)
/// and the working copy of the payload the slices operate on.
///
/// The device reads its input through the source list and writes its
/// output through the destination list. Out of place they may differ in
/// length: Linux's authenc encryption passes AAD ‖ plaintext as the
/// source and expects AAD ‖ ciphertext ‖ digest in the destination. The
/// working copy therefore spans the longer of the two: the source's bytes,
/// then the destination's own bytes past the source's end, so that writing
/// it back leaves everything the device did not produce as it was.
struct Data {
    src: Buffers,
    dst: Option<Buffers>,
    payload: Vec<u8>,
}

impl Data {
    fn read(mem: &GuestMemory, req: &Request) -> Result<Self, LaError> {
        let sgl = req.is_sgl();
        let src = Buffers::parse(mem, req.src_addr(), sgl, req.src_length())?;
        let dst = if req.dst_addr() == req.src_addr() {
            None
        } else {
            Some(Buffers::parse(mem, req.dst_addr(), sgl, req.dst_length())?)
        };
        let mut payload = src.read(mem, 0, src.total())?;
        if let Some(dst) = &dst {
            if dst.total() > src.total() {
                let tail = dst.read(mem, src.total(), dst.total() - src.total())?;
                payload.extend_from_slice(&tail);
            }
        }
        Ok(Self { src, dst, payload })
    }

    /// The list results are written through.
    fn out(&self) -> &Buffers {
        self.dst.as_ref().unwrap_or(&self.src)
    }

    fn slice(&mut self, (offset, len): (u64, u64)) -> Result<&mut [u8], LaError> {
        let end = offset.checked_add(len).ok_or(LaError::Malformed)?;
        let (start, end) = (
            usize::try_from(offset).map_err(|_| LaError::Malformed)?,
            usize::try_from(end).map_err(|_| LaError::Malformed)?,
        );
        self.payload.get_mut(start..end).ok_or(LaError::Malformed)
    }

    /// A region the device only reads (hashed or compared): it must lie in
    /// the source.
    fn input(&mut self, region: (u64, u64)) -> Result<&mut [u8], LaError> {
        self.src.check(region.0, region.1)?;
        self.slice(region)
    }

    /// A region the device transforms (the cipher region): read from the
    /// source, written to the destination.
    fn through(&mut self, region: (u64, u64)) -> Result<&mut [u8], LaError> {
        self.src.check(region.0, region.1)?;
        self.out().check(region.0, region.1)?;
        self.slice(region)
    }

    /// A region the device only writes (a digest in the buffer): it must
    /// lie in the destination.
    fn output(&mut self, region: (u64, u64)) -> Result<&mut [u8], LaError> {
        self.out().check(region.0, region.1)?;
        self.slice(region)
    }

    /// Writes the result: the changed regions in place; out of place, the
    /// source's payload (as far as the destination reaches) with the
    /// changed regions, and the destination's bytes past the source's end
    /// untouched except where the device wrote.
    fn write_back(&self, mem: &GuestMemory, changed: &[(u64, u64)]) -> Result<(), LaError> {
        let piece = |offset: u64, len: u64| {
            self.payload
                .get(offset as usize..(offset + len) as usize)
                .ok_or(LaError::Malformed)
        };
        match &self.dst {
            None => {
                for &(offset, len) in changed {
                    self.src.write(mem, offset, piece(offset, len)?)?;
                }
            }
            Some(dst) => {
                let n = dst.total().min(self.src.total());
                dst.write(mem, 0, piece(0, n)?)?;
                for &(offset, len) in changed {
                    if offset.saturating_add(len) > n {
                        dst.write(mem, offset, piece(offset, len)?)?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn run(mem: &GuestMemory, req: &Request) -> Result<(), LaError> {
    let cmd = req.cmd_id();
    if !matches!(
        cmd,
        CMD_CIPHER | CMD_AUTH | CMD_CIPHER_HASH | CMD_HASH_CIPHER
    ) {
        return Err(LaError::Unsupported);
    }
    let cd = ContentDescriptor::read(mem, req)?;
    let mut data = Data::read(mem, req)?;
    if is_gcm(req) {
        return run_gcm(mem, req, &cd, &mut data);
    }
    let mut changed = Vec::new();
    let auth = if cmd == CMD_CIPHER {
        None
    } else {
        Some(params::auth(req, &cd)?)
    };
    if cmd == CMD_HASH_CIPHER || cmd == CMD_AUTH {
        if let Some(a) = &auth {
            authenticate(mem, a, &mut data, &mut changed)?;
        }
    }
    if cmd != CMD_AUTH {
        let region = cipher_region(req);
        let (config, key) = cipher_setup(req, &cd)?;
        let iv = iv(mem, req)?;
        config.apply(key, &iv, data.through(region)?)?;
        changed.push(region);
    }
    if cmd == CMD_CIPHER_HASH {
        if let Some(a) = &auth {
            authenticate(mem, a, &mut data, &mut changed)?;
        }
    }
    data.write_back(mem, &changed)
}

/// The cipher config and key from the CD's cipher block.
fn cipher_setup<'a>(
    req: &Request,
    cd: &'a ContentDescriptor,
) -> Result<(CipherConfig, &'a [u8]), LaError> {
    let block = cipher_block(req);
    let config = CipherConfig::decode(cd.u32(block)?)?;
    let key_at = if uses_ucs(req) {
        // The UCS slice: key at +16. Only CTR has a layout without a
        // reversed or pre-encrypted key; UCS is fused off, so Linux
        // never sends the others.
        if config.mode != cipher::Mode::Ctr {
            return Err(LaError::Unsupported);
        }
        block + 16
    } else {
        block + 8
    };
    let key_len = config.key_material();
    if cipher_key_len(req) < key_len {
        return Err(LaError::Malformed);
    }
    Ok((config, cd.bytes(key_at, key_len)?))
}

/// Hashes the auth region and writes and/or compares the digest.
fn authenticate(
    mem: &GuestMemory,
    a: &AuthParams,
    data: &mut Data,
    changed: &mut Vec<(u64, u64)>,
) -> Result<(), LaError> {
    let message = data.input(a.region)?;
    let full = match &a.hmac {
        None => a.alg.digest(message),
        Some((inner, outer, absorbed)) => {
            let inner_digest = a
                .alg
                .resume(inner, *absorbed, message)
                .ok_or(LaError::Malformed)?;
            a.alg
                .resume(outer, *absorbed, &inner_digest)
                .ok_or(LaError::Malformed)?
        }
    };
    let digest = full.get(..a.digest_len).ok_or(LaError::Malformed)?;
    if a.compare {
        let expected = match a.at {
            DigestAt::Buffer(offset) => data.input((offset, a.compare_len as u64))?.to_vec(),
            DigestAt::Address(addr) => read_vec(mem, addr, a.compare_len)?,
        };
        let computed = digest.get(..a.compare_len).ok_or(LaError::Malformed)?;
        if !constant_time_eq(&expected, computed) {
            return Err(LaError::AuthMismatch);
        }
    }
    if a.write {
        match a.at {
            DigestAt::Buffer(offset) => {
                data.output((offset, digest.len() as u64))?
                    .copy_from_slice(digest);
                changed.push((offset, digest.len() as u64));
            }
            DigestAt::Address(addr) => write_at(mem, addr, digest)?,
        }
    }
    Ok(())
}

/// AES-GCM: CIPHER_HASH seals, HASH_CIPHER opens (see the spec's §9.7).
fn run_gcm(
    mem: &GuestMemory,
    req: &Request,
    cd: &ContentDescriptor,
    data: &mut Data,
) -> Result<(), LaError> {
    if !gcm_iv_12(req) {
        return Err(LaError::Gcm(GcmError::Unsupported));
    }
    let block = cipher_block(req);
    let config = cd.u32(block)?;
    let key_len = match config & 0xf {
        3 => 16,
        5 => 32,
        _ => return Err(LaError::Gcm(GcmError::Unsupported)),
    };
    let key = cd.bytes(block + 8, key_len)?.to_vec();
    let iv_full = iv(mem, req)?;
    let mut iv = [0u8; 12];
    iv.copy_from_slice(&iv_full[..12]);
    let aad = gcm_aad(mem, req)?;
    let tag_len = gcm_tag_len(req, cd);
    let region = cipher_region(req);
    let at = gcm_tag_at(req);
    let mut changed = vec![region];
    match req.cmd_id() {
        CMD_CIPHER_HASH => {
            let tag = gcm::seal(&key, &iv, &aad, data.through(region)?, tag_len)?;
            match at {
                DigestAt::Buffer(offset) => {
                    data.output((offset, tag.len() as u64))?
                        .copy_from_slice(&tag);
                    changed.push((offset, tag.len() as u64));
                }
                DigestAt::Address(addr) => write_at(mem, addr, &tag)?,
            }
        }
        CMD_HASH_CIPHER => {
            let tag = match at {
                DigestAt::Buffer(offset) => data.input((offset, tag_len as u64))?.to_vec(),
                DigestAt::Address(addr) => read_vec(mem, addr, tag_len)?,
            };
            gcm::open(&key, &iv, &aad, data.through(region)?, &tag)?;
        }
        _ => return Err(LaError::Unsupported),
    }
    data.write_back(mem, &changed)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
