//! The QAT 420xx driver against the device model: bring-up, every message
//! kind the driver builds checked against known answers (spec §11 B),
//! scatter-gather and in-place, deflate round trips inflated by
//! miniz_oxide, batches behind one doorbell, MSI-X and polled completion.

mod common;
mod qat_rig;

use guest_drivers::qat::comp::{self, CompCmd, CompResult};
use guest_drivers::qat::dma::put_buffer_list;
use guest_drivers::qat::la::{self, CipherMode, Direction, HashAlg, LaParams, Session};
use guest_drivers::qat::{response_status, DmaCursor, Request, Response, RingPair, Segment};
use guest_drivers::Hal;
use qat_rig::{hex, QatRig};

use common::Sim;

/// SP 800-38A F.2.1 (the spec's B.1).
const AES_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const IV: &str = "000102030405060708090a0b0c0d0e0f";
const PT: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51";
const CT: &str = "7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2";
const TIMEOUT_MS: u64 = 2000;

/// Data of one request laid out in a ring slot: segments of `input`
/// split at `src_split`, and (out of place) an output list split at
/// `dst_split`.
struct Laid {
    src: u64,
    dst: u64,
    out: Vec<Segment>,
}

fn segments(hal: &Sim, cursor: &mut DmaCursor, bytes: &[u8], split: &[usize]) -> Vec<Segment> {
    let mut segs = Vec::new();
    let mut rest = bytes;
    for &n in split.iter().chain(std::iter::once(&usize::MAX)) {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(n.min(rest.len()));
        let addr = cursor.put(hal, head).unwrap();
        segs.push(Segment {
            addr,
            len: head.len() as u32,
        });
        rest = tail;
    }
    segs
}

fn lay(
    hal: &Sim,
    cursor: &mut DmaCursor,
    input: &[u8],
    src_split: &[usize],
    out: Option<(usize, &[usize])>,
) -> Laid {
    let src_segs = segments(hal, cursor, input, src_split);
    let src = put_buffer_list(hal, cursor, &src_segs).unwrap();
    match out {
        None => Laid {
            src,
            dst: src,
            out: src_segs,
        },
        Some((len, split)) => {
            let dst_segs = segments(hal, cursor, &vec![0u8; len], split);
            let dst = put_buffer_list(hal, cursor, &dst_segs).unwrap();
            Laid {
                src,
                dst,
                out: dst_segs,
            }
        }
    }
}

fn read_out(hal: &Sim, segs: &[Segment]) -> Vec<u8> {
    let mut out = Vec::new();
    for seg in segs {
        let mut buf = vec![0u8; seg.len as usize];
        hal.dma_read(seg.addr, &mut buf);
        out.extend_from_slice(&buf);
    }
    out
}

fn one(ring: &mut RingPair<Sim>, req: Request) -> Response {
    ring.run(&[req], TIMEOUT_MS).expect("a response")[0]
}

/// Runs an LA session over `input` in slot 0; returns the status and the
/// output bytes.
fn la_run(
    ring: &mut RingPair<Sim>,
    session: &Session,
    input: &[u8],
    layout: (&[usize], Option<(usize, &[usize])>),
    params: LaParams,
) -> (u8, Vec<u8>) {
    let hal = ring.hal().clone();
    let mut cursor = DmaCursor::new(ring.scratch(0).unwrap());
    let cd_addr = cursor.put(&hal, &session.cd).unwrap();
    let laid = lay(&hal, &mut cursor, input, layout.0, layout.1);
    let req = la::request(
        session,
        &LaParams {
            cd_addr,
            src: laid.src,
            dst: laid.dst,
            ..params
        },
    );
    let resp = one(ring, req);
    (response_status(&resp), read_out(&hal, &laid.out))
}

fn iv16(s: &str) -> [u8; 16] {
    hex(s).try_into().unwrap()
}

#[test]
fn test_bring_up_reads_fuses_and_answers_admin() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let info = qat.info();
    assert_eq!(info.ae_mask, 0x1_0fff, "sym;dc engines and the admin AE");
    assert!(info.sym && info.compression);
    assert!(!info.ucs, "the model fuses UCS off (FUSECTL1 bit 4)");
    let (_, constants) = rig.model.lock().unwrap().admin_pages();
    assert_eq!(constants, qat.admin().const_table());
    let pm: u32 = qat
        .pmisc()
        .read(&rig.sim, guest_drivers::qat::regs::PM_STATUS);
    assert_ne!(pm & guest_drivers::qat::regs::PM_INIT_STATE, 0);
}

