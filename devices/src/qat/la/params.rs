//! The lookaside (LA) request as `qat_algs.c` builds it: serv_specif
//! flags, cipher and auth request parameters, the cd_ctrl header, and the
//! content descriptor (cipher block, auth block with precomputed states)
//! read from guest memory.

use super::hash::HashAlg;
use super::LaError;
use crate::qat::buffers::{read_array, read_vec};
use crate::qat::msg::Request;
use crate::virtio::GuestMemory;

/// LA command IDs (service_cmd_id).
pub const CMD_CIPHER: u8 = 0;
/// Hash only.
pub const CMD_AUTH: u8 = 1;
/// Encrypt, then hash the ciphertext.
pub const CMD_CIPHER_HASH: u8 = 2;
/// Hash (verify) the input, then decrypt.
pub const CMD_HASH_CIPHER: u8 = 3;

/// serv_specif_flags bit 2: the IV is 16 bytes inside the request.
const FLAG_IV_IN_REQUEST: u16 = 1 << 2;
/// Bit 5: write the digest.
const FLAG_RET_AUTH: u16 = 1 << 5;
/// Bit 6: compare the digest.
const FLAG_CMP_AUTH: u16 = 1 << 6;
/// Bit 10: the digest lives in the buffer right after the auth region.
const FLAG_DIGEST_IN_BUFFER: u16 = 1 << 10;
/// Bit 11: GCM IV of 12 bytes.
const FLAG_GCM_IV_12: u16 = 1 << 11;
/// comn_req_flags bit 1: the content descriptor is 16 bytes of inline data.
const REQ_FLAG_CD_INLINE: u16 = 1 << 1;
/// Protocol field value for GCM (bits 9:7).
pub const PROTO_GCM: u16 = 2;

/// Where the digest goes or comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAt {
    /// In the payload at this offset.
    Buffer(u64),
    /// At this guest address.
    Address(u64),
}

/// What the auth slice does.
#[derive(Debug, Clone)]
pub struct AuthParams {
    /// The hash.
    pub alg: HashAlg,
    /// HMAC from precomputed (inner, outer) states and the absorbed count,
    /// or None for a plain hash.
    pub hmac: Option<(Vec<u8>, Vec<u8>, u64)>,
    /// Digest bytes produced.
    pub digest_len: usize,
    /// Digest bytes compared.
    pub compare_len: usize,
    /// Region hashed: (offset, length) in the payload.
    pub region: (u64, u64),
    /// Where the digest lives.
    pub at: DigestAt,
    /// Write the digest.
    pub write: bool,
    /// Compare against the digest found at `at`.
    pub compare: bool,
}

/// The content descriptor: its bytes as read from guest memory.
pub struct ContentDescriptor(Vec<u8>);

impl ContentDescriptor {
    /// Reads the request's content descriptor (a 64-bit address and a
    /// size in quadwords; inline descriptors are not used by LA).
    pub fn read(mem: &GuestMemory, req: &Request) -> Result<Self, LaError> {
        if req.req_flags() & REQ_FLAG_CD_INLINE != 0 {
            return Err(LaError::Unsupported);
        }
        let len = usize::from(req.u8(18)) * 8;
        Ok(Self(read_vec(mem, req.cd_addr(), len)?))
    }

    /// `len` bytes at `offset`, or a malformed-request error.
    pub fn bytes(&self, offset: usize, len: usize) -> Result<&[u8], LaError> {
        self.0
            .get(offset..offset.checked_add(len).ok_or(LaError::Malformed)?)
            .ok_or(LaError::Malformed)
    }

