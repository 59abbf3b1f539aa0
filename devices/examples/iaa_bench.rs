//! Throughput of the IAA model's descriptor path against deflate crates
//! called directly on the same 4 KiB pages, in the same run.
//!
//! The pages are a zswap-like mix (text, records with pointers, sparse
//! pages, log lines, and one random page in eight, which does not fit a
//! 4 KiB destination and is rejected on every side). The model side is a
//! minimal driver: the pages sit in guest memory, each operation is one
//! 64-byte portal write and a completion-record read, exactly what a
//! MOVDIR64B exit costs the VMM besides the exit itself. iaa_crypto's
//! compress is a compress plus a verify (a decompress with suppressed
//! output); both are measured. The baselines: libdeflate level 1 (the
//! fastest host deflate, dynamic blocks), zlib-rs level 1 with fixed blocks
//! (the fastest crate that can force them) and libdeflate decompress on the
//! model's own streams. Sides alternate in rounds of 200 ms, five each
//! (about 12 s in all). MB/s counts uncompressed bytes.
//!
//! `cargo run --release -p devices --example iaa_bench`

use std::sync::Arc;
use std::time::{Duration, Instant};

use devices::iaa::codec::{linux_fixed_aecs, AECS_SIZE};
use devices::iaa::descriptor::{opcode, Descriptor};
use devices::iaa::regs::*;
use devices::iaa::Iaa;
use devices::pci::{MsiMessage, MsiSink, PciFunction};
use devices::virtio::GuestMemory;
use vm_memory::{Bytes, GuestAddress};

const PAGES: usize = 512;
const PAGE: usize = 4096;
const ROUND_TIME: Duration = Duration::from_millis(200);
const ROUNDS: usize = 5;
/// Guest memory layout.
const AECS: u64 = 0x1000;
const RECORDS: u64 = 0x1_0000;
const SRC: u64 = 0x10_0000;
const DST: u64 = SRC + (PAGES * PAGE) as u64;
const OUT: u64 = DST + (PAGES * PAGE) as u64;
const GUEST_BYTES: usize = (OUT as usize) + PAGES * PAGE;

struct NoInterrupts;

impl MsiSink for NoInterrupts {
    fn send(&self, _: u16, _: MsiMessage) {}
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "the", "page", "kernel", "memory", "swap", "of", "and", "a", "to", "in", "device", "queue",
    "compress", "buffer", "zswap", "virtual", "machine", "address", "return", "struct", "error",
];

/// One page of kind `kind` (see the module comment).
fn page(rng: &mut Rng, kind: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(PAGE + 128);
    match kind {
        0..=2 => {
            while p.len() < PAGE {
                p.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
                p.push(if rng.below(12) == 0 { b'\n' } else { b' ' });
            }
        }
        3 | 4 => {
            let mut id = rng.below(1000) as u32;
            while p.len() < PAGE {
                p.extend_from_slice(&id.to_le_bytes());
                p.extend_from_slice(&(rng.below(256) as u32).to_le_bytes());
                p.extend_from_slice(&(0xffff_8880_0000_0000 + rng.below(64) * 64).to_le_bytes());
                id += 1;
            }
        }
        5 => {
            p.resize(PAGE, 0);
            for _ in 0..8 {
                let at = rng.below((PAGE - 64) as u64) as usize;
                p[at..at + 64]
                    .iter_mut()
                    .for_each(|b| *b = rng.next() as u8);
            }
        }
        6 => p.extend((0..PAGE).map(|_| rng.next() as u8)),
        _ => {
            while p.len() < PAGE {
                let line = format!(
                    "[{:>8}.{:06}] idxd 0000:00:{:02x}.0: wq {} state {} size {}\n",
                    rng.below(100_000),
                    rng.below(1_000_000),
                    rng.below(32),
                    rng.below(8),
                    rng.below(3),
                    rng.below(128)
                );
                p.extend_from_slice(line.as_bytes());
            }
        }
    }
    p.truncate(PAGE);
    p
}

/// A driver that brings WQ 0 up and submits descriptors to it.
struct Driver {
    iaa: Iaa,
    mem: GuestMemory,
    slot: u64,
}