#[test]
fn test_aes_cbc_known_answer_in_place_and_scatter_gather() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(1, 32, 4096).unwrap();
    let key = hex(AES_KEY);
    let params = LaParams {
        cipher_len: 32,
        iv: iv16(IV),
        ..LaParams::default()
    };
    let enc = Session::cipher(&key, CipherMode::Cbc, Direction::Encrypt).unwrap();
    let (status, out) = la_run(&mut ring, &enc, &hex(PT), (&[], None), params);
    assert_eq!((status, out), (0, hex(CT)));
    // Three source segments into two destination segments, out of place.
    let (status, out) = la_run(
        &mut ring,
        &enc,
        &hex(PT),
        (&[5, 20], Some((32, &[17]))),
        params,
    );
    assert_eq!((status, out), (0, hex(CT)));
    let dec = Session::cipher(&key, CipherMode::Cbc, Direction::Decrypt).unwrap();
    let (status, out) = la_run(&mut ring, &dec, &hex(CT), (&[16], None), params);
    assert_eq!((status, out), (0, hex(PT)));
}

#[test]
fn test_aes_ctr_known_answer_with_a_partial_block() {
    let rig = QatRig::new();
    let qat = rig.probe(false);
    let mut ring = qat.ring_pair(1, 32, 4096).unwrap();
    // SP 800-38A F.5.1, first 20 bytes.
    let session = Session::cipher(&hex(AES_KEY), CipherMode::Ctr, Direction::Encrypt).unwrap();
    let params = LaParams {
        cipher_len: 20,
        iv: iv16("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"),
        ..LaParams::default()
    };
    let (status, out) = la_run(&mut ring, &session, &hex(PT)[..20], (&[3], None), params);
    assert_eq!(status, 0);
    assert_eq!(out, hex("874d6191b620e3261bef6864990db6ce9806f66b"));
    assert_eq!(rig.messages(), 0, "polled: no MSI-X");
}

/// A digest into its own DMA location.
fn hash_run(
    ring: &mut RingPair<Sim>,
    session: &Session,
    msg: &[u8],
    split: &[usize],
) -> (u8, Vec<u8>) {
    let hal = ring.hal().clone();
    let mut cursor = DmaCursor::new(ring.scratch(0).unwrap());
    let cd_addr = cursor.put(&hal, &session.cd).unwrap();
    let laid = lay(&hal, &mut cursor, msg, split, None);
    let result = cursor.take(64, 64).unwrap();
    let params = LaParams {
        cd_addr,
        src: laid.src,
        dst: laid.dst,
        auth_len: msg.len() as u32,
        auth_res_addr: result,
        ..LaParams::default()
    };
    let resp = one(ring, la::request(session, &params));
    let mut digest = vec![0u8; session.digest];
    hal.dma_read(result, &mut digest);
    (response_status(&resp), digest)
}

#[test]
fn test_sha_digests_and_hmac_from_precomputes() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(3, 32, 4096).unwrap();
    let sha256 = Session::hash(HashAlg::Sha256, None).unwrap();
    let (status, digest) = hash_run(&mut ring, &sha256, b"abc", &[1]);
    assert_eq!(status, 0);
    assert_eq!(
        digest,
        hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    let sha1 = Session::hash(HashAlg::Sha1, None).unwrap();
    let (_, digest) = hash_run(&mut ring, &sha1, b"abc", &[]);
    assert_eq!(digest, hex("a9993e364706816aba3e25717850c26c9cd0d89d"));
    let sha512 = Session::hash(HashAlg::Sha512, None).unwrap();
    let (_, digest) = hash_run(&mut ring, &sha512, b"abc", &[2]);
    assert_eq!(&digest[..8], &hex("ddaf35a193617aba")[..]);
    // The spec's B.4 precomputes for the key 00..1f.
    let inner = hex("82a26513761c632fbc26416e638933010a68c71d1fe0fa8dae920cf900f3f280");
    let outer = hex("2367d3671fd96f8babce4f4dfcaef265bc99abd9c4550ac474cb6365b8eef166");
    let hmac = Session::hash(HashAlg::Sha256, Some((&inner, &outer))).unwrap();
    let (status, digest) = hash_run(&mut ring, &hmac, b"abc", &[]);
    assert_eq!(status, 0);
    assert_eq!(
        digest,
        hex("f0133729c4163dede81e21cd47839256da58171238c8a0d874397c73b14e1e47")
    );
}

