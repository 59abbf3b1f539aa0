//! Throughput of the virtio-blk model against plain `pread`/`pwrite` on
//! the same file, in the same run.
//!
//! A minimal driver puts batches of 4 KiB and 1 MiB read and write
//! requests on the queue, notifies, and lets the event side serve them
//! (what the VMM's event thread does), checking every status byte. The
//! baseline moves the same sizes at the same offsets with `read_at` /
//! `write_at` into as many distinct buffers. The two sides alternate in
//! rounds of 250 ms, four each per case (about 9 s in all). The file stays
//! in the page cache, so both sides measure CPU cost, not the disk.
//!
//! `cargo run --release -p devices --example blk_bench`

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use devices::pci::{MsiMessage, MsiSink, PciFunction};
use devices::virtio::*;
use vm_memory::{Bytes, GuestAddress};

/// Bytes of the disk image.
const DISK_BYTES: u64 = 256 << 20;
/// Time of one round; the two sides alternate for `ROUNDS` rounds each.
const ROUND_TIME: Duration = Duration::from_millis(250);
/// Rounds per side and case.
const ROUNDS: usize = 4;
/// Queue size the driver uses.
const QUEUE_SIZE: u16 = 256;
/// Guest memory layout: rings, request headers, status bytes, data.
const DESC: u64 = 0x0;
const AVAIL: u64 = 0x1_0000;
const USED: u64 = 0x2_0000;
const HEADERS: u64 = 0x3_0000;
const STATUS: u64 = 0x4_0000;
const DATA: u64 = 0x10_0000;
const GUEST_BYTES: u64 = DATA + (64 << 20);

struct NoInterrupts;

impl MsiSink for NoInterrupts {
    fn send(&self, _: u16, _: MsiMessage) {}
}

/// Just enough of a virtio-pci driver to keep one queue busy.
struct Driver {
    dev: VirtioPci<Block>,
    mem: GuestMemory,
    avail_idx: u16,
    used_idx: u16,
}

impl Driver {
    fn new(file: File) -> Self {
        let mem = GuestMemory::from_ranges(&[(GuestAddress(0), GUEST_BYTES as usize)])
            .expect("guest memory");
        let block = Block::new(file, false).expect("disk");
        let dev = VirtioPci::new(block, mem.clone(), Arc::new(NoInterrupts)).expect("device");
        let mut driver = Self {
            dev,
            mem,
            avail_idx: 0,
            used_idx: 0,
        };
        driver.bring_up();
        // Touch the data buffers, as a guest's would be: untouched
        // anonymous memory reads from the shared zero page.
        let fill = vec![0x3cu8; 1 << 20];
        for at in (DATA..GUEST_BYTES).step_by(fill.len()) {
            driver
                .mem
                .write_slice(&fill, GuestAddress(at))
                .expect("fill");
        }
        driver
    }

    fn write(&mut self, offset: u64, value: u64, len: usize) {
        self.dev
            .write_bar(0, COMMON_OFFSET + offset, &value.to_le_bytes()[..len]);
    }

    fn bring_up(&mut self) {
        let features = (1u64 << VIRTIO_F_VERSION_1) | (1 << VIRTIO_BLK_F_FLUSH);
        self.write(
            COMMON_STATUS,
            u64::from(STATUS_ACKNOWLEDGE | STATUS_DRIVER),
            1,
        );
        self.write(COMMON_GFSELECT, 0, 4);
        self.write(COMMON_GF, features & 0xffff_ffff, 4);
        self.write(COMMON_GFSELECT, 1, 4);
        self.write(COMMON_GF, features >> 32, 4);
        let ok = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
        self.write(COMMON_STATUS, u64::from(ok), 1);
        self.write(COMMON_Q_SELECT, 0, 2);
        self.write(COMMON_Q_SIZE, u64::from(QUEUE_SIZE), 2);
        self.write(COMMON_Q_DESC, DESC, 8);
        self.write(COMMON_Q_AVAIL, AVAIL, 8);
        self.write(COMMON_Q_USED, USED, 8);
        self.write(COMMON_Q_ENABLE, 1, 2);
        self.write(COMMON_STATUS, u64::from(ok | STATUS_DRIVER_OK), 1);
        assert_eq!(self.dev.status(), ok | STATUS_DRIVER_OK, "device started");
        self.dev.handle_event(0);
    }

