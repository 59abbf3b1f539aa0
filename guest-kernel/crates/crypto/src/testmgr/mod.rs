//! Self-tests run when an implementation registers (Linux's testmgr):
//! every known-answer vector of the algorithm, through several data
//! layouts (in place and out of place, one segment and uneven
//! segmentations), both directions; AEAD tags tampered with must be
//! rejected; compressors must inflate reference streams and round-trip
//! their own output.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::api::{Aead, Compression, Direction, Hash, Skcipher};
use crate::data::{split, split_mut, Data};
use crate::error::CryptoError;
use crate::registry::Alg;

pub mod vectors;
use vectors::{AeadVector, CipherVector, CompVector, HashVector};

/// How many data layouts each vector goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thoroughness {
    /// Every layout (host tests, like CONFIG_CRYPTO_MANAGER_EXTRA_TESTS).
    Full,
    /// In place in one segment, and out of place split unevenly: for a
    /// guest where every instruction is emulated.
    Quick,
}

/// A data layout: in place or not, and segment sizes for input and output
/// (empty: one segment).
#[derive(Debug, Clone, Copy)]
struct Layout {
    in_place: bool,
    src: &'static [usize],
    dst: &'static [usize],
}

const LAYOUTS: &[Layout] = &[
    Layout {
        in_place: true,
        src: &[],
        dst: &[],
    },
    Layout {
        in_place: false,
        src: &[7, 9, 1],
        dst: &[16, 3],
    },
    Layout {
        in_place: false,
        src: &[],
        dst: &[],
    },
    Layout {
        in_place: true,
        src: &[1, 15, 17],
        dst: &[],
    },
];

fn layouts(t: Thoroughness) -> &'static [Layout] {
    match t {
        Thoroughness::Full => LAYOUTS,
        Thoroughness::Quick => &LAYOUTS[..2],
    }
}

/// Decodes a hex string from the tables.
pub fn hex(s: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    };
    s.as_bytes()
        .chunks_exact(2)
        .map(|p| (digit(p[0]) << 4) | digit(p[1]))
        .collect()
}

/// Runs `op` on `input` laid out by `layout`, with `out_len` output bytes;
/// returns the output.
fn through(
    layout: &Layout,
    input: &[u8],
    out_len: usize,
    op: &mut dyn FnMut(Data<'_, '_>) -> Result<(), CryptoError>,
) -> Result<Vec<u8>, CryptoError> {
    if layout.in_place {
        let mut buf = input.to_vec();
        buf.resize(input.len().max(out_len), 0);
        let mut segs = split_mut(&mut buf, layout.src);
        op(Data::InPlace(&mut segs))?;
        buf.truncate(out_len);
        Ok(buf)
    } else {
        let srcs = split(input, layout.src);
        let mut out = vec![0u8; out_len];
        let mut dsts = split_mut(&mut out, layout.dst);
        op(Data::OutOfPlace {
            src: &srcs,
            dst: &mut dsts,
        })?;
        Ok(out)
    }
}

fn check(what: &str, i: usize, got: &[u8], want: &[u8]) -> Result<(), CryptoError> {
    if got == want {
        Ok(())
    } else {
        Err(CryptoError::SelfTest(format!(
            "{what} vector {i}: wrong output"
        )))
    }
}

fn fail(what: &str, i: usize, e: CryptoError) -> CryptoError {
    CryptoError::SelfTest(format!("{what} vector {i}: {e}"))
}

/// The self-test of `alg` (its algorithm's vectors), at `thoroughness`.
pub fn test(alg: &Alg, thoroughness: Thoroughness) -> Result<(), CryptoError> {
    let name = alg.info().name;
    let none = || CryptoError::SelfTest(format!("no test for {name}"));
    match alg {
        Alg::Skcipher(a) => {
            let vecs = match name {
                "cbc(aes)" => vectors::CBC_AES,
                "ctr(aes)" => vectors::CTR_AES,
                _ => return Err(none()),
            };
            test_skcipher(a.as_ref(), vecs, thoroughness)
        }
        Alg::Aead(a) => {
            let vecs = match name {
                "gcm(aes)" => vectors::GCM_AES,
                "authenc(hmac(sha1),cbc(aes))" => vectors::AUTHENC_SHA1,
                "authenc(hmac(sha256),cbc(aes))" => vectors::AUTHENC_SHA256,
                "authenc(hmac(sha512),cbc(aes))" => vectors::AUTHENC_SHA512,
                _ => return Err(none()),
            };
            test_aead(a.as_ref(), vecs, thoroughness)
        }
        Alg::Hash(a) => {
            let vecs = match name {
                "sha1" => vectors::SHA1,
                "sha256" => vectors::SHA256,
                "sha512" => vectors::SHA512,
                "hmac(sha1)" => vectors::HMAC_SHA1,
                "hmac(sha256)" => vectors::HMAC_SHA256,
                "hmac(sha512)" => vectors::HMAC_SHA512,
                _ => return Err(none()),
            };
            test_hash(a.as_ref(), vecs, thoroughness)
        }
        Alg::Compression(a) => match name {
            "deflate" => test_comp(a.as_ref(), vectors::DEFLATE),
            _ => Err(none()),
        },
    }
}

