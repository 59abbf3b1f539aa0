//! Lookaside (LA) symmetric-crypto messages (`icp_qat_fw_la.h`,
//! `icp_qat_hw.h`, Linux's `qat_algs.c`): the content descriptor (CD) a
//! session's requests share, with its cipher and auth blocks, and the
//! 128-byte request that points at it, at the data's buffer lists and
//! carries the IV and the offsets.

use alloc::vec::Vec;

use super::error::QatError;
use super::ring::Request;

/// Service type of LA requests.
pub const SERVICE_LA: u8 = 4;
/// Request header flags: valid.
pub const HDR_VALID: u8 = 0x80;
/// comn_req_flags: SGL buffer lists, 64-bit CD address.
pub const COMN_SGL_CD_ADDR: u16 = 0x1;
/// Response comn_status bit: crypto/auth error (bad tag, digest mismatch).
pub const STATUS_CRYPTO_ERROR: u8 = 1 << 7;

/// serv_specif_flags: IV carried as 16 bytes in the request.
pub const FLAG_IV_16_BYTES: u16 = 1 << 2;
/// serv_specif_flags: return the digest.
pub const FLAG_RET_AUTH_RES: u16 = 1 << 5;
/// serv_specif_flags: compare the digest, report a mismatch.
pub const FLAG_CMP_AUTH_RES: u16 = 1 << 6;
/// serv_specif_flags: GCM protocol (bits 9:7 = 2).
pub const FLAG_PROTO_GCM: u16 = 2 << 7;
/// serv_specif_flags: the digest sits in the buffer after the auth region.
pub const FLAG_DIGEST_IN_BUFFER: u16 = 1 << 10;
/// serv_specif_flags: 12-byte GCM IV.
pub const FLAG_GCM_IV_12: u16 = 1 << 11;

/// Slice IDs of the cd_ctrl chain nibbles.
const SLICE_CIPHER: u8 = 1;
const SLICE_AUTH: u8 = 2;
const SLICE_DRAM_WR: u8 = 4;
/// Bytes of the auth setup before state1 (config, counter).
const AUTH_SETUP: usize = 16;
/// Auth algorithm code of GCM's GHASH.
const AUTH_GALOIS_128: u32 = 10;
/// Largest AAD a flat GCM request carries (aad_sz is one byte).
pub const GCM_MAX_AAD: usize = 240;

/// LA command IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum LaCmd {
    /// Cipher only.
    Cipher = 0,
    /// Hash only.
    Auth = 1,
    /// Encrypt, then hash the output.
    CipherHash = 2,
    /// Hash (verify) the input, then decrypt.
    HashCipher = 3,
}

/// Which way a cipher runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Plaintext to ciphertext.
    Encrypt,
    /// Ciphertext to plaintext.
    Decrypt,
}

/// AES block cipher modes the driver uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherMode {
    /// Cipher block chaining.
    Cbc,
    /// Counter mode, the IV being the full 128-bit big-endian counter.
    Ctr,
}

impl CipherMode {
    fn code(self) -> u32 {
        match self {
            Self::Cbc => 1,
            Self::Ctr => 2,
        }
    }
}

