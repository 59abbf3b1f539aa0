//! Requests and content descriptors built the way `qat_algs.c`,
//! `qat_bl.c` and `adf_gen4_dc.c` build them (field by field, from the
//! message layouts), plus HMAC precomputes as `qat_alg_do_precomputes`
//! exports them.

use sha2::digest::generic_array::GenericArray;

use super::harness::Driver;

/// LA flags as `qat_alg_init_common_hdr` sets them (16-byte IV field).
pub const LA_FLAGS: u16 = 1 << 2;
/// RET_AUTH_RES.
pub const RET_AUTH: u16 = 1 << 5;
/// CMP_AUTH_RES.
pub const CMP_AUTH: u16 = 1 << 6;
/// DIGEST_IN_BUFFER.
pub const DIGEST_IN_BUFFER: u16 = 1 << 10;
/// Protocol GCM plus the 12-byte IV flag.
pub const GCM_FLAGS: u16 = (2 << 7) | (1 << 11);

/// Hex to bytes.
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A 128-byte LA request with the common header, SGL pointers.
pub fn la_request(
    cmd: u8,
    flags: u16,
    cd: u64,
    cd_qw: u8,
    src: u64,
    dst: u64,
    opaque: u64,
) -> [u8; 128] {
    let mut r = [0u8; 128];
    r[1] = cmd;
    r[2] = 4;
    r[3] = 0x80;
    r[4..6].copy_from_slice(&flags.to_le_bytes());
    r[6..8].copy_from_slice(&1u16.to_le_bytes()); // SGL, 64-bit CD address
    r[8..16].copy_from_slice(&cd.to_le_bytes());
    r[18] = cd_qw;
    r[24..32].copy_from_slice(&opaque.to_le_bytes());
    r[32..40].copy_from_slice(&src.to_le_bytes());
    r[40..48].copy_from_slice(&dst.to_le_bytes());
    r
}

/// Sets the cipher request parameters (offset, length, IV).
pub fn cipher_params(r: &mut [u8; 128], offset: u32, len: u32, iv: &[u8]) {
    r[56..60].copy_from_slice(&offset.to_le_bytes());
    r[60..64].copy_from_slice(&len.to_le_bytes());
    r[64..64 + iv.len()].copy_from_slice(iv);
}

/// Sets the auth request parameters.
pub fn auth_params(r: &mut [u8; 128], offset: u32, len: u32) {
    r[80..84].copy_from_slice(&offset.to_le_bytes());
    r[84..88].copy_from_slice(&len.to_le_bytes());
}

/// The cipher cd_ctrl: key size (bytes), state 16 bytes, config offset.
pub fn cipher_ctrl(r: &mut [u8; 128], key_len: usize, cfg_offset_qw: u8, next: u8) {
    r[108] = 2;
    r[109] = (key_len / 8) as u8;
    r[110] = cfg_offset_qw;
    r[111] = 1 | (next << 4);
}

/// The auth cd_ctrl for SHA with precomputes.
pub fn auth_ctrl(r: &mut [u8; 128], hash_offset_qw: u8, digest: u8, state_len: u8, next: u8) {
    r[113] = 0;
    r[114] = hash_offset_qw;
    r[115] = 2 | (next << 4);
    r[118] = digest;
    r[119] = digest;
    r[121] = state_len.next_multiple_of(8);
    r[122] = hash_offset_qw + ((16 + u16::from(state_len.next_multiple_of(8))) / 8) as u8;
    r[123] = state_len.next_multiple_of(8);
}

/// A buffer list (`qat_alg_buf_list`) over `segments`, 64-byte aligned.
pub fn buffer_list(d: &mut Driver, segments: &[(u64, u32)]) -> u64 {
    let mut raw = vec![0u8; 16];
    raw[8..12].copy_from_slice(&(segments.len() as u32).to_le_bytes());
    raw[12..16].copy_from_slice(&(segments.len() as u32).to_le_bytes());
    for &(addr, len) in segments {
        raw.extend_from_slice(&len.to_le_bytes());
        raw.extend_from_slice(&[0; 4]);
        raw.extend_from_slice(&addr.to_le_bytes());
    }
    d.put(&raw)
}

/// Puts `data` in guest memory split into `pieces` segments and returns
/// the list and the segments.
pub fn scattered(d: &mut Driver, data: &[u8], pieces: usize) -> (u64, Vec<(u64, u32)>) {
    let chunk = data.len().div_ceil(pieces.max(1)).max(1);
    let segments: Vec<(u64, u32)> = data
        .chunks(chunk)
        .map(|c| {
            let at = d.put(c);
            d.alloc(64, 64); // a gap, so segments are not contiguous
            (at, c.len() as u32)
        })
        .collect();
    (buffer_list(d, &segments), segments)
}

/// Reads the concatenation of `segments`.
pub fn gather(d: &Driver, segments: &[(u64, u32)]) -> Vec<u8> {
    segments
        .iter()
        .flat_map(|&(a, l)| d.get(a, l as usize))
        .collect()
}