/// The spec's B.4 case: AAD 16 bytes, the CBC vector, HMAC-SHA256 with
/// the key 00..1f (its precomputed states), tag over AAD ‖ CT.
struct Authenc {
    inner: Vec<u8>,
    outer: Vec<u8>,
    aad: Vec<u8>,
    sealed: Vec<u8>,
    params: LaParams,
}

fn authenc_case() -> Authenc {
    let aad = hex("00112233445566778899aabbccddeeff");
    let tag = hex("ab6adfbbc403b325336bea25b868217c57039c8a6833a5c48a02392c9a7a7a09");
    Authenc {
        inner: hex("82a26513761c632fbc26416e638933010a68c71d1fe0fa8dae920cf900f3f280"),
        outer: hex("2367d3671fd96f8babce4f4dfcaef265bc99abd9c4550ac474cb6365b8eef166"),
        sealed: [aad.clone(), hex(CT), tag].concat(),
        aad,
        params: LaParams {
            cipher_offset: 16,
            cipher_len: 32,
            iv: iv16(IV),
            auth_len: 48,
            ..LaParams::default()
        },
    }
}

#[test]
fn test_authenc_seals_in_place_and_rejects_a_flipped_tag() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(1, 32, 4096).unwrap();
    let c = authenc_case();
    let states = (&c.inner[..], &c.outer[..]);
    let key = hex(AES_KEY);
    let enc = Session::authenc(&key, HashAlg::Sha256, states, 32, Direction::Encrypt).unwrap();
    let input = [c.aad.clone(), hex(PT), vec![0; 32]].concat();
    let (status, out) = la_run(&mut ring, &enc, &input, (&[16, 7], None), c.params);
    assert_eq!((status, &out), (0, &c.sealed));
    let dec = Session::authenc(&key, HashAlg::Sha256, states, 32, Direction::Decrypt).unwrap();
    let (status, out) = la_run(&mut ring, &dec, &c.sealed, (&[], None), c.params);
    assert_eq!(status, 0);
    assert_eq!(&out[..48], &[c.aad.clone(), hex(PT)].concat()[..]);
    // Verify-then-decrypt out of place: the tag is read from the source.
    let (status, out) = la_run(
        &mut ring,
        &dec,
        &c.sealed,
        (&[30], Some((48, &[20]))),
        c.params,
    );
    assert_eq!((status, out), (0, [c.aad.clone(), hex(PT)].concat()));
    let mut forged = c.sealed.clone();
    forged[79] ^= 1;
    let (status, _) = la_run(&mut ring, &dec, &forged, (&[], None), c.params);
    assert_eq!(status & la::STATUS_CRYPTO_ERROR, la::STATUS_CRYPTO_ERROR);
}

/// Linux's encrypt out of place: the source list holds only AAD ‖ PT; the
/// device writes CT and the digest into the destination list.
#[test]
fn test_authenc_seals_out_of_place_with_a_source_of_aad_and_plaintext() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(1, 32, 4096).unwrap();
    let c = authenc_case();
    let states = (&c.inner[..], &c.outer[..]);
    let enc = Session::authenc(
        &hex(AES_KEY),
        HashAlg::Sha256,
        states,
        32,
        Direction::Encrypt,
    )
    .unwrap();
    let input = [c.aad.clone(), hex(PT)].concat();
    let (status, out) = la_run(
        &mut ring,
        &enc,
        &input,
        (&[40], Some((80, &[9, 50]))),
        c.params,
    );
    assert_eq!((status, out), (0, c.sealed));
}