    fn descriptor(&self, index: u16, addr: u64, len: u32, flags: u16) {
        let at = DESC + 16 * u64::from(index);
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&addr.to_le_bytes());
        raw[8..12].copy_from_slice(&len.to_le_bytes());
        raw[12..14].copy_from_slice(&flags.to_le_bytes());
        raw[14..].copy_from_slice(&(index + 1).to_le_bytes());
        self.mem.write_slice(&raw, GuestAddress(at)).expect("ring");
    }

    /// Serves `count` requests of `size` bytes from `sector` on; each
    /// request has its own header, data buffer and status byte.
    fn batch(&mut self, kind: u32, sector: u64, size: u32, count: u16) {
        const NEXT: u16 = 1;
        const WRITE: u16 = 2;
        let data_flags = if kind == VIRTIO_BLK_T_IN { WRITE } else { 0 };
        for i in 0..count {
            let header = HEADERS + 16 * u64::from(i);
            let mut raw = [0u8; 16];
            raw[..4].copy_from_slice(&kind.to_le_bytes());
            let request_sector = sector + u64::from(i) * u64::from(size) / SECTOR_SIZE;
            raw[8..].copy_from_slice(&request_sector.to_le_bytes());
            self.mem
                .write_slice(&raw, GuestAddress(header))
                .expect("header");
            let head = 3 * i;
            let data = DATA + u64::from(i) * u64::from(size);
            self.descriptor(head, header, 16, NEXT);
            self.descriptor(head + 1, data, size, NEXT | data_flags);
            self.descriptor(head + 2, STATUS + u64::from(i), 1, WRITE);
            let slot = AVAIL + 4 + 2 * u64::from(self.avail_idx % QUEUE_SIZE);
            self.mem.write_obj(head, GuestAddress(slot)).expect("avail");
            self.avail_idx = self.avail_idx.wrapping_add(1);
        }
        self.mem
            .write_obj(self.avail_idx, GuestAddress(AVAIL + 2))
            .expect("avail idx");
        self.dev.write_bar(0, NOTIFY_OFFSET, &0u16.to_le_bytes());
        self.dev.handle_event(0);
        let used: u16 = self.mem.read_obj(GuestAddress(USED + 2)).expect("used idx");
        assert_eq!(used, self.used_idx.wrapping_add(count), "all served");
        self.used_idx = used;
        let mut status = vec![0xffu8; usize::from(count)];
        self.mem
            .read_slice(&mut status, GuestAddress(STATUS))
            .expect("status");
        assert!(status.iter().all(|&s| s == VIRTIO_BLK_S_OK), "status OK");
    }
}

/// Requests in flight per batch for a request size (data fits guest memory).
fn batch_len(size: u32) -> u16 {
    ((64u64 << 20) / u64::from(size)).min(u64::from(QUEUE_SIZE / 3)) as u16
}

/// Bytes moved and time taken, summed over rounds.
#[derive(Default)]
struct Tally {
    bytes: u64,
    time: Duration,
}

impl Tally {
    /// Runs `op` in batches for `ROUND_TIME`; `op` gets the starting
    /// byte offset and moves `batch_bytes`.
    fn run(&mut self, batch_bytes: u64, mut op: impl FnMut(u64)) {
        let start = Instant::now();
        let mut offset = 0;
        while start.elapsed() < ROUND_TIME {
            op(offset);
            self.bytes += batch_bytes;
            offset += batch_bytes;
            if offset + batch_bytes > DISK_BYTES {
                offset = 0;
            }
        }
        self.time += start.elapsed();
    }

    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.time.as_secs_f64() / 1e6
    }
}

fn image_path() -> PathBuf {
    std::env::temp_dir().join(format!("devices-blk-bench-{}.img", std::process::id()))
}

fn main() {
    let path = image_path();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("create image");
    // Fill the image so reads come from the page cache, not holes.
    let chunk = vec![0xa5u8; 1 << 20];
    for offset in (0..DISK_BYTES).step_by(chunk.len()) {
        file.write_all_at(&chunk, offset).expect("fill image");
    }
    let plain = file.try_clone().expect("second handle");
    let mut driver = Driver::new(file);
    // The baseline gets as many distinct buffers as the model has requests
    // in flight, like the guest's data buffers.
    let mut buffers = vec![0x5au8; 64 << 20];

    println!("virtio-blk model vs plain pread/pwrite, same file, {DISK_BYTES} B image, page cache");
    println!(
        "{:<12} {:>12} {:>12} {:>12}",
        "case", "model MB/s", "plain MB/s", "model/plain"
    );
    for size in [4096u32, 1 << 20] {
        let count = batch_len(size);
        let batch_bytes = u64::from(size) * u64::from(count);
        for kind in [VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_IN] {
            let (mut plain_tally, mut model_tally) = (Tally::default(), Tally::default());
            for _ in 0..ROUNDS {
                plain_tally.run(batch_bytes, |offset| {
                    for i in 0..u64::from(count) {
                        let at = offset + i * u64::from(size);
                        let start = (i * u64::from(size)) as usize;
                        let buf = &mut buffers[start..start + size as usize];
                        if kind == VIRTIO_BLK_T_IN {
                            plain.read_exact_at(buf, at).expect("pread");
                        } else {
                            plain.write_all_at(buf, at).expect("pwrite");
                        }
                    }
                });
                model_tally.run(batch_bytes, |offset| {
                    driver.batch(kind, offset / SECTOR_SIZE, size, count);
                });
            }
            let (model_rate, plain_rate) = (model_tally.mb_per_s(), plain_tally.mb_per_s());
            let name = format!(
                "{} {}",
                if kind == VIRTIO_BLK_T_IN {
                    "read"
                } else {
                    "write"
                },
                if size == 4096 { "4 KiB" } else { "1 MiB" }
            );
            println!(
                "{name:<12} {model_rate:>12.0} {plain_rate:>12.0} {:>12.2}",
                model_rate / plain_rate
            );
        }
    }
    drop(driver);
    let _ = std::fs::remove_file(&path);
}
