//! Symmetric crypto requests built as qat_algs.c builds them, checked
//! against published known-answer vectors (NIST SP 800-38A, FIPS 180,
//! IEEE 1619, RFC 2202/4231, the GCM specification's test cases).

use super::build::*;
use super::harness::*;

const KEY128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const KEY256: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const IV: &str = "000102030405060708090a0b0c0d0e0f";
const PT: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
                  30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";

/// Runs a skcipher request (qat_alg_skcipher_init_com) over `data`
/// scattered in `pieces`, in place or out of place; returns the output.
#[allow(clippy::too_many_arguments)] // mirrors the driver's request fields
fn skcipher(
    d: &mut Driver,
    ring: &mut RingPair,
    config: u32,
    key: &[u8],
    iv: &[u8],
    data: &[u8],
    pieces: usize,
    in_place: bool,
) -> (u8, Vec<u8>) {
    let cd = d.put(&cipher_block(config, key));
    let (src, src_segs) = scattered(d, data, pieces);
    let (dst, dst_segs) = if in_place {
        (src, src_segs.clone())
    } else {
        scattered(d, &vec![0u8; data.len()], pieces + 1)
    };
    let mut r = la_request(0, LA_FLAGS, cd, 16, src, dst, 0x51);
    cipher_params(&mut r, 0, data.len() as u32, iv);
    cipher_ctrl(&mut r, key.len(), 0, 4);
    let resp = d.roundtrip(ring, &r);
    assert_eq!(u64::from_le_bytes(resp[8..16].try_into().unwrap()), 0x51);
    (resp[6], gather(d, &dst_segs))
}

fn setup() -> (Driver, RingPair) {
    let mut d = Driver::new();
    d.probe();
    let ring = d.ring_pair(1, 10, 8);
    (d, ring)
}

#[test]
fn test_aes_cbc_sp800_38a_in_place_sgl_and_out_of_place() {
    let (mut d, mut ring) = setup();
    let ct128 = hex(
        "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2
                     73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7",
    );
    let (st, out) = skcipher(
        &mut d,
        &mut ring,
        0x13,
        &hex(KEY128),
        &hex(IV),
        &hex(PT),
        3,
        true,
    );
    assert_eq!((st, out), (0, ct128.clone()));
    let (st, out) = skcipher(
        &mut d,
        &mut ring,
        0x313,
        &hex(KEY128),
        &hex(IV),
        &ct128,
        2,
        false,
    );
    assert_eq!((st, out), (0, hex(PT)));
    let ct256 = hex(
        "f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d
                     39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b",
    );
    let (st, out) = skcipher(
        &mut d,
        &mut ring,
        0x15,
        &hex(KEY256),
        &hex(IV),
        &hex(PT),
        1,
        false,
    );
    assert_eq!((st, out), (0, ct256.clone()));
    let (st, out) = skcipher(
        &mut d,
        &mut ring,
        0x315,
        &hex(KEY256),
        &hex(IV),
        &ct256,
        4,
        true,
    );
    assert_eq!((st, out), (0, hex(PT)));
}

#[test]
fn test_aes_ctr_sp800_38a_and_decrypt_with_encrypt_config() {
    let (mut d, mut ring) = setup();
    let ctr = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    let ct = hex(
        "874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff
                  5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee",
    );
    let (st, out) = skcipher(
        &mut d,
        &mut ring,
        0x23,
        &hex(KEY128),
        &ctr,
        &hex(PT),
        2,
        true,
    );
    assert_eq!((st, out), (0, ct.clone()));
    // Linux decrypts CTR with the encrypt config; odd lengths work.
    let (st, out) = skcipher(
        &mut d,
        &mut ring,
        0x23,
        &hex(KEY128),
        &ctr,
        &ct[..37],
        3,
        false,
    );
    assert_eq!((st, out), (0, hex(PT)[..37].to_vec()));
}