/// Hash algorithms of the auth slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The auth config algorithm code.
    pub fn code(self) -> u32 {
        match self {
            Self::Sha1 => 1,
            Self::Sha256 => 4,
            Self::Sha512 => 6,
        }
    }

    /// Digest bytes.
    pub fn digest_size(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// Block bytes (the auth counter of a precomputed HMAC state).
    pub fn block_size(self) -> usize {
        match self {
            Self::Sha1 | Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }

    /// Bytes of state1/state2 in the CD (the state rounded up to 8).
    pub fn state_size(self) -> usize {
        self.digest_size().next_multiple_of(8)
    }
}

/// The AES algorithm code for a key of `len` bytes.
pub fn aes_code(len: usize) -> Result<u32, QatError> {
    match len {
        16 => Ok(3),
        24 => Ok(4),
        32 => Ok(5),
        _ => Err(QatError::Unsupported("AES key length")),
    }
}

/// The cipher config word (`ICP_QAT_HW_CIPHER_CONFIG_BUILD`) as Linux
/// builds it: decryption has the hardware convert the key, except in CTR
/// mode, which decrypts by encrypting.
pub fn cipher_config(algo: u32, mode: CipherMode, dir: Direction) -> u32 {
    let decrypt = dir == Direction::Decrypt && mode != CipherMode::Ctr;
    let convert_and_decrypt = if decrypt { (1 << 9) | (1 << 8) } else { 0 };
    (mode.code() << 4) | algo | convert_and_decrypt
}

/// The auth config word (`ICP_QAT_HW_AUTH_CONFIG_BUILD`): `mode` 0 plain
/// hash, 1 HMAC from precomputed states.
pub fn auth_config(mode: u32, algo: u32, digest: usize) -> u32 {
    ((mode & 0xf) << 4) | (algo & 0xf) | (((algo >> 4) & 0x3) << 22) | ((digest as u32 & 0x7f) << 8)
}

/// A session's content descriptor and the request fields that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The command its requests carry.
    pub cmd: LaCmd,
    /// serv_specif_flags.
    pub flags: u16,
    /// The CD bytes (a multiple of 64).
    pub cd: Vec<u8>,
    /// The 20 cd_ctrl bytes (request offset 108).
    pub cd_ctrl: [u8; 20],
    /// Digest bytes the request writes or compares (0: none).
    pub digest: usize,
}

/// Appends a legacy cipher block (config, reserved, key) at `cd`'s end.
fn cipher_block(cd: &mut Vec<u8>, config: u32, key: &[u8]) {
    cd.extend_from_slice(&config.to_le_bytes());
    cd.extend_from_slice(&[0; 4]);
    cd.extend_from_slice(key);
    cd.resize(cd.len().next_multiple_of(8), 0);
}

/// Appends an auth block (config, counter, state1, state2) at `cd`'s end.
fn auth_block(cd: &mut Vec<u8>, config: u32, counter: u32, state1: &[u8], state2: &[u8]) {
    cd.extend_from_slice(&config.to_le_bytes());
    cd.extend_from_slice(&[0; 4]);
    cd.extend_from_slice(&counter.to_be_bytes());
    cd.extend_from_slice(&[0; 4]);
    cd.extend_from_slice(state1);
    cd.extend_from_slice(state2);
    cd.resize(cd.len().next_multiple_of(8), 0);
}

fn pad64(mut cd: Vec<u8>) -> Vec<u8> {
    cd.resize(cd.len().next_multiple_of(64), 0);
    cd
}

/// The cipher part of cd_ctrl: state and key sizes, config offset, chain.
fn cipher_ctrl(ctrl: &mut [u8; 20], key_len: usize, offset: usize, next: u8) {
    ctrl[0] = 2;
    ctrl[1] = (key_len / 8) as u8;
    ctrl[2] = (offset / 8) as u8;
    ctrl[3] = (next << 4) | SLICE_CIPHER;
}

/// The auth part of cd_ctrl for an auth block at byte `offset` with
/// states of `state1`/`state2` bytes.
fn auth_ctrl(
    ctrl: &mut [u8; 20],
    offset: usize,
    state1: usize,
    state2: usize,
    digest: usize,
    next: u8,
) {
    ctrl[6] = (offset / 8) as u8;
    ctrl[7] = (next << 4) | SLICE_AUTH;
    ctrl[10] = digest as u8;
    ctrl[11] = digest as u8;
    ctrl[13] = state1 as u8;
    ctrl[14] = ((offset + AUTH_SETUP + state1) / 8) as u8;
    ctrl[15] = state2 as u8;
}

impl Session {
    /// CBC or CTR with AES (skcipher): one cipher block (Linux's
    /// `qat_alg_skcipher_init_com`).
    pub fn cipher(key: &[u8], mode: CipherMode, dir: Direction) -> Result<Self, QatError> {
        let config = cipher_config(aes_code(key.len())?, mode, dir);
        let mut cd = Vec::new();
        cipher_block(&mut cd, config, key);
        let mut cd_ctrl = [0u8; 20];
        cipher_ctrl(&mut cd_ctrl, key.len(), 0, SLICE_DRAM_WR);
        Ok(Self {
            cmd: LaCmd::Cipher,
            flags: FLAG_IV_16_BYTES,
            cd: pad64(cd),
            cd_ctrl,
            digest: 0,
        })
    }