impl Driver {
    fn new(pages: &[Vec<u8>]) -> Self {
        let mem = GuestMemory::from_ranges(&[(GuestAddress(0), GUEST_BYTES)]).expect("memory");
        let mut iaa = Iaa::new(mem.clone(), Arc::new(NoInterrupts)).expect("device");
        iaa.write_config(0x04, &6u16.to_le_bytes());
        let mut w32 = |offset: u64, value: u32| iaa.write_bar(0, offset, &value.to_le_bytes());
        w32(WQCFG_TABLE, 128);
        w32(WQCFG_TABLE + 8, 1 | (10 << 4));
        w32(WQCFG_TABLE + 12, 21);
        w32(GRPCFG_TABLE, 1);
        w32(GRPCFG_TABLE + GRPCFG_ENGINES, 1);
        w32(CMD, cmd::ENABLE_DEVICE << CMD_CODE_SHIFT);
        w32(CMD, cmd::ENABLE_WQ << CMD_CODE_SHIFT);
        let mut status = [0u8; 4];
        iaa.read_bar(0, CMDSTS, &mut status);
        assert_eq!(status, [0; 4], "WQ 0 enabled");
        mem.write_slice(&linux_fixed_aecs(), GuestAddress(AECS))
            .expect("AECS");
        for (i, p) in pages.iter().enumerate() {
            mem.write_slice(p, GuestAddress(SRC + (i * PAGE) as u64))
                .expect("page");
        }
        Self { iaa, mem, slot: 0 }
    }

    /// Submits `desc` with the next completion record; returns (status, output size).
    fn run(&mut self, mut desc: Descriptor) -> (u8, u32) {
        let record = RECORDS + 64 * (self.slot % 64);
        desc.completion_addr = record;
        self.mem
            .write_obj(0u8, GuestAddress(record))
            .expect("record");
        let portal = PORTAL_PAGE + 64 * (self.slot % 64);
        self.slot += 1;
        self.iaa.write_bar(2, portal, &desc.to_bytes());
        let mut head = [0u8; 28];
        self.mem
            .read_slice(&mut head, GuestAddress(record))
            .expect("record");
        (
            head[0],
            u32::from_le_bytes([head[24], head[25], head[26], head[27]]),
        )
    }

    fn compress(&mut self, i: usize) -> (u8, u32) {
        self.run(Descriptor {
            pasid_priv: 0,
            flags: 0x01_010c,
            opcode: opcode::COMPRESS,
            completion_addr: 0,
            src1_addr: SRC + (i * PAGE) as u64,
            dst_addr: DST + (i * PAGE) as u64,
            src1_size: PAGE as u32,
            int_handle: 0,
            op_flags: 0x6,
            src2_addr: AECS,
            max_dst_size: PAGE as u32,
            src2_size: AECS_SIZE as u32,
            filter_flags: 0,
            num_inputs: 0,
        })
    }

    fn decompress(&mut self, i: usize, len: u32, verify: bool) -> (u8, u32) {
        let (dst, flags) = if verify { (SRC, 0x20f) } else { (OUT, 0xf) };
        self.run(Descriptor {
            pasid_priv: 0,
            flags: 0x10c,
            opcode: opcode::DECOMPRESS,
            completion_addr: 0,
            src1_addr: DST + (i * PAGE) as u64,
            dst_addr: dst + (i * PAGE) as u64,
            src1_size: len,
            int_handle: 0,
            op_flags: flags,
            src2_addr: 0,
            max_dst_size: PAGE as u32,
            src2_size: 0,
            filter_flags: 0,
            num_inputs: 0,
        })
    }
}

/// Runs `pass` (one pass over all pages, returning bytes done) for a
/// round, adding its time and bytes.
fn rate(mut pass: impl FnMut() -> usize, total: &mut Duration, bytes: &mut usize) {
    let start = Instant::now();
    while start.elapsed() < ROUND_TIME {
        *bytes += pass();
    }
    *total += start.elapsed();
}

struct Case {
    name: &'static str,
    time: Duration,
    bytes: usize,
}

impl Case {
    fn mbps(&self) -> f64 {
        self.bytes as f64 / self.time.as_secs_f64() / 1e6
    }
}

