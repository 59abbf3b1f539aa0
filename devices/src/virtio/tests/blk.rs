use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use vm_memory::{Bytes, GuestAddress};

use super::harness::*;
use crate::virtio::*;

const VERSION_1: u64 = 1 << VIRTIO_F_VERSION_1;
const SECTORS: u64 = 64;

/// A scratch disk image, removed when dropped.
struct Image(PathBuf);

impl Image {
    fn new(name: &str, len: u64) -> Self {
        let path = std::env::temp_dir().join(format!(
            "devices-virtio-blk-{}-{name}.img",
            std::process::id()
        ));
        let mut file = File::create(&path).unwrap();
        let pattern: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        file.write_all(&pattern).unwrap();
        Self(path)
    }

    fn bytes(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut file = File::open(&self.0).unwrap();
        file.seek(SeekFrom::Start(offset)).unwrap();
        let mut out = vec![0u8; len];
        file.read_exact(&mut out).unwrap();
        out
    }

    fn block(&self, readonly: bool) -> Block {
        let file = OpenOptions::new()
            .read(true)
            .write(!readonly)
            .open(&self.0)
            .unwrap();
        Block::new(file, readonly).unwrap()
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn features(readonly: bool) -> u64 {
    let mut f = VERSION_1
        | 1 << VIRTIO_BLK_F_SEG_MAX
        | 1 << VIRTIO_BLK_F_BLK_SIZE
        | 1 << VIRTIO_BLK_F_FLUSH;
    if readonly {
        f |= 1 << VIRTIO_BLK_F_RO;
    }
    f
}

fn driver(image: &Image, readonly: bool) -> Driver<Block> {
    let mut d = Driver::new(
        image
            .block(readonly)
            .with_serial(b"serial-0123456789abcdef"),
    );
    assert_eq!(d.device_features(), features(readonly));
    d.init(features(readonly), 64);
    d
}

/// A request header in guest memory.
fn header(d: &mut Driver<Block>, kind: u32, sector: u64) -> u64 {
    let addr = d.alloc(16, 0);
    let mut raw = [0u8; 16];
    raw[..4].copy_from_slice(&kind.to_le_bytes());
    raw[8..].copy_from_slice(&sector.to_le_bytes());
    d.mem.write_slice(&raw, GuestAddress(addr)).unwrap();
    addr
}

/// Runs one request; returns (used len, status byte).
fn request(d: &mut Driver<Block>, bufs: &[Buf], status: u64) -> (u32, u8) {
    let head = d.push(0, bufs);
    d.kick(0);
    let used = d.used(0);
    assert_eq!(used.len(), 1, "one completion");
    assert_eq!(used[0].0, u32::from(head));
    (used[0].1, d.bytes(status, 1)[0])
}

fn io(
    d: &mut Driver<Block>,
    kind: u32,
    sector: u64,
    data: &[(u64, u32)],
    writable: bool,
) -> (u32, u8) {
    let hdr = header(d, kind, sector);
    let status = d.alloc(1, 0xee);
    let mut bufs = vec![(hdr, 16, false)];
    bufs.extend(data.iter().map(|&(a, l)| (a, l, writable)));
    bufs.push((status, 1, true));
    request(d, &bufs, status)
}

#[test]
fn test_blk_config_reports_capacity_seg_max_and_block_size() {
    let image = Image::new("config", SECTORS * 512 + 100);
    let mut d = driver(&image, false);
    let cap = d.virtio_cap(CAP_DEVICE_CFG).unwrap();
    assert_eq!(d.read_config(cap + 8, 4), DEVICE_OFFSET);
    assert_eq!(
        d.read_bar(DEVICE_OFFSET, 8),
        SECTORS,
        "tail bytes rounded off"
    );
    assert_eq!(d.read_bar(DEVICE_OFFSET + 12, 4), 254);
    assert_eq!(d.read_bar(DEVICE_OFFSET + 20, 4), 512);
    assert_eq!(
        d.read_bar(DEVICE_OFFSET + 0x1000 - 4, 4),
        0,
        "past the config"
    );
    assert_eq!(d.read_config(0, 4), 0x1042_1af4);
    assert_eq!(d.read_config(8, 4) >> 8, 0x01_80_00);
}

#[test]
fn test_blk_write_then_read_round_trips_through_the_file() {
    let image = Image::new("roundtrip", SECTORS * 512);
    let mut d = driver(&image, false);
    let (a, b) = (d.alloc(1024, 0), d.alloc(2048, 0));
    let pattern: Vec<u8> = (0..3072u32).map(|i| (i * 7 + 3) as u8).collect();
    d.mem
        .write_slice(&pattern[..1024], GuestAddress(a))
        .unwrap();
    d.mem
        .write_slice(&pattern[1024..], GuestAddress(b))
        .unwrap();
    let (len, status) = io(&mut d, VIRTIO_BLK_T_OUT, 10, &[(a, 1024), (b, 2048)], false);
    assert_eq!((len, status), (1, VIRTIO_BLK_S_OK));
    assert_eq!(
        image.bytes(10 * 512, 3072),
        pattern,
        "the file holds the data"
    );
    assert_eq!(
        image.bytes(9 * 512, 512),
        Image::new("ref", 10 * 512).bytes(9 * 512, 512)
    );

    let back = d.alloc(3072, 0);
    let (len, status) = io(&mut d, VIRTIO_BLK_T_IN, 10, &[(back, 3072)], true);
    assert_eq!((len, status), (3073, VIRTIO_BLK_S_OK));
    assert_eq!(d.bytes(back, 3072), pattern);
    assert_eq!(d.msi.take_vectors(), vec![1, 1]);
}

#[test]
fn test_blk_header_split_across_buffers_is_accepted() {
    let image = Image::new("split", SECTORS * 512);
    let mut d = driver(&image, false);
    let hdr = header(&mut d, VIRTIO_BLK_T_IN, 2);
    let (data, status) = (d.alloc(512, 0), d.alloc(1, 0xee));
    let bufs = [
        (hdr, 4, false),
        (hdr + 4, 12, false),
        (data, 512, true),
        (status, 1, true),
    ];
    assert_eq!(request(&mut d, &bufs, status), (513, VIRTIO_BLK_S_OK));
    assert_eq!(d.bytes(data, 512), image.bytes(1024, 512));
}

#[test]
fn test_blk_flush_succeeds() {
    let image = Image::new("flush", SECTORS * 512);
    let mut d = driver(&image, false);
    let data = d.alloc(512, 0x5a);
    io(&mut d, VIRTIO_BLK_T_OUT, 0, &[(data, 512)], false);
    assert_eq!(
        io(&mut d, VIRTIO_BLK_T_FLUSH, 0, &[], false),
        (1, VIRTIO_BLK_S_OK)
    );
    assert_eq!(image.bytes(0, 512), vec![0x5a; 512]);
}

#[test]
fn test_blk_get_id_returns_the_serial_cut_to_20_bytes() {
    let image = Image::new("id", SECTORS * 512);
    let mut d = driver(&image, false);
    let id = d.alloc(20, 0xff);
    assert_eq!(
        io(&mut d, VIRTIO_BLK_T_GET_ID, 0, &[(id, 20)], true),
        (21, VIRTIO_BLK_S_OK)
    );
    assert_eq!(d.bytes(id, 20), b"serial-0123456789abc".to_vec());
}

#[test]
fn test_blk_readonly_refuses_writes_and_leaves_file_untouched() {
    let image = Image::new("ro", SECTORS * 512);
    let before = image.bytes(0, (SECTORS * 512) as usize);
    let mut d = driver(&image, true);
    let data = d.alloc(512, 0x77);
    let (len, status) = io(&mut d, VIRTIO_BLK_T_OUT, 0, &[(data, 512)], false);
    assert_eq!((len, status), (1, VIRTIO_BLK_S_IOERR));
    assert_eq!(image.bytes(0, (SECTORS * 512) as usize), before);
    let back = d.alloc(512, 0);
    assert_eq!(
        io(&mut d, VIRTIO_BLK_T_IN, 0, &[(back, 512)], true).1,
        VIRTIO_BLK_S_OK
    );
    assert_eq!(d.bytes(back, 512), before[..512]);
    assert_eq!(
        io(&mut d, VIRTIO_BLK_T_FLUSH, 0, &[], false).1,
        VIRTIO_BLK_S_OK
    );
}

#[test]
fn test_blk_requests_past_the_end_get_ioerr() {
    let image = Image::new("range", SECTORS * 512);
    let mut d = driver(&image, false);
    let data = d.alloc(1024, 0);
    for sector in [SECTORS, SECTORS - 1, u64::MAX / 512, u64::MAX] {
        let (len, status) = io(&mut d, VIRTIO_BLK_T_IN, sector, &[(data, 1024)], true);
        assert_eq!((len, status), (1, VIRTIO_BLK_S_IOERR), "read at {sector}");
        let (_, status) = io(&mut d, VIRTIO_BLK_T_OUT, sector, &[(data, 1024)], false);
        assert_eq!(status, VIRTIO_BLK_S_IOERR, "write at {sector}");
    }
    let (_, status) = io(&mut d, VIRTIO_BLK_T_IN, SECTORS - 2, &[(data, 1024)], true);
    assert_eq!(status, VIRTIO_BLK_S_OK, "the last two sectors");
    let (_, status) = io(&mut d, VIRTIO_BLK_T_IN, 0, &[(data, 100)], true);
    assert_eq!(status, VIRTIO_BLK_S_IOERR, "not a whole sector");
}

#[test]
fn test_blk_unknown_type_is_unsupported() {
    let image = Image::new("unsupp", SECTORS * 512);
    let mut d = driver(&image, false);
    assert_eq!(io(&mut d, 11, 0, &[], false), (1, VIRTIO_BLK_S_UNSUPP));
}

#[test]
fn test_blk_descriptor_loop_is_dropped_without_status() {
    let image = Image::new("loop", SECTORS * 512);
    let mut d = driver(&image, false);
    let hdr = header(&mut d, VIRTIO_BLK_T_IN, 0);
    let status = d.alloc(1, 0xee);
    d.write_desc(0, 0, hdr, 16, F_NEXT, 1);
    d.write_desc(0, 1, status, 1, F_NEXT | F_WRITE, 0);
    d.publish(0, 0);
    d.kick(0);
    assert_eq!(d.used(0), vec![(0, 0)]);
    assert_eq!(d.bytes(status, 1), vec![0xee]);
}

#[test]
fn test_blk_next_index_out_of_range_is_dropped() {
    let image = Image::new("next", SECTORS * 512);
    let mut d = driver(&image, false);
    let hdr = header(&mut d, VIRTIO_BLK_T_IN, 0);
    d.write_desc(0, 0, hdr, 16, F_NEXT, 1000);
    d.publish(0, 0);
    d.kick(0);
    assert_eq!(d.used(0), vec![(0, 0)]);
}

#[test]
fn test_blk_head_index_out_of_range_is_skipped_and_queue_goes_on() {
    let image = Image::new("head", SECTORS * 512);
    let mut d = driver(&image, false);
    d.publish(0, 60_000);
    let data = d.alloc(512, 0);
    let (len, status) = {
        let hdr = header(&mut d, VIRTIO_BLK_T_IN, 0);
        let status = d.alloc(1, 0xee);
        let head = d.push(0, &[(hdr, 16, false), (data, 512, true), (status, 1, true)]);
        d.kick(0);
        let used = d.used(0);
        assert_eq!(used.len(), 1, "the bad head has no used entry");
        assert_eq!(used[0].0, u32::from(head));
        (used[0].1, d.bytes(status, 1)[0])
    };
    assert_eq!((len, status), (513, VIRTIO_BLK_S_OK));
    assert_eq!(d.status() & STATUS_DEVICE_NEEDS_RESET, 0);
}

#[test]
fn test_blk_data_outside_memory_gets_ioerr() {
    let image = Image::new("oob", SECTORS * 512);
    let mut d = driver(&image, false);
    let before = image.bytes(0, 1024);
    for (addr, writable) in [
        (MEM_SIZE - 256, true),
        (MEM_SIZE - 256, false),
        (u64::MAX - 100, true),
    ] {
        let kind = if writable {
            VIRTIO_BLK_T_IN
        } else {
            VIRTIO_BLK_T_OUT
        };
        let (len, status) = io(&mut d, kind, 0, &[(addr, 512)], writable);
        assert_eq!((len, status), (1, VIRTIO_BLK_S_IOERR), "{addr:#x}");
    }
    assert_eq!(image.bytes(0, 1024), before);
}

#[test]
fn test_blk_short_or_empty_header_gets_ioerr() {
    let image = Image::new("short", SECTORS * 512);
    let mut d = driver(&image, false);
    for len in [0u32, 8, 15] {
        let hdr = header(&mut d, VIRTIO_BLK_T_IN, 0);
        let status = d.alloc(1, 0xee);
        let got = request(&mut d, &[(hdr, len, false), (status, 1, true)], status);
        assert_eq!(got, (1, VIRTIO_BLK_S_IOERR), "header of {len} bytes");
    }
}

#[test]
fn test_blk_missing_or_empty_status_is_dropped() {
    let image = Image::new("nostatus", SECTORS * 512);
    let mut d = driver(&image, false);
    let hdr = header(&mut d, VIRTIO_BLK_T_FLUSH, 0);
    let status = d.alloc(1, 0xee);
    let cases: [&[Buf]; 4] = [
        &[(hdr, 16, false)],
        &[(hdr, 16, false), (status, 1, false)],
        &[(hdr, 16, false), (status, 0, true)],
        &[(hdr, 16, false), (MEM_SIZE + 4096, 1, true)],
    ];
    for bufs in cases {
        let head = d.push(0, bufs);
        d.kick(0);
        assert_eq!(d.used(0), vec![(u32::from(head), 0)], "{bufs:?}");
    }
    assert_eq!(d.bytes(status, 1), vec![0xee]);
}

#[test]
fn test_blk_wrong_direction_gets_ioerr() {
    let image = Image::new("dir", SECTORS * 512);
    let mut d = driver(&image, false);
    let before = image.bytes(0, 512);
    let hdr = header(&mut d, VIRTIO_BLK_T_OUT, 0);
    let (data, status) = (d.alloc(512, 0x33), d.alloc(1, 0xee));
    // Header device-writable: no readable header at all.
    let got = request(
        &mut d,
        &[(hdr, 16, true), (data, 512, true), (status, 1, true)],
        status,
    );
    assert_eq!(got, (1, VIRTIO_BLK_S_IOERR));
    // A readable buffer after a writable one.
    let hdr = header(&mut d, VIRTIO_BLK_T_OUT, 0);
    let bufs = [
        (hdr, 16, false),
        (status, 1, true),
        (data, 512, false),
        (status, 1, true),
    ];
    assert_eq!(request(&mut d, &bufs, status), (1, VIRTIO_BLK_S_IOERR));
    assert_eq!(image.bytes(0, 512), before);
}

#[test]
fn test_blk_odd_sized_file_rounds_capacity_down() {
    let image = Image::new("odd", 1000);
    let block = image.block(false);
    assert_eq!(block.capacity(), 1);
    let mut d = Driver::new(block);
    d.init(features(false), 16);
    let data = d.alloc(1024, 0);
    assert_eq!(
        io(&mut d, VIRTIO_BLK_T_IN, 0, &[(data, 1024)], true).1,
        VIRTIO_BLK_S_IOERR
    );
    assert_eq!(
        io(&mut d, VIRTIO_BLK_T_IN, 0, &[(data, 512)], true).1,
        VIRTIO_BLK_S_OK
    );
}

#[test]
fn test_blk_open_reports_missing_file() {
    let missing = std::env::temp_dir().join("devices-virtio-blk-no-such-image");
    let err = Block::open(&missing, false).unwrap_err();
    assert!(err.to_string().contains("no-such-image"), "{err}");
}