/// The hash algorithms with precomputes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sha {
    Sha1,
    Sha256,
    Sha512,
}

impl Sha {
    pub fn algo(self) -> u32 {
        match self {
            Sha::Sha1 => 1,
            Sha::Sha256 => 4,
            Sha::Sha512 => 6,
        }
    }
    pub fn block(self) -> usize {
        if self == Sha::Sha512 {
            128
        } else {
            64
        }
    }
    pub fn digest(self) -> usize {
        match self {
            Sha::Sha1 => 20,
            Sha::Sha256 => 32,
            Sha::Sha512 => 64,
        }
    }
    /// The state after compressing one block `block` from the IV, big endian.
    fn state_after(self, block: &[u8]) -> Vec<u8> {
        match self {
            Sha::Sha1 => {
                let mut s = [
                    0x67452301u32,
                    0xefcdab89,
                    0x98badcfe,
                    0x10325476,
                    0xc3d2e1f0,
                ];
                sha1::compress(&mut s, &[*GenericArray::from_slice(block)]);
                s.iter().flat_map(|w| w.to_be_bytes()).collect()
            }
            Sha::Sha256 => {
                let mut s = [
                    0x6a09e667u32,
                    0xbb67ae85,
                    0x3c6ef372,
                    0xa54ff53a,
                    0x510e527f,
                    0x9b05688c,
                    0x1f83d9ab,
                    0x5be0cd19,
                ];
                sha2::compress256(&mut s, &[*GenericArray::from_slice(block)]);
                s.iter().flat_map(|w| w.to_be_bytes()).collect()
            }
            Sha::Sha512 => {
                let mut s = [
                    0x6a09e667f3bcc908u64,
                    0xbb67ae8584caa73b,
                    0x3c6ef372fe94f82b,
                    0xa54ff53a5f1d36f1,
                    0x510e527fade682d1,
                    0x9b05688c2b3e6c1f,
                    0x1f83d9abfb41bd6b,
                    0x5be0cd19137e2179,
                ];
                sha2::compress512(&mut s, &[*GenericArray::from_slice(block)]);
                s.iter().flat_map(|w| w.to_be_bytes()).collect()
            }
        }
    }

    /// `qat_alg_do_precomputes`: the auth block (config, counter, state1,
    /// state2 at state1 + round8(state size)).
    pub fn auth_block(self, key: &[u8], digest: usize) -> Vec<u8> {
        let mut k = key.to_vec();
        assert!(
            k.len() <= self.block(),
            "long keys are hashed first by the driver"
        );
        k.resize(self.block(), 0);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let state = self.digest().next_multiple_of(8);
        let mut blk = vec![0u8; 16 + 2 * state];
        let config = (1u32 << 4) | self.algo() | ((digest as u32) << 8);
        blk[0..4].copy_from_slice(&config.to_le_bytes());
        blk[8..12].copy_from_slice(&(self.block() as u32).to_be_bytes());
        let inner = self.state_after(&ipad);
        let outer = self.state_after(&opad);
        blk[16..16 + inner.len()].copy_from_slice(&inner);
        blk[16 + state..16 + state + outer.len()].copy_from_slice(&outer);
        blk
    }
}

/// A skcipher content descriptor (`icp_qat_hw_cipher_algo_blk`, legacy).
pub fn cipher_block(config: u32, key: &[u8]) -> Vec<u8> {
    let mut cd = vec![0u8; 128];
    cd[0..4].copy_from_slice(&config.to_le_bytes());
    cd[8..8 + key.len()].copy_from_slice(key);
    cd
}

/// A compression request as `qat_comp_create_req` fills the GEN4 template.
pub fn comp_request(cmd: u8, src: u64, slen: u32, dst: u64, dlen: u32, opaque: u64) -> [u8; 128] {
    let mut r = [0u8; 128];
    r[1] = cmd;
    r[2] = 9;
    r[3] = 0x80;
    r[4..6].copy_from_slice(&(1u16 << 3).to_le_bytes());
    r[6..8].copy_from_slice(&3u16.to_le_bytes());
    r[24..32].copy_from_slice(&opaque.to_le_bytes());
    r[32..40].copy_from_slice(&src.to_le_bytes());
    r[40..48].copy_from_slice(&dst.to_le_bytes());
    r[48..52].copy_from_slice(&slen.to_le_bytes());
    r[52..56].copy_from_slice(&dlen.to_le_bytes());
    r[56..60].copy_from_slice(&slen.to_le_bytes());
    r[60..64].copy_from_slice(&dlen.to_le_bytes());
    r[64..68].copy_from_slice(&0u32.to_le_bytes());
    r[68..72].copy_from_slice(&1u32.to_le_bytes());
    r[72..76].copy_from_slice(&0x30043u32.to_le_bytes());
    r
}