    /// The little-endian u32 at `offset`.
    pub fn u32(&self, offset: usize) -> Result<u32, LaError> {
        let b = self.bytes(offset, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// The request's flags.
pub fn flags(req: &Request) -> u16 {
    req.serv_flags()
}

/// Whether the request is GCM (protocol field).
pub fn is_gcm(req: &Request) -> bool {
    (flags(req) >> 7) & 0x7 == PROTO_GCM
}

/// Whether the 12-byte GCM IV flag is set.
pub fn gcm_iv_12(req: &Request) -> bool {
    flags(req) & FLAG_GCM_IV_12 != 0
}

/// Whether the request uses the UCS slice layout (bits 15:14 = 1).
pub fn uses_ucs(req: &Request) -> bool {
    (flags(req) >> 14) & 0x3 == 1
}

/// The cipher region (cipher_offset, cipher_length).
pub fn cipher_region(req: &Request) -> (u64, u64) {
    (u64::from(req.u32(56)), u64::from(req.u32(60)))
}

/// The 16-byte IV: in the request, or read through its pointer.
pub fn iv(mem: &GuestMemory, req: &Request) -> Result<[u8; 16], LaError> {
    if flags(req) & FLAG_IV_IN_REQUEST != 0 {
        Ok(req.array(64))
    } else {
        Ok(read_array(mem, req.u64(64))?)
    }
}

/// The cipher block's offset in the CD (cipher_cfg_offset, in quadwords).
pub fn cipher_block(req: &Request) -> usize {
    usize::from(req.u8(110)) * 8
}

/// The cipher key size from cd_ctrl (cipher_key_sz, in quadwords).
pub fn cipher_key_len(req: &Request) -> usize {
    usize::from(req.u8(109)) * 8
}

/// The auth block's offset in the CD (hash_cfg_offset).
fn auth_block(req: &Request) -> usize {
    usize::from(req.u8(114)) * 8
}

/// The digest location for a digest after the auth region.
fn digest_at(req: &Request, region_end: u64) -> DigestAt {
    if flags(req) & FLAG_DIGEST_IN_BUFFER != 0 {
        DigestAt::Buffer(region_end)
    } else {
        DigestAt::Address(req.u64(96))
    }
}

/// The auth config word's fields: (algorithm, mode, compare length).
fn auth_config(word: u32) -> (u32, u32, usize) {
    let algo = (word & 0xf) | (((word >> 22) & 0x3) << 4);
    (algo, (word >> 4) & 0xf, ((word >> 8) & 0x7f) as usize)
}

/// The digest/tag length GCM uses: final_sz, else the auth config's
/// compare length, else 16.
pub fn gcm_tag_len(req: &Request, cd: &ContentDescriptor) -> usize {
    let final_sz = usize::from(req.u8(118));
    if final_sz != 0 {
        return final_sz;
    }
    match cd.u32(auth_block(req)) {
        Ok(word) if auth_config(word).2 != 0 => auth_config(word).2,
        _ => 16,
    }
}

/// Where a GCM tag lives: after the cipher region, or at auth_res_addr.
pub fn gcm_tag_at(req: &Request) -> DigestAt {
    let (offset, len) = cipher_region(req);
    digest_at(req, offset.saturating_add(len))
}

/// GCM's additional authenticated data (aad_adr, aad_sz).
pub fn gcm_aad(mem: &GuestMemory, req: &Request) -> Result<Vec<u8>, LaError> {
    let len = usize::from(req.u8(104));
    if len == 0 {
        return Ok(Vec::new());
    }
    Ok(read_vec(mem, req.u64(88), len)?)
}

/// The auth slice's parameters.
pub fn auth(req: &Request, cd: &ContentDescriptor) -> Result<AuthParams, LaError> {
    let block = auth_block(req);
    let (algo, mode, cmp_len) = auth_config(cd.u32(block)?);
    let alg = HashAlg::from_auth_algo(algo).ok_or(LaError::Unsupported)?;
    let hmac = match mode {
        0 => None,
        1 => {
            let counter = cd.bytes(block + 8, 4)?;
            let absorbed = u32::from_be_bytes([counter[0], counter[1], counter[2], counter[3]]);
            let inner = cd.bytes(block + 16, alg.state_len())?.to_vec();
            let outer_at = usize::from(req.u8(122)) * 8;
            let outer = cd.bytes(outer_at, alg.state_len())?.to_vec();
            Some((inner, outer, u64::from(absorbed)))
        }
        _ => return Err(LaError::Unsupported),
    };
    let final_sz = usize::from(req.u8(118));
    let digest_len = [final_sz, cmp_len]
        .into_iter()
        .find(|&l| l != 0)
        .unwrap_or(alg.digest_len());
    if digest_len > alg.digest_len() {
        return Err(LaError::Malformed);
    }
    let res_sz = usize::from(req.u8(107));
    let compare_len = if res_sz != 0 { res_sz } else { digest_len };
    if compare_len > digest_len {
        return Err(LaError::Malformed);
    }
    let region = (u64::from(req.u32(80)), u64::from(req.u32(84)));
    let f = flags(req);
    let ret = f & FLAG_RET_AUTH != 0;
    let compare = f & FLAG_CMP_AUTH != 0;
    Ok(AuthParams {
        alg,
        hmac,
        digest_len,
        compare_len,
        region,
        at: digest_at(req, region.0.saturating_add(region.1)),
        write: ret || !compare,
        compare,
    })
}