    /// A plain hash (`hmac` None) or an HMAC from precomputed inner and
    /// outer states (each `alg.state_size()` bytes, big-endian words).
    pub fn hash(alg: HashAlg, hmac: Option<(&[u8], &[u8])>) -> Result<Self, QatError> {
        let size = alg.state_size();
        let zero = alloc::vec![0u8; size];
        let (mode, counter, state1, state2) = match hmac {
            Some((inner, outer)) => (1, alg.block_size() as u32, inner, outer),
            None => (0, 0, &zero[..], &zero[..]),
        };
        if state1.len() != size || state2.len() != size {
            return Err(QatError::Unsupported("HMAC state size"));
        }
        let digest = alg.digest_size();
        let mut cd = Vec::new();
        auth_block(
            &mut cd,
            auth_config(mode, alg.code(), digest),
            counter,
            state1,
            state2,
        );
        let mut cd_ctrl = [0u8; 20];
        auth_ctrl(&mut cd_ctrl, 0, size, size, digest, SLICE_DRAM_WR);
        Ok(Self {
            cmd: LaCmd::Auth,
            flags: FLAG_IV_16_BYTES | FLAG_RET_AUTH_RES,
            cd: pad64(cd),
            cd_ctrl,
            digest,
        })
    }

    /// authenc(hmac(alg), cbc(aes)) with `digest`-byte tags as Linux's
    /// `qat_alg_aead_init_*_session` builds it: encryption has the cipher
    /// block first and returns the digest after the ciphertext; decryption
    /// has the auth block first and compares the digest found after the
    /// ciphertext.
    pub fn authenc(
        key: &[u8],
        alg: HashAlg,
        (inner, outer): (&[u8], &[u8]),
        digest: usize,
        dir: Direction,
    ) -> Result<Self, QatError> {
        let size = alg.state_size();
        if inner.len() != size || outer.len() != size {
            return Err(QatError::Unsupported("HMAC state size"));
        }
        if digest == 0 || digest > alg.digest_size() {
            return Err(QatError::Unsupported("authenc tag length"));
        }
        let config = cipher_config(aes_code(key.len())?, CipherMode::Cbc, dir);
        let auth = auth_config(1, alg.code(), digest);
        let counter = alg.block_size() as u32;
        let mut cd = Vec::new();
        let mut cd_ctrl = [0u8; 20];
        let flags = FLAG_IV_16_BYTES | FLAG_DIGEST_IN_BUFFER;
        let (cmd, flags) = match dir {
            Direction::Encrypt => {
                cipher_block(&mut cd, config, key);
                let auth_at = cd.len();
                auth_block(&mut cd, auth, counter, inner, outer);
                cipher_ctrl(&mut cd_ctrl, key.len(), 0, SLICE_AUTH);
                auth_ctrl(&mut cd_ctrl, auth_at, size, size, digest, SLICE_DRAM_WR);
                (LaCmd::CipherHash, flags | FLAG_RET_AUTH_RES)
            }
            Direction::Decrypt => {
                auth_block(&mut cd, auth, counter, inner, outer);
                let cipher_at = cd.len();
                cipher_block(&mut cd, config, key);
                auth_ctrl(&mut cd_ctrl, 0, size, size, digest, SLICE_CIPHER);
                cipher_ctrl(&mut cd_ctrl, key.len(), cipher_at, SLICE_DRAM_WR);
                (LaCmd::HashCipher, flags | FLAG_CMP_AUTH_RES)
            }
        };
        Ok(Self {
            cmd,
            flags,
            cd: pad64(cd),
            cd_ctrl,
            digest,
        })
    }