#[test]
fn test_aes_xts_ieee1619_vectors_and_ciphertext_stealing() {
    let (mut d, mut ring) = setup();
    let (st, out) = skcipher(
        &mut d, &mut ring, 0x63, &[0; 32], &[0; 16], &[0; 32], 1, true,
    );
    assert_eq!(
        (st, out),
        (
            0,
            hex("917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e")
        )
    );
    let mut key = vec![0x11u8; 16];
    key.extend_from_slice(&[0x22; 16]);
    let mut tweak = [0u8; 16];
    tweak[..5].copy_from_slice(&[0x33; 5]);
    let expected = hex("c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0");
    let (st, out) = skcipher(&mut d, &mut ring, 0x63, &key, &tweak, &[0x44; 32], 2, false);
    assert_eq!((st, out), (0, expected.clone()));
    let (st, out) = skcipher(&mut d, &mut ring, 0x363, &key, &tweak, &expected, 2, true);
    assert_eq!((st, out), (0, vec![0x44; 32]));
    // Ciphertext stealing: 37 bytes round-trip, AES-256-XTS.
    let key = (0..64u8).collect::<Vec<_>>();
    let pt = (0..37u8).collect::<Vec<_>>();
    let (st, ct) = skcipher(&mut d, &mut ring, 0x65, &key, &tweak, &pt, 3, false);
    assert_eq!(st, 0);
    assert_ne!(ct, pt);
    let (st, back) = skcipher(&mut d, &mut ring, 0x365, &key, &tweak, &ct, 2, false);
    assert_eq!((st, back), (0, pt));
}

/// A plain or HMAC hash (cmd AUTH) of `msg`, digest at auth_res_addr.
fn auth(d: &mut Driver, ring: &mut RingPair, sha: Sha, key: Option<&[u8]>, msg: &[u8]) -> Vec<u8> {
    let blk = match key {
        Some(k) => sha.auth_block(k, sha.digest()),
        None => {
            let mut b = vec![0u8; 16 + 2 * sha.digest().next_multiple_of(8)];
            b[0..4].copy_from_slice(&(sha.algo() | (sha.digest() as u32) << 8).to_le_bytes());
            b
        }
    };
    let cd = d.put(&blk);
    let (src, _) = scattered(d, msg, 2);
    let res = d.alloc(64, 64);
    let mut r = la_request(
        1,
        LA_FLAGS | RET_AUTH,
        cd,
        (blk.len() / 8) as u8,
        src,
        src,
        9,
    );
    auth_params(&mut r, 0, msg.len() as u32);
    r[96..104].copy_from_slice(&res.to_le_bytes());
    auth_ctrl(&mut r, 0, sha.digest() as u8, sha.digest() as u8, 4);
    let resp = d.roundtrip(ring, &r);
    assert_eq!(resp[6], 0);
    d.get(res, sha.digest())
}