fn main() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let pages: Vec<Vec<u8>> = (0..PAGES).map(|i| page(&mut rng, i % 8)).collect();
    let mut d = Driver::new(&pages);

    // The model's streams, checked once against the originals.
    let mut lens = vec![0u32; PAGES];
    let mut stored = 0;
    for (i, len) in lens.iter_mut().enumerate() {
        let (status, size) = d.compress(i);
        if status == 1 {
            *len = size;
            stored += 1;
            assert_eq!(d.decompress(i, size, false), (1, PAGE as u32));
            let mut back = vec![0u8; PAGE];
            d.mem
                .read_slice(&mut back, GuestAddress(OUT + (i * PAGE) as u64))
                .expect("output");
            assert_eq!(back, pages[i], "page {i} round trip");
        }
    }
    let model_bytes: u64 = lens.iter().map(|&l| u64::from(l)).sum();
    let streams: Vec<Vec<u8>> = (0..PAGES)
        .map(|i| {
            let mut s = vec![0u8; lens[i] as usize];
            d.mem
                .read_slice(&mut s, GuestAddress(DST + (i * PAGE) as u64))
                .expect("stream");
            s
        })
        .collect();

    let mut ld_compress =
        libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).unwrap());
    let mut ld_decompress = libdeflater::Decompressor::new();
    let mut out = vec![0u8; PAGE];
    let mut ld_bytes = 0u64;
    let mut zr_bytes = 0u64;
    for p in &pages {
        ld_bytes += ld_compress
            .deflate_compress(p, &mut out)
            .map_or(PAGE as u64, |n| n as u64);
        zr_bytes += zlib_fixed(p, &mut out).map_or(PAGE as u64, |n| n as u64);
    }

    let names = [
        "model compress (descriptor)",
        "model compress + verify (iaa_crypto)",
        "model decompress (descriptor)",
        "libdeflate L1 compress (direct)",
        "zlib-rs L1 fixed compress (direct)",
        "libdeflate decompress (direct)",
    ];
    let mut cases: Vec<Case> = names
        .iter()
        .map(|&name| Case {
            name,
            time: Duration::ZERO,
            bytes: 0,
        })
        .collect();
    for _ in 0..ROUNDS {
        for (k, case) in cases.iter_mut().enumerate() {
            let pass = || -> usize {
                match k {
                    0 => (0..PAGES)
                        .map(|i| {
                            d.compress(i);
                            PAGE
                        })
                        .sum(),
                    1 => (0..PAGES)
                        .map(|i| {
                            let (status, len) = d.compress(i);
                            if status == 1 {
                                d.decompress(i, len, true);
                            }
                            PAGE
                        })
                        .sum(),
                    2 => (0..PAGES)
                        .filter(|&i| lens[i] > 0)
                        .map(|i| d.decompress(i, lens[i], false).1 as usize)
                        .sum(),
                    3 => pages
                        .iter()
                        .map(|p| {
                            let _ = ld_compress.deflate_compress(p, &mut out);
                            PAGE
                        })
                        .sum(),
                    4 => pages
                        .iter()
                        .map(|p| {
                            let _ = zlib_fixed(p, &mut out);
                            PAGE
                        })
                        .sum(),
                    _ => streams
                        .iter()
                        .filter(|s| !s.is_empty())
                        .map(|s| ld_decompress.deflate_decompress(s, &mut out).unwrap_or(0))
                        .sum(),
                }
            };
            // Each case needs its own borrow of the shared state.
            run_case(case, pass);
        }
    }

    let total = (PAGES * PAGE) as f64;
    println!(
        "iaa_bench: {PAGES} pages of 4 KiB, {stored} fit 4 KiB compressed; ratio model {:.3}, libdeflate L1 {:.3}, zlib-rs fixed {:.3}",
        total / (model_bytes + ((PAGES - stored) * PAGE) as u64) as f64,
        total / ld_bytes as f64,
        total / zr_bytes as f64
    );
    for case in &cases {
        println!("iaa_bench: {:<40} {:>8.1} MB/s", case.name, case.mbps());
    }
    let by = |name: &str| {
        cases
            .iter()
            .find(|c| c.name == name)
            .map_or(0.0, Case::mbps)
    };
    println!(
        "iaa_bench: ratio model/direct: compress {:.2} (vs libdeflate L1), {:.2} (vs zlib-rs fixed); decompress {:.2}",
        by(names[0]) / by(names[3]),
        by(names[0]) / by(names[4]),
        by(names[2]) / by(names[5])
    );
}

fn run_case(case: &mut Case, pass: impl FnMut() -> usize) {
    rate(pass, &mut case.time, &mut case.bytes);
}

/// zlib-rs level 1 (deflate_quick: one fixed block), raw, 4 KiB window.
fn zlib_fixed(data: &[u8], out: &mut [u8]) -> Option<usize> {
    let config = zlib_rs::DeflateConfig {
        level: 1,
        method: zlib_rs::Method::Deflated,
        window_bits: -12,
        mem_level: 8,
        strategy: zlib_rs::Strategy::Fixed,
    };
    let (stream, rc) = zlib_rs::compress_slice(out, data, config);
    (rc == zlib_rs::ReturnCode::Ok).then_some(stream.len())
}
