//! Descriptors through the portal, as iaa_crypto submits them, and the
//! statuses it checks.

use super::super::codec::checksum;
use super::super::descriptor::{status as st, FLAG_RCI};
use super::*;

fn inflate_independently(stream: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let n = miniz_oxide::inflate::decompress_slice_iter_to_slice(
        &mut out,
        std::iter::once(stream),
        false,
        true,
    )
    .expect("miniz_oxide inflates the model's stream");
    out.truncate(n);
    out
}

#[test]
fn test_compress_verify_decompress_round_trip_every_page_kind() {
    let mut d = Driver::ready();
    let mut rng = Rng(0x5eed);
    for kind in [0, 1, 2, 4] {
        let original = page(&mut rng, kind, 4096);
        // iaa_compress
        let record = d.compress(&original, 4096);
        assert_eq!(status(&record), st::SUCCESS, "kind {kind}");
        let clen = output_size(&record);
        assert!(clen > 0 && clen < 4096);
        assert_eq!(crc(&record), checksum::crc32(0, &original), "zlib's CRC-32");
        let stream = d.get(DST_ADDR, clen as usize);
        assert_eq!(stream[0] & 0b111, 0b011, "BFINAL=1, BTYPE=01 from the AECS");
        assert_eq!(inflate_independently(&stream, 8192), original);
        // iaa_compress_verify: decompress with suppressed output into the
        // original page, which must stay untouched.
        d.put(SRC_ADDR, &original);
        let mut verify = decompress_desc(DST_ADDR, clen, SRC_ADDR, 4096);
        verify.op_flags |= 1 << 9;
        let checked = d.run(&verify);
        assert_eq!(status(&checked), st::SUCCESS);
        assert_eq!(crc(&checked), crc(&record), "verify compares the CRCs");
        assert_eq!(output_size(&checked), 4096);
        assert_eq!(d.get(SRC_ADDR, 4096), original);
        // iaa_decompress into a fresh page.
        d.put(SRC_ADDR + 0x1_0000, &[0xaa; 4096]);
        let back = d.run(&decompress_desc(DST_ADDR, clen, SRC_ADDR + 0x1_0000, 4096));
        assert_eq!(status(&back), st::SUCCESS);
        assert_eq!(output_size(&back), 4096, "zswap needs exactly a page");
        assert_eq!(d.get(SRC_ADDR + 0x1_0000, 4096), original);
    }
    let stats = d.iaa.stats().engine;
    assert_eq!((stats.compress, stats.decompress, stats.errors), (4, 8, 0));
}

#[test]
fn test_odd_sizes_and_larger_buffers_round_trip() {
    let mut d = Driver::ready();
    let mut rng = Rng(7);
    for len in [1usize, 3, 5, 100, 4095, 65536, 300_000] {
        let original = page(&mut rng, 0, len);
        let record = d.compress(&original, 1 << 21);
        assert_eq!(status(&record), st::SUCCESS, "len {len}");
        let stream = d.get(DST_ADDR, output_size(&record) as usize);
        assert_eq!(inflate_independently(&stream, len + 1), original);
        let back = d.decompress(&stream, len as u32);
        assert_eq!(status(&back), st::SUCCESS);
        assert_eq!(d.get(DST_ADDR, len), original);
    }
}

#[test]
fn test_incompressible_page_is_a_buffer_overflow_error() {
    let mut d = Driver::ready();
    let noise = page(&mut Rng(99), 3, 4096);
    let record = d.compress(&noise, 4096);
    assert_eq!(
        (status(&record), error_code(&record)),
        (st::ANALYTICS_ERROR, 0x19),
        "-E2BIG"
    );
}

#[test]
fn test_decompress_past_destination_is_output_overflow() {
    let mut d = Driver::ready();
    let original = page(&mut Rng(3), 0, 4096);
    let record = d.compress(&original, 4096);
    let stream = d.get(DST_ADDR, output_size(&record) as usize);
    let back = d.decompress(&stream, 4000);
    assert_eq!(status(&back), st::OUTPUT_OVERFLOW, "-EOVERFLOW");
}

#[test]
fn test_corrupt_streams_are_analytics_errors() {
    let mut d = Driver::ready();
    for (stream, code) in [
        (vec![0x07u8, 0, 0, 0], 13),                    // block type 3
        (vec![0x01, 0x02, 0x00, 0x00, 0x00, 1, 2], 14), // stored LEN != ~NLEN
        (vec![0x01, 0x10, 0x00, 0xef, 0xff, 1, 2], 15), // truncated
        (vec![0x03, 0x02, 0x00], 18),                   // match before the start
    ] {
        let record = d.decompress(&stream, 4096);
        assert_eq!(
            (status(&record), error_code(&record)),
            (st::ANALYTICS_ERROR, code)
        );
    }
}