    /// AES-GCM with a 12-byte IV and a `tag`-byte tag (the project's
    /// subset of the firmware interface: AES-CTR cipher block, then a
    /// GALOIS_128 auth block whose states the device derives itself; the
    /// AAD flat at `aad_addr`, the tag at `auth_res_addr`).
    pub fn gcm(key: &[u8], tag: usize, dir: Direction) -> Result<Self, QatError> {
        if !matches!(tag, 8 | 12 | 16) {
            return Err(QatError::Unsupported("GCM tag length"));
        }
        let config = cipher_config(aes_code(key.len())?, CipherMode::Ctr, Direction::Encrypt);
        let mut cd = Vec::new();
        let mut cd_ctrl = [0u8; 20];
        cipher_block(&mut cd, config, key);
        let auth_at = cd.len();
        auth_block(
            &mut cd,
            auth_config(0, AUTH_GALOIS_128, tag),
            0,
            &[0; 16],
            &[0; 16],
        );
        let flags = FLAG_IV_16_BYTES | FLAG_PROTO_GCM | FLAG_GCM_IV_12;
        let (cmd, flags) = match dir {
            Direction::Encrypt => {
                cipher_ctrl(&mut cd_ctrl, key.len(), 0, SLICE_AUTH);
                auth_ctrl(&mut cd_ctrl, auth_at, 16, 16, tag, SLICE_DRAM_WR);
                (LaCmd::CipherHash, flags | FLAG_RET_AUTH_RES)
            }
            Direction::Decrypt => {
                auth_ctrl(&mut cd_ctrl, auth_at, 16, 16, tag, SLICE_CIPHER);
                cipher_ctrl(&mut cd_ctrl, key.len(), 0, SLICE_DRAM_WR);
                (LaCmd::HashCipher, flags | FLAG_CMP_AUTH_RES)
            }
        };
        Ok(Self {
            cmd,
            flags,
            cd: pad64(cd),
            cd_ctrl,
            digest: tag,
        })
    }
}

/// The per-request part of an LA request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaParams {
    /// DMA address of the session's CD.
    pub cd_addr: u64,
    /// Source buffer list.
    pub src: u64,
    /// Destination buffer list (the source's for in-place).
    pub dst: u64,
    /// Where the cipher starts in the payload.
    pub cipher_offset: u32,
    /// Bytes to cipher.
    pub cipher_len: u32,
    /// IV (CBC), counter block (CTR) or 12-byte IV (GCM), zero padded.
    pub iv: [u8; 16],
    /// Where hashing starts in the payload.
    pub auth_offset: u32,
    /// Bytes to hash.
    pub auth_len: u32,
    /// GCM: DMA address of the AAD.
    pub aad_addr: u64,
    /// GCM: AAD bytes.
    pub aad_len: u8,
    /// DMA address of the digest, when not in the buffer.
    pub auth_res_addr: u64,
}

