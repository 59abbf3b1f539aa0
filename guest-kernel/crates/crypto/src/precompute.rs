//! HMAC precomputes as Linux's `qat_alg_do_precomputes` makes them: the
//! hash state after absorbing one block of `key ⊕ ipad` (inner) and of
//! `key ⊕ opad` (outer), written as big-endian words and padded to a
//! multiple of 8 bytes (SHA-1: 20 -> 24). A key longer than a block is
//! hashed first.

use alloc::vec::Vec;

use sha1::Digest;

/// Hashes with a precomputable state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShaAlg {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl ShaAlg {
    /// Block bytes.
    pub fn block_size(self) -> usize {
        match self {
            Self::Sha1 | Self::Sha256 => 64,
            Self::Sha512 => 128,
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

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// The state after compressing one `block` from the standard IV, as
    /// big-endian bytes padded to a multiple of 8.
    fn state_after(self, block: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Self::Sha1 => {
                let mut state = SHA1_IV;
                let mut b = [0u8; 64];
                b.copy_from_slice(block);
                sha1::block_api::compress(&mut state, &[b]);
                state
                    .iter()
                    .for_each(|w| out.extend_from_slice(&w.to_be_bytes()));
            }
            Self::Sha256 => {
                let mut state = SHA256_IV;
                let mut b = [0u8; 64];
                b.copy_from_slice(block);
                sha2::block_api::compress256(&mut state, &[b]);
                state
                    .iter()
                    .for_each(|w| out.extend_from_slice(&w.to_be_bytes()));
            }
            Self::Sha512 => {
                let mut state = SHA512_IV;
                let mut b = [0u8; 128];
                b.copy_from_slice(block);
                sha2::block_api::compress512(&mut state, &[b]);
                state
                    .iter()
                    .for_each(|w| out.extend_from_slice(&w.to_be_bytes()));
            }
        }
        out.resize(out.len().next_multiple_of(8), 0);
        out
    }
}

/// FIPS 180-4 initial hash values.
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];
const SHA512_IV: [u64; 8] = [
    0x6a09_e667_f3bc_c908,
    0xbb67_ae85_84ca_a73b,
    0x3c6e_f372_fe94_f82b,
    0xa54f_f53a_5f1d_36f1,
    0x510e_527f_ade6_82d1,
    0x9b05_688c_2b3e_6c1f,
    0x1f83_d9ab_fb41_bd6b,
    0x5be0_cd19_137e_2179,
];

/// The inner and outer states for an HMAC with `key`.
pub fn hmac_states(alg: ShaAlg, key: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let block = alg.block_size();
    let mut padded = if key.len() > block {
        alg.digest(key)
    } else {
        key.to_vec()
    };
    padded.resize(block, 0);
    let inner: Vec<u8> = padded.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = padded.iter().map(|b| b ^ 0x5c).collect();
    (alg.state_after(&inner), alg.state_after(&outer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn test_sha256_states_match_the_spec_vector() {
        let key: Vec<u8> = (0..32).collect();
        let (inner, outer) = hmac_states(ShaAlg::Sha256, &key);
        assert_eq!(
            inner,
            hex("82a26513761c632fbc26416e638933010a68c71d1fe0fa8dae920cf900f3f280")
        );
        assert_eq!(
            outer,
            hex("2367d3671fd96f8babce4f4dfcaef265bc99abd9c4550ac474cb6365b8eef166")
        );
    }

    #[test]
    fn test_sha1_state_pads_to_24_and_sha512_is_64() {
        let (inner, outer) = hmac_states(ShaAlg::Sha1, b"Jefe");
        assert_eq!((inner.len(), outer.len()), (24, 24));
        assert_eq!(&inner[20..], &[0; 4]);
        let (inner, _) = hmac_states(ShaAlg::Sha512, &[0xaa; 131]);
        assert_eq!(inner.len(), 64);
    }
}
