//! The auth slice's hashes: SHA-1, SHA-224/256 and SHA-384/512, either
//! from the standard initial state (mode 0) or resumed from a state the
//! driver precomputed (mode 1, HMAC: the inner and outer states after one
//! block of key ^ ipad / key ^ opad), as `qat_alg_do_precomputes` lays
//! them out: big-endian state words, the absorbed byte count alongside.

use sha2::digest::generic_array::GenericArray;

/// The hash algorithms the auth config word can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1 (auth algorithm 1).
    Sha1,
    /// SHA-224 (3).
    Sha224,
    /// SHA-256 (4).
    Sha256,
    /// SHA-384 (5).
    Sha384,
    /// SHA-512 (6).
    Sha512,
}

/// A hash state in progress: the chaining words and bytes absorbed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Words {
    Sha1([u32; 5]),
    Sha256([u32; 8]),
    Sha512([u64; 8]),
}

const SHA1_IV: [u32; 5] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
const SHA224_IV: [u32; 8] = [
    0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7, 0xbefa4fa4,
];
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const SHA384_IV: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

impl HashAlg {
    /// The algorithm for an auth config word's algorithm field.
    pub fn from_auth_algo(algo: u32) -> Option<Self> {
        Some(match algo {
            1 => Self::Sha1,
            3 => Self::Sha224,
            4 => Self::Sha256,
            5 => Self::Sha384,
            6 => Self::Sha512,
            _ => return None,
        })
    }

    /// Bytes per block.
    pub fn block_len(self) -> usize {
        match self {
            Self::Sha1 | Self::Sha224 | Self::Sha256 => 64,
            Self::Sha384 | Self::Sha512 => 128,
        }
    }

    /// Bytes of the full digest.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Bytes of a precomputed state in the content descriptor (state1_sz).
    pub fn state_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 | Self::Sha256 => 32,
            Self::Sha384 | Self::Sha512 => 64,
        }
    }

    fn initial(self) -> Words {
        match self {
            Self::Sha1 => Words::Sha1(SHA1_IV),
            Self::Sha224 => Words::Sha256(SHA224_IV),
            Self::Sha256 => Words::Sha256(SHA256_IV),
            Self::Sha384 => Words::Sha512(SHA384_IV),
            Self::Sha512 => Words::Sha512(SHA512_IV),
        }
    }

    /// Parses a big-endian state of `state_len` bytes.
    fn state_from(self, bytes: &[u8]) -> Option<Words> {
        let bytes = bytes.get(..self.state_len())?;
        Some(match self.initial() {
            Words::Sha1(mut w) => {
                for (word, b) in w.iter_mut().zip(bytes.chunks_exact(4)) {
                    *word = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                }
                Words::Sha1(w)
            }
            Words::Sha256(mut w) => {
                for (word, b) in w.iter_mut().zip(bytes.chunks_exact(4)) {
                    *word = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                }
                Words::Sha256(w)
            }
            Words::Sha512(mut w) => {
                for (word, b) in w.iter_mut().zip(bytes.chunks_exact(8)) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    *word = u64::from_be_bytes(a);
                }
                Words::Sha512(w)
            }
        })
    }

    /// The plain digest of `message`.
    pub fn digest(self, message: &[u8]) -> Vec<u8> {
        finish(self, self.initial(), 0, message)
    }

    /// The digest of `message` continued from the big-endian `state` after
    /// `absorbed` bytes (None if the state is too short).
    pub fn resume(self, state: &[u8], absorbed: u64, message: &[u8]) -> Option<Vec<u8>> {
        Some(finish(self, self.state_from(state)?, absorbed, message))
    }

    /// HMAC from precomputed inner and outer states (each after one block).
    pub fn hmac_resume(self, inner: &[u8], outer: &[u8], message: &[u8]) -> Option<Vec<u8>> {
        let block = self.block_len() as u64;
        let inner_digest = self.resume(inner, block, message)?;
        self.resume(outer, block, &inner_digest)
    }
}

/// Absorbs `message` (after `absorbed` bytes) and pads: the digest bytes.
fn finish(alg: HashAlg, mut words: Words, absorbed: u64, message: &[u8]) -> Vec<u8> {
    let block = alg.block_len();
    let full = message.len() - message.len() % block;
    compress(&mut words, &message[..full]);
    let total_bits = (absorbed.wrapping_add(message.len() as u64)).wrapping_mul(8);
    let len_field = if block == 128 { 16 } else { 8 };
    let mut tail = message[full..].to_vec();
    tail.push(0x80);
    while !(tail.len() + len_field).is_multiple_of(block) {
        tail.push(0);
    }
    if len_field == 16 {
        tail.extend_from_slice(&[0u8; 8]);
    }
    tail.extend_from_slice(&total_bits.to_be_bytes());
    compress(&mut words, &tail);
    let mut out = match words {
        Words::Sha1(w) => w.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<_>>(),
        Words::Sha256(w) => w.iter().flat_map(|x| x.to_be_bytes()).collect(),
        Words::Sha512(w) => w.iter().flat_map(|x| x.to_be_bytes()).collect(),
    };
    out.truncate(alg.digest_len());
    out
}

/// Runs the compression function over whole blocks of `data`.
fn compress(words: &mut Words, data: &[u8]) {
    match words {
        Words::Sha1(w) => {
            for b in data.chunks_exact(64) {
                sha1::compress(w, std::slice::from_ref(GenericArray::from_slice(b)));
            }
        }
        Words::Sha256(w) => {
            for b in data.chunks_exact(64) {
                sha2::compress256(w, std::slice::from_ref(GenericArray::from_slice(b)));
            }
        }
        Words::Sha512(w) => {
            for b in data.chunks_exact(128) {
                sha2::compress512(w, std::slice::from_ref(GenericArray::from_slice(b)));
            }
        }
    }
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
    fn test_plain_digests_match_fips_180_vectors() {
        assert_eq!(
            HashAlg::Sha1.digest(b"abc"),
            hex("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            HashAlg::Sha256.digest(b"abc"),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            HashAlg::Sha224.digest(b"abc"),
            hex("23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
        );
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(
            HashAlg::Sha256.digest(long),
            hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        );
        assert_eq!(
            HashAlg::Sha512.digest(b"abc"),
            hex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        );
    }

    #[test]
    fn test_resumed_state_equals_hash_of_whole_message() {
        let prefix = [0x36u8; 64];
        let mut state = [0u32; 8];
        state.copy_from_slice(&SHA256_IV);
        sha2::compress256(&mut state, &[*GenericArray::from_slice(&prefix)]);
        let be: Vec<u8> = state.iter().flat_map(|w| w.to_be_bytes()).collect();
        let mut whole = prefix.to_vec();
        whole.extend_from_slice(b"message");
        assert_eq!(
            HashAlg::Sha256.resume(&be, 64, b"message").unwrap(),
            HashAlg::Sha256.digest(&whole)
        );
        assert_eq!(HashAlg::Sha256.resume(&be[..31], 64, b"x"), None);
    }
}