#[test]
fn test_sha_fips_180_vectors() {
    let (mut d, mut ring) = setup();
    assert_eq!(
        auth(&mut d, &mut ring, Sha::Sha1, None, b"abc"),
        hex("a9993e364706816aba3e25717850c26c9cd0d89d")
    );
    assert_eq!(
        auth(&mut d, &mut ring, Sha::Sha256, None, b"abc"),
        hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(
        auth(&mut d, &mut ring, Sha::Sha512, None, b"abc"),
        hex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    );
}

#[test]
fn test_hmac_from_precomputes_rfc2202_and_rfc4231_case_2() {
    let (mut d, mut ring) = setup();
    let msg = b"what do ya want for nothing?";
    assert_eq!(
        auth(&mut d, &mut ring, Sha::Sha1, Some(b"Jefe"), msg),
        hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    );
    assert_eq!(
        auth(&mut d, &mut ring, Sha::Sha256, Some(b"Jefe"), msg),
        hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    );
    assert_eq!(
        auth(&mut d, &mut ring, Sha::Sha512, Some(b"Jefe"), msg),
        hex("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    );
}

/// authenc(hmac(sha), cbc(aes)) as qat_alg_aead_init_{enc,dec}_session
/// and qat_alg_aead_{enc,dec} build it; `buf` = the source payload, AAD ‖
/// text (‖ digest room, or the digest to check). `dst_len`: None in place,
/// else an out-of-place destination of that many bytes (pre-filled 0x55).
#[allow(clippy::too_many_arguments)] // mirrors the driver's request fields
fn authenc(
    d: &mut Driver,
    ring: &mut RingPair,
    sha: Sha,
    enc_key: &[u8],
    auth_key: &[u8],
    decrypt: bool,
    assoclen: u32,
    cryptlen: u32,
    buf: &[u8],
    dst_len: Option<usize>,
) -> (u8, Vec<u8>) {
    let digest = sha.digest();
    let blk = sha.auth_block(auth_key, digest);
    let mut cd = vec![0u8; 384];
    let mut r;
    let (src, src_segs) = scattered(d, buf, 3);
    let (dst, dst_segs) = match dst_len {
        None => (src, src_segs.clone()),
        Some(n) => scattered(d, &vec![0x55u8; n], 2),
    };
    let alg = 3 + (enc_key.len() as u32 - 16) / 8;
    if !decrypt {
        cd[0..4].copy_from_slice(&(0x10 | alg).to_le_bytes());
        cd[8..8 + enc_key.len()].copy_from_slice(enc_key);
        let hash_at = 16 + enc_key.len();
        cd[hash_at..hash_at + blk.len()].copy_from_slice(&blk);
        let cd_addr = d.put(&cd);
        r = la_request(
            2,
            LA_FLAGS | DIGEST_IN_BUFFER | RET_AUTH,
            cd_addr,
            48,
            src,
            dst,
            3,
        );
        cipher_ctrl(&mut r, enc_key.len(), 0, 2);
        auth_ctrl(&mut r, (hash_at / 8) as u8, digest as u8, digest as u8, 4);
        cipher_params(&mut r, assoclen, cryptlen, &hex(IV));
        auth_params(&mut r, 0, assoclen + cryptlen);
    } else {
        cd[..blk.len()].copy_from_slice(&blk);
        let cipher_at = 16 + 2 * digest.next_multiple_of(8);
        cd[cipher_at..cipher_at + 4].copy_from_slice(&(0x310 | alg).to_le_bytes());
        cd[cipher_at + 8..cipher_at + 8 + enc_key.len()].copy_from_slice(enc_key);
        let cd_addr = d.put(&cd);
        r = la_request(
            3,
            LA_FLAGS | DIGEST_IN_BUFFER | CMP_AUTH,
            cd_addr,
            48,
            src,
            dst,
            3,
        );
        cipher_ctrl(&mut r, enc_key.len(), (cipher_at / 8) as u8, 4);
        auth_ctrl(&mut r, 0, digest as u8, digest as u8, 1);
        r[107] = digest as u8;
        let cipher_len = cryptlen - digest as u32;
        cipher_params(&mut r, assoclen, cipher_len, &hex(IV));
        auth_params(&mut r, 0, assoclen + cipher_len);
    }
    let resp = d.roundtrip(ring, &r);
    (resp[6], gather(d, &dst_segs))
}

#[test]
fn test_authenc_hmac_sha256_cbc_aes_encrypt_verify_and_tamper() {
    let (mut d, mut ring) = setup();
    let aad = hex("00112233445566778899aabbccddeeff");
    let auth_key: Vec<u8> = (0..32).collect();
    let mut buf = aad.clone();
    buf.extend_from_slice(&hex(PT)[..32]);
    buf.extend_from_slice(&[0; 32]);
    let (st, out) = authenc(
        &mut d,
        &mut ring,
        Sha::Sha256,
        &hex(KEY128),
        &auth_key,
        false,
        16,
        32,
        &buf,
        None,
    );
    let mut expected = aad.clone();
    expected.extend_from_slice(&hex(
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2",
    ));
    expected.extend_from_slice(&hex(
        "ab6adfbbc403b325336bea25b868217c57039c8a6833a5c48a02392c9a7a7a09",
    ));
    assert_eq!((st, &out), (0, &expected));
    let (st, back) = authenc(
        &mut d,
        &mut ring,
        Sha::Sha256,
        &hex(KEY128),
        &auth_key,
        true,
        16,
        64,
        &out,
        Some(out.len()),
    );
    assert_eq!((st, &back[16..48]), (0, &hex(PT)[..32]));
    let mut bad = out.clone();
    bad[70] ^= 1;
    let (st, _) = authenc(
        &mut d,
        &mut ring,
        Sha::Sha256,
        &hex(KEY128),
        &auth_key,
        true,
        16,
        64,
        &bad,
        None,
    );
    assert_eq!(st & 0x80, 0x80, "tag mismatch is a crypto error (-EBADMSG)");
}

#[test]
fn test_authenc_sha1_and_sha512_round_trip_out_of_place() {
    let (mut d, mut ring) = setup();
    for sha in [Sha::Sha1, Sha::Sha512] {
        let digest = sha.digest();
        let mut buf = vec![0xaau8; 8];
        buf.extend_from_slice(&hex(PT));
        buf.extend_from_slice(&vec![0; digest]);
        let (st, out) = authenc(
            &mut d,
            &mut ring,
            sha,
            &hex(KEY256),
            b"key",
            false,
            8,
            64,
            &buf,
            Some(buf.len()),
        );
        assert_eq!(st, 0);
        assert_eq!(&out[..8], &[0xaa; 8], "AAD passes through");
        let (st, back) = authenc(
            &mut d,
            &mut ring,
            sha,
            &hex(KEY256),
            b"key",
            true,
            8,
            64 + digest as u32,
            &out,
            None,
        );
        assert_eq!((st, &back[8..72]), (0, &hex(PT)[..]));
    }
}

/// Out of place as Linux's testmgr and IPsec do it: the source holds AAD ‖
/// plaintext only, the device writes ciphertext and digest through the
/// destination list; decryption reads AAD ‖ ciphertext ‖ digest and
/// writes AAD ‖ plaintext into a destination without digest room.
#[test]
fn test_authenc_out_of_place_with_source_and_destination_of_different_lengths() {
    let (mut d, mut ring) = setup();
    let aad = hex("00112233445566778899aabbccddeeff");
    let auth_key: Vec<u8> = (0..32).collect();
    let ct = hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2");
    let tag = hex("ab6adfbbc403b325336bea25b868217c57039c8a6833a5c48a02392c9a7a7a09");
    let plain = [aad.clone(), hex(PT)[..32].to_vec()].concat();
    let sealed = [aad.clone(), ct, tag].concat();
    let seal = |d: &mut Driver, ring: &mut RingPair, dst_len| {
        authenc(
            d,
            ring,
            Sha::Sha256,
            &hex(KEY128),
            &auth_key,
            false,
            16,
            32,
            &plain,
            Some(dst_len),
        )
    };
    let (st, out) = seal(&mut d, &mut ring, 80);
    assert_eq!((st, &out), (0, &sealed));
    // A longer destination: what follows the digest stays as it was.
    let (st, out) = seal(&mut d, &mut ring, 90);
    assert_eq!(
        (st, &out[..80], &out[80..]),
        (0, &sealed[..], &[0x55; 10][..])
    );
    // No room for the digest in the destination: an error, nothing written
    // past the destination.
    let (st, _) = seal(&mut d, &mut ring, 70);
    assert_eq!(st & 0x80, 0x80);
    // Verify-then-decrypt: the digest is read from the source.
    let (st, out) = authenc(
        &mut d,
        &mut ring,
        Sha::Sha256,
        &hex(KEY128),
        &auth_key,
        true,
        16,
        64,
        &sealed,
        Some(48),
    );
    assert_eq!((st, &out), (0, &plain));
    let mut forged = sealed.clone();
    forged[79] ^= 1;
    let (st, out) = authenc(
        &mut d,
        &mut ring,
        Sha::Sha256,
        &hex(KEY128),
        &auth_key,
        true,
        16,
        64,
        &forged,
        Some(48),
    );
    assert_eq!(st & 0x80, 0x80, "tag mismatch is -EBADMSG");
    assert_eq!(out, vec![0x55; 48], "nothing written on a mismatch");
}

/// AES-GCM (project convention, spec 9.7): tag at auth_res_addr.
fn gcm(
    d: &mut Driver,
    ring: &mut RingPair,
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &[u8],
    tag: Option<&[u8]>,
) -> (u8, Vec<u8>, Vec<u8>) {
    let alg = if key.len() == 16 { 3 } else { 5 };
    let decrypt = tag.is_some();
    let config = alg | 0x20 | if decrypt { 0x100 } else { 0 };
    let cd = d.put(&cipher_block(config, key));
    let (src, segs) = scattered(d, data, 2);
    let tag_at = d.put(tag.unwrap_or(&[0; 16]));
    let aad_at = d.put(aad);
    let (cmd, flag) = if decrypt {
        (3, CMP_AUTH)
    } else {
        (2, RET_AUTH)
    };
    let mut r = la_request(cmd, LA_FLAGS | GCM_FLAGS | flag, cd, 10, src, src, 4);
    cipher_params(&mut r, 0, data.len() as u32, iv);
    cipher_ctrl(&mut r, key.len(), 0, 2);
    r[88..96].copy_from_slice(&aad_at.to_le_bytes());
    r[96..104].copy_from_slice(&tag_at.to_le_bytes());
    r[104] = aad.len() as u8;
    r[118] = tag.map_or(16, |t| t.len() as u8);
    let resp = d.roundtrip(ring, &r);
    (resp[6], gather(d, &segs), d.get(tag_at, 16))
}

#[test]
fn test_aes_gcm_spec_test_cases_2_4_16() {
    let (mut d, mut ring) = setup();
    let (st, ct, tag) = gcm(&mut d, &mut ring, &[0; 16], &[0; 12], &[], &[0; 16], None);
    assert_eq!(
        (st, ct, tag),
        (
            0,
            hex("0388dace60b6a392f328c2b971b2fe78"),
            hex("ab6e47d42cec13bdf53a67b21257bddf")
        )
    );
    let iv = hex("cafebabefacedbaddecaf888");
    let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let pt = hex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                  1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    );
    let k128 = hex("feffe9928665731c6d6a8f9467308308");
    let (st, ct, tag) = gcm(&mut d, &mut ring, &k128, &iv, &aad, &pt, None);
    assert_eq!(st, 0);
    assert_eq!(
        ct,
        hex(
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                        21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
        )
    );
    assert_eq!(tag, hex("5bc94fbc3221a5db94fae95ae7121a47"));
    let (st, back, _) = gcm(&mut d, &mut ring, &k128, &iv, &aad, &ct, Some(&tag));
    assert_eq!((st, back), (0, pt.clone()));
    let (st, _, _) = gcm(&mut d, &mut ring, &k128, &iv, &aad, &ct, Some(&tag[..12]));
    assert_eq!(st, 0, "truncated 96-bit tag");
    let mut bad = tag.clone();
    bad[0] ^= 0x80;
    let (st, _, _) = gcm(&mut d, &mut ring, &k128, &iv, &aad, &ct, Some(&bad));
    assert_eq!(st & 0x80, 0x80);
    let k256 = [k128.clone(), k128].concat();
    let (st, ct, tag) = gcm(&mut d, &mut ring, &k256, &iv, &aad, &pt, None);
    assert_eq!(st, 0);
    assert_eq!(
        ct,
        hex(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa
                        8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        )
    );
    assert_eq!(tag, hex("76fc6ece0f4e1768cddf8853bb2d551b"));
}