/// The 128-byte request for `session` with `params`.
pub fn request(session: &Session, params: &LaParams) -> Request {
    let mut msg = [0u8; 128];
    msg[1] = session.cmd as u8;
    msg[2] = SERVICE_LA;
    msg[3] = HDR_VALID;
    msg[4..6].copy_from_slice(&session.flags.to_le_bytes());
    msg[6..8].copy_from_slice(&COMN_SGL_CD_ADDR.to_le_bytes());
    msg[8..16].copy_from_slice(&params.cd_addr.to_le_bytes());
    msg[18] = (session.cd.len() / 8) as u8;
    msg[32..40].copy_from_slice(&params.src.to_le_bytes());
    msg[40..48].copy_from_slice(&params.dst.to_le_bytes());
    msg[56..60].copy_from_slice(&params.cipher_offset.to_le_bytes());
    msg[60..64].copy_from_slice(&params.cipher_len.to_le_bytes());
    msg[64..80].copy_from_slice(&params.iv);
    msg[80..84].copy_from_slice(&params.auth_offset.to_le_bytes());
    msg[84..88].copy_from_slice(&params.auth_len.to_le_bytes());
    msg[88..96].copy_from_slice(&params.aad_addr.to_le_bytes());
    msg[96..104].copy_from_slice(&params.auth_res_addr.to_le_bytes());
    msg[104] = params.aad_len;
    if session.flags & FLAG_CMP_AUTH_RES != 0 {
        msg[107] = session.digest as u8;
    }
    msg[108..128].copy_from_slice(&session.cd_ctrl);
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_cipher_configs_match_the_spec_examples() {
        assert_eq!(cipher_config(3, CipherMode::Cbc, Direction::Encrypt), 0x13);
        assert_eq!(cipher_config(3, CipherMode::Cbc, Direction::Decrypt), 0x313);
        // CTR decrypts by encrypting.
        assert_eq!(cipher_config(5, CipherMode::Ctr, Direction::Decrypt), 0x25);
        assert_eq!(auth_config(1, 4, 32), 0x2014);
    }

    #[test]
    fn test_skcipher_request_points_at_a_cipher_only_cd() {
        let key = [0x11u8; 16];
        let session = Session::cipher(&key, CipherMode::Cbc, Direction::Encrypt).unwrap();
        assert_eq!(session.cd.len(), 64);
        assert_eq!(&session.cd[0..4], &0x13u32.to_le_bytes());
        assert_eq!(&session.cd[8..24], &key);
        let params = LaParams {
            cd_addr: 0x5000,
            src: 0x6000,
            dst: 0x6000,
            cipher_len: 32,
            iv: [7; 16],
            ..LaParams::default()
        };
        let msg = request(&session, &params);
        assert_eq!(&msg[1..4], &[0, SERVICE_LA, HDR_VALID]);
        assert_eq!(msg[6], 1, "SGL, 64-bit CD address");
        assert_eq!(msg[18], 8);
        assert_eq!(&msg[60..64], &32u32.to_le_bytes());
        assert_eq!(&msg[64..80], &[7; 16]);
        // cipher_state_sz 2 QW, key 2 QW, config at 0, CIPHER -> DRAM_WR.
        assert_eq!(&msg[108..112], &[2, 2, 0, 0x41]);
    }

    #[test]
    fn test_authenc_layouts_follow_linux() {
        let (inner, outer) = ([1u8; 32], [2u8; 32]);
        let key = [0u8; 16];
        let states = (&inner[..], &outer[..]);
        let enc = Session::authenc(&key, HashAlg::Sha256, states, 32, Direction::Encrypt).unwrap();
        // Cipher block 24 bytes, then the auth block at QW 3.
        assert_eq!(enc.cmd, LaCmd::CipherHash);
        assert_eq!(&enc.cd_ctrl[..4], &[2, 2, 0, 0x21]);
        assert_eq!(enc.cd_ctrl[6], 3);
        assert_eq!(enc.cd_ctrl[7], 0x42);
        assert_eq!(
            enc.cd_ctrl[14],
            3 + 6,
            "state2 after config, counter, state1"
        );
        assert_eq!(&enc.cd[24..28], &0x2014u32.to_le_bytes());
        assert_eq!(&enc.cd[32..36], &64u32.to_be_bytes());
        assert_eq!(&enc.cd[40..72], &inner);
        assert_eq!(&enc.cd[72..104], &outer);
        let dec = Session::authenc(&key, HashAlg::Sha256, states, 32, Direction::Decrypt).unwrap();
        // Auth block 80 bytes first: cipher config at 16 + 2 * 32.
        assert_eq!(dec.cmd, LaCmd::HashCipher);
        assert_eq!(dec.cd_ctrl[2], 10);
        assert_eq!(&dec.cd[80..84], &0x313u32.to_le_bytes());
        assert_eq!(dec.flags & FLAG_CMP_AUTH_RES, FLAG_CMP_AUTH_RES);
        let msg = request(&dec, &LaParams::default());
        assert_eq!(msg[107], 32, "auth_res_sz for the comparison");
    }

    #[test]
    fn test_sha1_states_round_up_to_24_bytes() {
        let s = [0u8; 24];
        let session = Session::hash(HashAlg::Sha1, Some((&s, &s))).unwrap();
        assert_eq!(session.cd_ctrl[13], 24);
        assert_eq!(session.cd_ctrl[14], 5, "state2 at 16 + 24 bytes");
        assert!(Session::hash(HashAlg::Sha1, Some((&s[..20], &s[..20]))).is_err());
    }
}
