//! AES-GCM (protocol 2 on the cipher and auth slices): 12-byte IVs,
//! AES-128 or AES-256, tags of 4 to 16 bytes. Sealing and full-tag opening
//! run on `ring` (AES-NI/VAES and CLMUL); a truncated tag is checked by
//! decrypting with the counter mode GCM uses and resealing the plaintext.

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, AES_256_GCM};
use thiserror::Error;

/// Why a GCM request fails.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum GcmError {
    /// Key, IV or tag sizes this slice does not implement.
    #[error("unsupported GCM parameters")]
    Unsupported,
    /// The tag does not match: the data is not authentic.
    #[error("GCM tag mismatch")]
    TagMismatch,
}

fn key(raw: &[u8]) -> Result<LessSafeKey, GcmError> {
    let alg = match raw.len() {
        16 => &AES_128_GCM,
        32 => &AES_256_GCM,
        _ => return Err(GcmError::Unsupported),
    };
    let unbound = UnboundKey::new(alg, raw).map_err(|_| GcmError::Unsupported)?;
    Ok(LessSafeKey::new(unbound))
}

fn check_tag_len(len: usize) -> Result<(), GcmError> {
    if (4..=16).contains(&len) {
        Ok(())
    } else {
        Err(GcmError::Unsupported)
    }
}

/// Encrypts `data` in place; returns the first `tag_len` bytes of the tag.
pub fn seal(
    raw_key: &[u8],
    iv: &[u8; 12],
    aad: &[u8],
    data: &mut [u8],
    tag_len: usize,
) -> Result<Vec<u8>, GcmError> {
    check_tag_len(tag_len)?;
    let k = key(raw_key)?;
    let tag = k
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*iv), Aad::from(aad), data)
        .map_err(|_| GcmError::Unsupported)?;
    Ok(tag.as_ref().get(..tag_len).unwrap_or_default().to_vec())
}

/// Checks `tag` and decrypts `data` in place; on a mismatch `data` is
/// left unspecified and must not be written back.
pub fn open(
    raw_key: &[u8],
    iv: &[u8; 12],
    aad: &[u8],
    data: &mut [u8],
    tag: &[u8],
) -> Result<(), GcmError> {
    check_tag_len(tag.len())?;
    let k = key(raw_key)?;
    if let Ok(full) = Tag::try_from(tag) {
        return k
            .open_in_place_separate_tag(
                Nonce::assume_unique_for_key(*iv),
                Aad::from(aad),
                full,
                data,
                0..,
            )
            .map(|_| ())
            .map_err(|_| GcmError::TagMismatch);
    }
    // Truncated tag: recover the plaintext with the GCM keystream (the
    // counter block starts at IV || 2), then recompute the full tag.
    let ciphertext = data.to_vec();
    let mut counter = [0u8; 16];
    counter[..12].copy_from_slice(iv);
    counter[15] = 2;
    keystream(raw_key, &counter, data)?;
    let mut again = data.to_vec();
    let full = seal(raw_key, iv, aad, &mut again, 16)?;
    let matches = again == ciphertext && ring_eq(full.get(..tag.len()).unwrap_or_default(), tag);
    if matches {
        Ok(())
    } else {
        Err(GcmError::TagMismatch)
    }
}

/// AES-CTR with GCM's 32-bit big-endian counter.
fn keystream(raw_key: &[u8], counter: &[u8; 16], data: &mut [u8]) -> Result<(), GcmError> {
    use aes::cipher::{KeyIvInit, StreamCipher};
    match raw_key.len() {
        16 => ctr::Ctr32BE::<aes::Aes128>::new_from_slices(raw_key, counter)
            .map_err(|_| GcmError::Unsupported)?
            .apply_keystream(data),
        32 => ctr::Ctr32BE::<aes::Aes256>::new_from_slices(raw_key, counter)
            .map_err(|_| GcmError::Unsupported)?
            .apply_keystream(data),
        _ => return Err(GcmError::Unsupported),
    }
    Ok(())
}

/// Constant-time comparison.
fn ring_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
    fn test_gcm_spec_case_2_and_truncated_tags() {
        let key = [0u8; 16];
        let iv = [0u8; 12];
        let mut data = vec![0u8; 16];
        let tag = seal(&key, &iv, &[], &mut data, 16).unwrap();
        assert_eq!(data, hex("0388dace60b6a392f328c2b971b2fe78"));
        assert_eq!(tag, hex("ab6e47d42cec13bdf53a67b21257bddf"));
        let mut back = data.clone();
        open(&key, &iv, &[], &mut back, &tag[..12]).unwrap();
        assert_eq!(back, vec![0u8; 16]);
        let mut bad = data.clone();
        assert_eq!(
            open(
                &key,
                &iv,
                &[],
                &mut bad,
                &hex("ab6e47d42cec13bdf53a67b2")[..11]
            ),
            Ok(())
        );
        assert_eq!(
            open(&key, &iv, &[], &mut data.clone(), &[0u8; 12]),
            Err(GcmError::TagMismatch)
        );
        assert_eq!(
            open(&key, &iv, &[], &mut data, &[0u8; 3]),
            Err(GcmError::Unsupported)
        );
        assert_eq!(
            seal(&[0u8; 24], &iv, &[], &mut [], 16),
            Err(GcmError::Unsupported)
        );
    }
}