#[test]
fn test_gcm_known_answers_and_tag_check() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(1, 32, 4096).unwrap();
    let key = [0u8; 16];
    let hal = rig.sim.clone();
    for (pt, ct, tag) in [
        (vec![], vec![], "58e2fccefa7e3061367f1d57a4e7455a"),
        (
            vec![0u8; 16],
            hex("0388dace60b6a392f328c2b971b2fe78"),
            "ab6e47d42cec13bdf53a67b21257bddf",
        ),
    ] {
        let mut cursor = DmaCursor::new(ring.scratch(1).unwrap());
        let tag_at = cursor.take(16, 64).unwrap();
        let aad_at = cursor.take(16, 64).unwrap();
        let params = LaParams {
            cipher_len: pt.len() as u32,
            auth_len: pt.len() as u32,
            aad_addr: aad_at,
            auth_res_addr: tag_at,
            ..LaParams::default()
        };
        let enc = Session::gcm(&key, 16, Direction::Encrypt).unwrap();
        let input = if pt.is_empty() {
            vec![0u8; 1]
        } else {
            pt.clone()
        };
        let (status, out) = la_run(&mut ring, &enc, &input, (&[], None), params);
        assert_eq!(status, 0);
        assert_eq!(&out[..pt.len()], &ct[..]);
        let mut got = [0u8; 16];
        hal.dma_read(tag_at, &mut got);
        assert_eq!(got.to_vec(), hex(tag));
        let dec = Session::gcm(&key, 16, Direction::Decrypt).unwrap();
        let input = if ct.is_empty() {
            vec![0u8; 1]
        } else {
            ct.clone()
        };
        let (status, out) = la_run(&mut ring, &dec, &input, (&[], None), params);
        assert_eq!((status, &out[..pt.len()]), (0, &pt[..]));
        hal.dma_write(tag_at, &[0u8; 16]);
        let (status, _) = la_run(&mut ring, &dec, &input, (&[], None), params);
        assert_eq!(status & la::STATUS_CRYPTO_ERROR, la::STATUS_CRYPTO_ERROR);
    }
}

/// One compression request in slot 0; returns the result and the output.
fn comp_run(
    ring: &mut RingPair<Sim>,
    cmd: CompCmd,
    input: &[u8],
    room: usize,
) -> (CompResult, Vec<u8>) {
    let hal = ring.hal().clone();
    let mut cursor = DmaCursor::new(ring.scratch(0).unwrap());
    let laid = lay(&hal, &mut cursor, input, &[], Some((room, &[])));
    let req = comp::request(cmd, laid.src, input.len() as u32, laid.dst, room as u32);
    let result = CompResult::decode(&one(ring, req));
    let out = read_out(&hal, &laid.out);
    (result, out[..(result.produced as usize).min(room)].to_vec())
}

#[test]
fn test_deflate_round_trips_and_reports_overflow() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(2, 32, 32 << 10).unwrap();
    // The spec's B.6 stream.
    let text = b"Hello, QAT 420xx! Hello, QAT 420xx!";
    let stream = hex("f348cdc9c9d75108740c51303132a8a85054f040170100");
    let (result, out) = comp_run(&mut ring, CompCmd::Decompress, &stream, 64);
    assert!(result.ok(), "{result:?}");
    assert_eq!((result.consumed, result.produced), (23, 35));
    assert_eq!(out, text);
    assert_eq!((result.crc32, result.adler32), (0x82f3_1b02, 0xb897_09fb));
    let (result, _) = comp_run(&mut ring, CompCmd::Decompress, &stream, 10);
    assert_eq!(result.cmp_err, comp::ERR_OVERFLOW);
    assert_ne!(result.status & comp::STATUS_COMP_ERROR, 0);
    // Compression: verified, and the output is raw deflate miniz_oxide
    // inflates back.
    let page: Vec<u8> = (0..8192u32).map(|i| (i / 7 % 251) as u8).collect();
    let (result, packed) = comp_run(&mut ring, CompCmd::Compress, &page, 9000);
    assert!(result.ok(), "{result:?}");
    assert_ne!(result.hdr_flags & comp::HDR_CNV, 0, "compress-and-verify");
    assert_eq!(result.consumed, 8192);
    assert!(packed.len() <= page.len() + 64, "{} bytes", packed.len());
    assert_eq!(
        miniz_oxide::inflate::decompress_to_vec(&packed).unwrap(),
        page
    );
    let (result, back) = comp_run(&mut ring, CompCmd::Decompress, &packed, 8192);
    assert!(result.ok());
    assert_eq!(back, page);
}