fn test_skcipher(
    alg: &dyn Skcipher,
    vecs: &[CipherVector],
    t: Thoroughness,
) -> Result<(), CryptoError> {
    for (i, v) in vecs.iter().enumerate() {
        let (key, iv, pt, ct) = (hex(v.key), hex(v.iv), hex(v.ptext), hex(v.ctext));
        let mut tfm = alg.set_key(&key).map_err(|e| fail("setkey", i, e))?;
        for layout in layouts(t) {
            for (dir, input, want) in [
                (Direction::Encrypt, &pt, &ct),
                (Direction::Decrypt, &ct, &pt),
            ] {
                let got = through(layout, input, want.len(), &mut |data| {
                    tfm.crypt(dir, &iv, data)
                })
                .map_err(|e| fail("cipher", i, e))?;
                check("cipher", i, &got, want)?;
            }
        }
    }
    Ok(())
}

fn test_aead(alg: &dyn Aead, vecs: &[AeadVector], t: Thoroughness) -> Result<(), CryptoError> {
    for (i, v) in vecs.iter().enumerate() {
        let (key, iv, aad, pt, ct) = (
            hex(v.key),
            hex(v.iv),
            hex(v.assoc),
            hex(v.ptext),
            hex(v.ctext),
        );
        let tag = ct.len() - pt.len();
        let mut tfm = alg.set_key(&key, tag).map_err(|e| fail("setkey", i, e))?;
        let plain: Vec<u8> = [&aad[..], &pt[..]].concat();
        let sealed: Vec<u8> = [&aad[..], &ct[..]].concat();
        for layout in layouts(t) {
            let got = through(layout, &plain, sealed.len(), &mut |data| {
                tfm.encrypt(&iv, aad.len(), pt.len(), data)
            })
            .map_err(|e| fail("aead encrypt", i, e))?;
            check("aead encrypt", i, &got, &sealed)?;
            let got = through(layout, &sealed, plain.len(), &mut |data| {
                tfm.decrypt(&iv, aad.len(), ct.len(), data)
            })
            .map_err(|e| fail("aead decrypt", i, e))?;
            check("aead decrypt", i, &got, &plain)?;
        }
        let mut forged = sealed.clone();
        *forged.last_mut().expect("a tag") ^= 1;
        let verdict = through(&LAYOUTS[0], &forged, plain.len(), &mut |data| {
            tfm.decrypt(&iv, aad.len(), ct.len(), data)
        });
        if verdict != Err(CryptoError::BadMessage) {
            return Err(CryptoError::SelfTest(format!(
                "aead vector {i}: a forged tag gave {verdict:?}"
            )));
        }
    }
    Ok(())
}

fn test_hash(alg: &dyn Hash, vecs: &[HashVector], t: Thoroughness) -> Result<(), CryptoError> {
    for (i, v) in vecs.iter().enumerate() {
        let (key, msg, want) = (hex(v.key), hex(v.msg), hex(v.digest));
        let mut tfm = alg.set_key(&key).map_err(|e| fail("setkey", i, e))?;
        for layout in layouts(t) {
            let segs = split(&msg, layout.src);
            let mut got = vec![0u8; alg.digest_size()];
            tfm.digest(&segs, &mut got)
                .map_err(|e| fail("digest", i, e))?;
            check("digest", i, &got, &want)?;
        }
    }
    Ok(())
}

fn test_comp(alg: &dyn Compression, vecs: &[CompVector]) -> Result<(), CryptoError> {
    for (i, v) in vecs.iter().enumerate() {
        let (input, compressed) = (hex(v.input), hex(v.compressed));
        let mut out = vec![0u8; input.len()];
        let n = alg
            .decompress(&compressed, &mut out)
            .map_err(|e| fail("decompress", i, e))?;
        check("decompress", i, &out[..n], &input)?;
        let mut packed = vec![0u8; input.len() + 64];
        let n = alg
            .compress(&input, &mut packed)
            .map_err(|e| fail("compress", i, e))?;
        let mut back = vec![0u8; input.len()];
        let m = alg
            .decompress(&packed[..n], &mut back)
            .map_err(|e| fail("round trip", i, e))?;
        check("round trip", i, &back[..m], &input)?;
        let mut short = vec![0u8; input.len() - 1];
        if alg.decompress(&compressed, &mut short).is_ok() {
            return Err(CryptoError::SelfTest(String::from(
                "decompress into a short buffer succeeded",
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_hex_decodes_pairs() {
        assert_eq!(hex("00ff7a"), [0, 255, 0x7a]);
        assert!(hex("").is_empty());
    }
}