#[test]
fn test_bad_addresses_are_page_faults() {
    let mut d = Driver::ready();
    let beyond = MEM_SIZE as u64 + 0x1000;
    let mut desc = compress_desc(4096, 4096);
    desc.src1_addr = beyond;
    let record = d.run(&desc);
    assert_eq!(status(&record), st::PAGE_FAULT);
    assert_eq!(
        u64::from_le_bytes(record[8..16].try_into().unwrap()),
        beyond
    );
    d.put(SRC_ADDR, &[0u8; 4096]);
    let mut desc = compress_desc(4096, 4096);
    desc.dst_addr = u64::MAX - 10;
    let record = d.run(&desc);
    assert_eq!(
        (status(&record), record[2]),
        (st::PAGE_FAULT, 1),
        "a write fault"
    );
    let mut desc = compress_desc(4096, 4096);
    desc.src2_addr = beyond;
    assert_eq!(status(&d.run(&desc)), st::PAGE_FAULT);
}

#[test]
fn test_unknown_opcode_and_bad_sizes_and_flags() {
    let mut d = Driver::ready();
    let mut desc = compress_desc(16, 4096);
    desc.opcode = 0x50; // SCAN: not advertised in OPCAP
    assert_eq!(status(&d.run(&desc)), st::BAD_OPCODE);
    assert_eq!(status(&d.run(&compress_desc(0, 4096))), st::INVALID_SIZE);
    assert_eq!(
        status(&d.run(&compress_desc((1 << 21) + 1, 4096))),
        st::INVALID_SIZE
    );
    let mut desc = compress_desc(16, 4096);
    desc.src2_addr = AECS_ADDR + 8;
    assert_eq!(status(&d.run(&desc)), st::ADDR_ALIGN);
    let mut desc = compress_desc(16, 4096);
    desc.src2_size = 1000;
    assert_eq!(status(&d.run(&desc)), st::ADDR_ALIGN);
    let mut desc = compress_desc(16, 4096);
    desc.op_flags |= 1; // statistics mode
    assert_eq!(status(&d.run(&desc)), st::INVALID_COMP_FLAGS);
    let mut desc = compress_desc(16, 4096);
    desc.flags &= !(3 << 16); // no AECS
    assert_eq!(status(&d.run(&desc)), st::INVALID_FLAGS);
    let mut desc = decompress_desc(SRC_ADDR, 16, DST_ADDR, 4096);
    desc.op_flags = 0; // decompression not enabled
    assert_eq!(status(&d.run(&desc)), st::INVALID_COMP_FLAGS);
}

#[test]
fn test_noop_and_drain_complete_with_success() {
    let mut d = Driver::ready();
    for op in [opcode::NOOP, opcode::DRAIN] {
        let desc = Descriptor {
            opcode: op,
            ..compress_desc(0, 0)
        };
        assert_eq!(status(&d.run(&desc)), st::SUCCESS);
    }
}

#[test]
fn test_completion_interrupt_goes_to_the_wq_vector() {
    let mut d = Driver::ready();
    let original = page(&mut Rng(5), 4, 4096);
    d.put(SRC_ADDR, &original);
    let mut desc = compress_desc(4096, 4096);
    desc.flags |= FLAG_RCI;
    desc.int_handle = 1; // WQ 0's MSI-X index (no CMDCAP)
    assert_eq!(status(&d.run(&desc)), st::SUCCESS);
    assert_eq!(d.msi.take(), vec![1]);
    desc.int_handle = 9;
    assert_eq!(status(&d.run(&desc)), st::INT_HANDLE_INVALID);
    assert!(d.msi.take().is_empty());
    // The IMS portal pages have no interrupt table behind them.
    desc.int_handle = 1;
    d.put(COMPLETION_ADDR, &[0; 64]);
    d.iaa.write_bar(2, 0x2000, &desc.to_bytes());
    assert_eq!(status(&d.record(COMPLETION_ADDR)), st::INT_HANDLE_INVALID);
}

#[test]
fn test_record_only_on_error_without_rcr() {
    let mut d = Driver::ready();
    let mut desc = compress_desc(16, 4096);
    desc.flags &= !FLAG_RCR;
    d.put(SRC_ADDR, &[1; 16]);
    assert_eq!(d.run(&desc), [0; 64], "success without RCR: no record");
    desc.src1_size = 0;
    assert_eq!(status(&d.run(&desc)), st::INVALID_SIZE);
}

#[test]
fn test_crc32c_flag_and_end_processing_variants() {
    let mut d = Driver::ready();
    let data = page(&mut Rng(11), 0, 1000);
    d.put(SRC_ADDR, &data);
    let mut desc = compress_desc(1000, 4096);
    desc.flags |= 1 << 21;
    let record = d.run(&desc);
    assert_eq!(crc(&record), checksum::crc32c(0, &data));
    for end in [2u16, 3] {
        let mut desc = compress_desc(1000, 4096);
        desc.op_flags = 0x2 | (end << 2);
        let record = d.run(&desc);
        assert_eq!(status(&record), st::SUCCESS);
        let stream = d.get(DST_ADDR, output_size(&record) as usize);
        assert_eq!(
            &stream[stream.len() - 4..],
            &[0, 0, 0xff, 0xff],
            "empty stored block"
        );
        if end == 3 {
            assert_eq!(inflate_independently(&stream, 2000), data);
        }
    }
}
