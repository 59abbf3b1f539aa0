//! Raw deflate streams made by independent compressors (zlib-rs through
//! flate2 and directly, miniz_oxide, libdeflate, a gzip body) decompress on
//! the model to their originals, as the crypto self-test's zlib vectors
//! and the software fallback require.

use std::io::Write;

use super::super::descriptor::status as st;
use super::*;

fn samples() -> Vec<Vec<u8>> {
    let mut rng = Rng(0xfeed);
    let mut pages: Vec<Vec<u8>> = [0, 1, 2, 3, 4]
        .into_iter()
        .map(|kind| page(&mut rng, kind, 4096))
        .collect();
    pages.push(b"The quick brown fox jumps over the lazy dog".to_vec());
    pages.push(vec![0; 4096]);
    pages
}

fn check(d: &mut Driver, name: &str, original: &[u8], stream: &[u8]) {
    let record = d.decompress(stream, 4096);
    assert_eq!(status(&record), st::SUCCESS, "{name}: status");
    assert_eq!(
        output_size(&record) as usize,
        original.len(),
        "{name}: size"
    );
    assert_eq!(d.get(DST_ADDR, original.len()), original, "{name}: data");
}

fn zlib_rs(data: &[u8], level: i32, strategy: zlib_rs::Strategy, window_bits: i32) -> Vec<u8> {
    let mut out = vec![0u8; 8192];
    let config = zlib_rs::DeflateConfig {
        level,
        method: zlib_rs::Method::Deflated,
        window_bits,
        mem_level: 8,
        strategy,
    };
    let (stream, rc) = zlib_rs::compress_slice(&mut out, data, config);
    assert_eq!(rc, zlib_rs::ReturnCode::Ok);
    stream.to_vec()
}

#[test]
fn test_flate2_raw_streams_at_every_level_decompress() {
    let mut d = Driver::ready();
    for original in samples() {
        for level in 0..=9 {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(&original).unwrap();
            check(
                &mut d,
                &format!("flate2 level {level}"),
                &original,
                &e.finish().unwrap(),
            );
        }
    }
}

#[test]
fn test_zlib_strategies_and_small_windows_decompress() {
    use zlib_rs::Strategy::*;
    let mut d = Driver::ready();
    for original in samples() {
        for strategy in [Default, Filtered, HuffmanOnly, Rle, Fixed] {
            for (level, bits) in [(1, -15), (6, -11), (9, -9)] {
                let stream = zlib_rs(&original, level, strategy, bits);
                check(
                    &mut d,
                    &format!("{strategy:?} {level} {bits}"),
                    &original,
                    &stream,
                );
            }
        }
    }
}

#[test]
fn test_gzip_body_and_libdeflate_and_miniz_streams_decompress() {
    let mut d = Driver::ready();
    for original in samples() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&original).unwrap();
        let gz = gz.finish().unwrap();
        // A gzip member with no optional fields: 10-byte header, 8-byte trailer.
        check(&mut d, "gzip body", &original, &gz[10..gz.len() - 8]);
        for level in [1, 6, 12] {
            let mut c =
                libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
            let mut out = vec![0u8; 8192];
            let n = c.deflate_compress(&original, &mut out).unwrap();
            check(&mut d, &format!("libdeflate {level}"), &original, &out[..n]);
        }
        for level in [0, 1, 6, 10] {
            let stream = miniz_oxide::deflate::compress_to_vec(&original, level);
            check(&mut d, &format!("miniz {level}"), &original, &stream);
        }
    }
}

#[test]
fn test_model_output_inflates_with_flate2_and_miniz() {
    let mut d = Driver::ready();
    for original in samples().into_iter().filter(|p| p.len() == 4096) {
        let record = d.compress(&original, 8192);
        assert_eq!(status(&record), st::SUCCESS);
        let stream = d.get(DST_ADDR, output_size(&record) as usize);
        let mut out = Vec::new();
        let mut z = flate2::write::DeflateDecoder::new(&mut out);
        z.write_all(&stream).unwrap();
        z.finish().unwrap();
        assert_eq!(out, original);
        let back = miniz_oxide::inflate::decompress_to_vec(&stream).unwrap();
        assert_eq!(back, original);
    }
}

#[test]
fn test_every_truncation_of_a_stream_is_an_error_not_a_panic() {
    let mut d = Driver::ready();
    let original = page(&mut Rng(1), 0, 4096);
    let stream = zlib_rs(&original, 6, zlib_rs::Strategy::Default, -15);
    for cut in (1..stream.len()).step_by(7) {
        let record = d.decompress(&stream[..cut], 4096);
        assert_eq!(status(&record), st::ANALYTICS_ERROR, "cut at {cut}");
    }
    // Flipped bits: whatever the outcome, a status is always written.
    let mut rng = Rng(2);
    for _ in 0..200 {
        let mut bad = stream.clone();
        let at = rng.below(bad.len() as u64) as usize;
        bad[at] ^= 1 << rng.below(8);
        assert_ne!(status(&d.decompress(&bad, 4096)), 0);
    }
}
