//! authenc keys (Linux's `crypto_authenc_extractkeys`): an rtattr header
//! (length 8, type 1 = CRYPTO_AUTHENC_KEYA_PARAM) carrying the
//! encryption key's length big-endian, then the auth key, then the
//! encryption key.

use crate::error::CryptoError;

/// rtattr type of the parameter block.
const KEYA_PARAM: u16 = 1;

/// The two keys of an authenc key blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthencKeys<'a> {
    /// The HMAC key.
    pub auth: &'a [u8],
    /// The AES key.
    pub enc: &'a [u8],
}

/// Splits `blob` into its keys.
pub fn split(blob: &[u8]) -> Result<AuthencKeys<'_>, CryptoError> {
    if blob.len() < 8 {
        return Err(CryptoError::BadKey);
    }
    let len = u16::from_le_bytes([blob[0], blob[1]]);
    let kind = u16::from_le_bytes([blob[2], blob[3]]);
    let enc_len = u32::from_be_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    let keys = &blob[8..];
    if len != 8 || kind != KEYA_PARAM || enc_len > keys.len() {
        return Err(CryptoError::BadKey);
    }
    let (auth, enc) = keys.split_at(keys.len() - enc_len);
    Ok(AuthencKeys { auth, enc })
}

/// The blob for `auth` and `enc` (for callers and tests).
pub fn blob(auth: &[u8], enc: &[u8]) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::with_capacity(8 + auth.len() + enc.len());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&KEYA_PARAM.to_le_bytes());
    out.extend_from_slice(&(enc.len() as u32).to_be_bytes());
    out.extend_from_slice(auth);
    out.extend_from_slice(enc);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_blob_round_trips_and_bad_headers_fail() {
        let b = blob(b"authkey", b"0123456789abcdef");
        let keys = split(&b).unwrap();
        assert_eq!(keys.auth, b"authkey");
        assert_eq!(keys.enc, b"0123456789abcdef");
        let mut bad = b.clone();
        bad[2] = 2;
        assert_eq!(split(&bad), Err(CryptoError::BadKey));
        assert_eq!(split(&b[..6]), Err(CryptoError::BadKey));
    }
}