/// The device really compresses (it once wrote stored blocks only).
#[test]
fn test_deflate_compresses_a_compressible_page() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(2, 32, 32 << 10).unwrap();
    let page: Vec<u8> = (0..8192u32).map(|i| (i / 7 % 251) as u8).collect();
    let (result, packed) = comp_run(&mut ring, CompCmd::Compress, &page, 9000);
    assert!(result.ok(), "{result:?}");
    assert!(packed.len() < page.len() / 2, "{} bytes", packed.len());
}

/// `count` CBC encryptions of distinct 64-byte blocks, slot `i` for
/// request `i`.
fn cbc_batch(ring: &RingPair<Sim>, count: usize) -> (Vec<Request>, Vec<Segment>) {
    let hal = ring.hal().clone();
    let session = Session::cipher(&hex(AES_KEY), CipherMode::Cbc, Direction::Encrypt).unwrap();
    let mut reqs = Vec::new();
    let mut outs = Vec::new();
    for i in 0..count {
        let mut cursor = DmaCursor::new(ring.scratch(i).unwrap());
        let cd_addr = cursor.put(&hal, &session.cd).unwrap();
        let laid = lay(&hal, &mut cursor, &[i as u8; 64], &[], None);
        outs.push(laid.out[0]);
        reqs.push(la::request(
            &session,
            &LaParams {
                cd_addr,
                src: laid.src,
                dst: laid.dst,
                cipher_len: 64,
                iv: iv16(IV),
                ..LaParams::default()
            },
        ));
    }
    (reqs, outs)
}

#[test]
fn test_a_batch_rings_one_doorbell_and_the_rings_wrap() {
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(1, 32, 1024).unwrap();
    assert_eq!(ring.capacity(), 31);
    let (reqs, outs) = cbc_batch(&ring, 31);
    let responses = ring.run(&reqs, TIMEOUT_MS).unwrap();
    assert_eq!(ring.doorbells(), 1);
    assert_eq!(responses.len(), 31);
    let first = read_out(&rig.sim, &outs[..1]);
    for (i, resp) in responses.iter().enumerate() {
        assert_eq!(response_status(resp), 0);
        assert_eq!(guest_drivers::qat::response_opaque(resp), i as u64);
    }
    // Batches of 10 wrap both rings several times.
    for round in 0..7 {
        let (reqs, outs) = cbc_batch(&ring, 10);
        assert_eq!(
            ring.run(&reqs, TIMEOUT_MS).unwrap().len(),
            10,
            "round {round}"
        );
        assert_eq!(read_out(&rig.sim, &outs[..1]), first);
    }
    assert_eq!(ring.doorbells(), 8);
    assert_eq!(
        qat.counters().unwrap(),
        (101, 101),
        "the firmware's counters"
    );
    assert_eq!(ring.responses(), 101);
    assert!(
        rig.messages() >= 1 && rig.messages() <= 8,
        "{} messages",
        rig.messages()
    );
    assert!(matches!(
        ring.run(&cbc_batch(&ring, 32).0, TIMEOUT_MS),
        Err(guest_drivers::qat::QatError::RingFull {
            requests: 32,
            free: 31
        })
    ));
}

#[test]
fn test_511_requests_in_one_batch_come_back_once_each() {
    // The spec's §11 C: a 512-slot ring filled to one short of full, as
    // Linux's sym rings are, behind one doorbell; then again across the
    // wrap.
    let rig = QatRig::new();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(1, 512, 512).unwrap();
    for _ in 0..2 {
        let (reqs, _) = cbc_batch(&ring, 511);
        let responses = ring.run(&reqs, TIMEOUT_MS).unwrap();
        let opaques: Vec<u64> = responses
            .iter()
            .map(guest_drivers::qat::response_opaque)
            .collect();
        assert_eq!(opaques, (0..511).collect::<Vec<u64>>());
        assert!(responses.iter().all(|r| response_status(r) == 0));
    }
    assert_eq!(ring.doorbells(), 2);
    assert_eq!(qat.counters().unwrap(), (1022, 1022));
}

#[test]
fn test_threaded_event_loop_serves_batches() {
    let rig = QatRig::threaded();
    let qat = rig.probe(true);
    let mut ring = qat.ring_pair(5, 64, 1024).unwrap();
    for _ in 0..20 {
        let (reqs, _) = cbc_batch(&ring, 50);
        let responses = ring.run(&reqs, TIMEOUT_MS).unwrap();
        assert!(responses.iter().all(|r| response_status(r) == 0));
    }
    assert_eq!(ring.responses(), 1000);
}
