//! Compression requests as qat_comp_algs.c sends them; compressed output
//! must inflate with an independent inflater (miniz_oxide).

use super::build::*;
use super::harness::*;

fn setup() -> (Driver, RingPair) {
    let mut d = Driver::new();
    d.probe();
    let ring = d.ring_pair(0, 10, 8);
    (d, ring)
}

fn text(len: usize) -> Vec<u8> {
    let words = [
        &b"deflate "[..],
        b"QAT ",
        b"420xx ",
        b"ring ",
        b"bank ",
        b"engine ",
    ];
    let mut x = 7u32;
    let mut out = Vec::new();
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        out.extend_from_slice(words[(x >> 16) as usize % words.len()]);
    }
    out.truncate(len);
    out
}

fn u32_at(r: &[u8; 32], o: usize) -> u32 {
    u32::from_le_bytes(r[o..o + 4].try_into().unwrap())
}

/// Compresses `data` (scattered) into a destination of `cap` bytes plus
/// the driver's overflow buffer; returns the response and the output.
fn compress(d: &mut Driver, ring: &mut RingPair, data: &[u8], cap: u32) -> ([u8; 32], Vec<u8>) {
    let (src, _) = scattered(d, data, 3);
    let out = d.alloc(u64::from(cap), 64);
    let ovf = d.alloc(4096, 64);
    let dst = buffer_list(d, &[(out, cap), (ovf, 4096)]);
    let r = comp_request(0, src, data.len() as u32, dst, cap + 4096, 11);
    let resp = d.roundtrip(ring, &r);
    let produced = u32_at(&resp, 20) as usize;
    let mut all = d.get(out, cap as usize);
    all.extend_from_slice(&d.get(ovf, 4096));
    all.truncate(produced);
    (resp, all)
}

#[test]
fn test_compress_sets_cnv_and_output_inflates_independently() {
    let (mut d, mut ring) = setup();
    for len in [1usize, 35, 4096, 65536] {
        let data = text(len);
        let (resp, out) = compress(&mut d, &mut ring, &data, len as u32 + 1024);
        assert_eq!((resp[2], resp[6], resp[5]), (9, 0, 0), "success");
        assert_ne!(resp[3] & 0x40, 0, "CNV flag");
        assert_eq!(u32_at(&resp, 16) as usize, len, "consumed");
        if len >= 4096 {
            assert!(
                out.len() < len / 2,
                "text compresses: {} of {len}",
                out.len()
            );
        }
        let back = miniz_oxide::inflate::decompress_to_vec(&out).expect("raw deflate");
        assert_eq!(back, data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(&data);
        assert_eq!(u32_at(&resp, 24), crc.finalize());
        assert_eq!(u32_at(&resp, 28), adler2::adler32_slice(&data));
    }
}

#[test]
fn test_decompress_known_vector_counts_and_checksums() {
    let (mut d, mut ring) = setup();
    let stream = hex("f348cdc9c9d75108740c51303132a8a85054f040170100");
    let plain = b"Hello, QAT 420xx! Hello, QAT 420xx!";
    assert_eq!(
        miniz_oxide::inflate::decompress_to_vec(&stream).unwrap(),
        plain
    );
    let (src, _) = scattered(&mut d, &stream, 2);
    let out = d.alloc(64, 64);
    let dst = buffer_list(&mut d, &[(out, 20), (out + 20, 44)]);
    let resp = d.roundtrip(&mut ring, &comp_request(2, src, 23, dst, 64, 12));
    assert_eq!(
        (resp[6] & 0x30, u32_at(&resp, 16), u32_at(&resp, 20)),
        (0, 23, 35)
    );
    assert_eq!(
        (u32_at(&resp, 24), u32_at(&resp, 28)),
        (0x82f3_1b02, 0xb897_09fb)
    );
    assert_eq!(d.get(out, 35), plain);
}

#[test]
fn test_round_trip_through_the_device_both_ways() {
    let (mut d, mut ring) = setup();
    let data = text(100_000);
    let (_, compressed) = compress(&mut d, &mut ring, &data, 100_000);
    let (src, _) = scattered(&mut d, &compressed, 4);
    let out = d.alloc(128 << 10, 64);
    let dst = buffer_list(&mut d, &[(out, 128 << 10)]);
    let resp = d.roundtrip(
        &mut ring,
        &comp_request(2, src, compressed.len() as u32, dst, 128 << 10, 1),
    );
    assert_eq!((resp[6] & 0x20, u32_at(&resp, 20)), (0, 100_000));
    assert_eq!(d.get(out, 100_000), data);
}

#[test]
fn test_decompress_overflow_reports_minus_11() {
    let (mut d, mut ring) = setup();
    let stream = hex("f348cdc9c9d75108740c51303132a8a85054f040170100");
    let (src, _) = scattered(&mut d, &stream, 1);
    let out = d.alloc(64, 64);
    let dst = buffer_list(&mut d, &[(out, 10)]);
    let resp = d.roundtrip(&mut ring, &comp_request(2, src, 23, dst, 10, 2));
    assert_eq!((resp[5] as i8, resp[6] & 0x20), (-11, 0x20));
}

#[test]
fn test_compress_overflow_and_corrupt_stream_are_errors() {
    let (mut d, mut ring) = setup();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (src, _) = scattered(&mut d, &noise, 1);
    let out = d.alloc(64, 64);
    let dst = buffer_list(&mut d, &[(out, 64)]);
    let resp = d.roundtrip(&mut ring, &comp_request(0, src, 4096, dst, 64, 3));
    assert_eq!((resp[5] as i8, resp[6] & 0x20), (-11, 0x20));
    let garbage = d.put(&[0xff; 32]);
    let src = buffer_list(&mut d, &[(garbage, 32)]);
    let resp = d.roundtrip(&mut ring, &comp_request(2, src, 32, dst, 64, 4));
    assert_eq!(resp[6] & 0x20, 0x20);
    assert!(resp[5] as i8 <= -1);
}
