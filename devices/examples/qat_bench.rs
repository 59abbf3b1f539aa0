//! Throughput of the QAT 420xx model's ring path against the same crates
//! called directly, in the same run.
//!
//! A minimal driver fills one ring pair with 511 requests (a full 64 KiB
//! TX ring in flight), each on its own 16 KiB payload described by a
//! one-entry buffer list, writes the TX tail after every request as
//! Linux does, lets the event side serve the ring (what the VMM's event
//! thread does), and takes the responses back, checking every status.
//! The baseline runs the same operation on the same payloads with
//! `ring` (AES-256-GCM), `sha2` (SHA-256) and `libdeflater` (deflate,
//! level 1). The two sides alternate in rounds of 300 ms, four each per
//! case (about 10 s in all).
//!
//! `cargo run --release -p devices --example qat_bench`

use std::sync::Arc;
use std::time::{Duration, Instant};

use devices::pci::{MsiMessage, MsiSink, PciFunction};
use devices::qat::regs::*;
use devices::qat::{Qat420xx, DOORBELL_TOKEN};
use devices::virtio::GuestMemory;
use vm_memory::{Bytes, GuestAddress};

/// Payload bytes per request.
const PAYLOAD: usize = 16 << 10;
/// Requests in flight: a 64 KiB TX ring of 128-byte requests, minus one.
const IN_FLIGHT: usize = 511;
/// Time of one round; the sides alternate for `ROUNDS` rounds each.
const ROUND_TIME: Duration = Duration::from_millis(300);
/// Rounds per side and case.
const ROUNDS: usize = 4;
/// Guest memory layout.
const TX_RING: u64 = 0x10_0000;
const RX_RING: u64 = 0x20_0000;
const CD: u64 = 0x30_0000;
const LISTS: u64 = 0x40_0000;
const RESULTS: u64 = 0x50_0000;
const DATA: u64 = 0x100_0000;
const OUT: u64 = DATA + (IN_FLIGHT * PAYLOAD) as u64;
const GUEST_BYTES: u64 = OUT + (IN_FLIGHT * 2 * PAYLOAD) as u64;
const BANK: usize = 1;

struct NoInterrupts;

impl MsiSink for NoInterrupts {
    fn send(&self, _: u16, _: MsiMessage) {}
}

/// Just enough of the qat_420xx driver to keep one ring pair busy.
struct Driver {
    dev: Qat420xx,
    mem: GuestMemory,
    tail: u64,
    head: u64,
}

impl Driver {
    fn new() -> Self {
        let mem =
            GuestMemory::from_ranges(&[(GuestAddress(0), GUEST_BYTES as usize)]).expect("memory");
        let mut dev = Qat420xx::new(mem.clone(), Arc::new(NoInterrupts)).expect("device");
        dev.write_config(0x04, &0x0006u16.to_le_bytes());
        let mut d = Self {
            dev,
            mem,
            tail: 0,
            head: 0,
        };
        d.mem
            .write_slice(&[0x7f; 64 << 10], GuestAddress(TX_RING))
            .unwrap();
        d.mem
            .write_slice(&[0x7f; 16 << 10], GuestAddress(RX_RING))
            .unwrap();
        for (ring, base, code) in [(0u64, TX_RING, 10u32), (1, RX_RING, 8)] {
            d.csr(RING_CONFIG + 4 * ring, code);
            d.csr(RING_LBASE + 4 * ring, base as u32);
            d.csr(RING_UBASE + 4 * ring, 0);
        }
        d.csr(RING_SRV_ARB_EN, 1);
        d
    }

    fn csr(&mut self, offset: u64, value: u32) {
        let at = BANK_BASE + BANK_STRIDE * BANK as u64 + offset;
        self.dev.write_bar(ETR_BAR, at, &value.to_le_bytes());
    }

    /// Submits every request, serves the ring, takes every response.
    fn round(&mut self, requests: &[[u8; 128]]) {
        for r in requests {
            self.mem
                .write_slice(r, GuestAddress(TX_RING + self.tail))
                .unwrap();
            self.tail = (self.tail + 128) % (64 << 10);
            self.csr(RING_TAIL, self.tail as u32);
        }
        self.dev.handler().handle_event(DOORBELL_TOKEN);
        for _ in requests {
            let mut resp = [0u8; 32];
            self.mem
                .read_slice(&mut resp, GuestAddress(RX_RING + self.head))
                .unwrap();
            assert_eq!(resp[6] & 0xf0, 0, "request failed: {resp:02x?}");
            self.mem
                .write_slice(&[0x7f; 4], GuestAddress(RX_RING + self.head))
                .unwrap();
            self.head = (self.head + 32) % (16 << 10);
        }
        self.csr(RING_HEAD + 4, self.head as u32);
    }

    /// A one-entry buffer list for request `i` over `len` bytes at `addr`.
    fn list(&self, i: usize, slot: u64, addr: u64, len: usize) -> u64 {
        let at = LISTS + (i as u64 * 2 + slot) * 64;
        let mut raw = [0u8; 32];
        raw[8..12].copy_from_slice(&1u32.to_le_bytes());
        raw[16..20].copy_from_slice(&(len as u32).to_le_bytes());
        raw[24..32].copy_from_slice(&addr.to_le_bytes());
        self.mem.write_slice(&raw, GuestAddress(at)).unwrap();
        at
    }
}

fn la_header(cmd: u8, flags: u16, cd_qw: u8, list: u64, i: usize) -> [u8; 128] {
    let mut r = [0u8; 128];
    r[1] = cmd;
    r[2] = 4;
    r[3] = 0x80;
    r[4..6].copy_from_slice(&flags.to_le_bytes());
    r[6..8].copy_from_slice(&1u16.to_le_bytes());
    r[8..16].copy_from_slice(&CD.to_le_bytes());
    r[18] = cd_qw;
    r[24..32].copy_from_slice(&(i as u64).to_le_bytes());
    r[32..40].copy_from_slice(&list.to_le_bytes());
    r[40..48].copy_from_slice(&list.to_le_bytes());
    r
}

/// AES-256-GCM encrypt requests, in place, tag to a result slot.
fn gcm_requests(d: &Driver, key: &[u8; 32]) -> Vec<[u8; 128]> {
    let mut cd = [0u8; 128];
    cd[0..4].copy_from_slice(&0x25u32.to_le_bytes());
    cd[8..40].copy_from_slice(key);
    d.mem.write_slice(&cd, GuestAddress(CD)).unwrap();
    (0..IN_FLIGHT)
        .map(|i| {
            let list = d.list(i, 0, DATA + (i * PAYLOAD) as u64, PAYLOAD);
            let mut r = la_header(2, (1 << 2) | (2 << 7) | (1 << 11) | (1 << 5), 16, list, i);
            r[60..64].copy_from_slice(&(PAYLOAD as u32).to_le_bytes());
            r[64..76].copy_from_slice(&[1; 12]);
            r[96..104].copy_from_slice(&(RESULTS + i as u64 * 64).to_le_bytes());
            r[109] = 4;
            r[118] = 16;
            r
        })
        .collect()
}

/// SHA-256 requests, digest to a result slot.
fn sha_requests(d: &Driver) -> Vec<[u8; 128]> {
    let mut cd = [0u8; 80];
    cd[0..4].copy_from_slice(&(4u32 | 32 << 8).to_le_bytes());
    d.mem.write_slice(&cd, GuestAddress(CD)).unwrap();
    (0..IN_FLIGHT)
        .map(|i| {
            let list = d.list(i, 0, DATA + (i * PAYLOAD) as u64, PAYLOAD);
            let mut r = la_header(1, (1 << 2) | (1 << 5), 10, list, i);
            r[84..88].copy_from_slice(&(PAYLOAD as u32).to_le_bytes());
            r[96..104].copy_from_slice(&(RESULTS + i as u64 * 64).to_le_bytes());
            r[118] = 32;
            r
        })
        .collect()
}

/// Deflate compress requests as qat_comp_algs builds them.
fn deflate_requests(d: &Driver) -> Vec<[u8; 128]> {
    (0..IN_FLIGHT)
        .map(|i| {
            let src = d.list(i, 0, DATA + (i * PAYLOAD) as u64, PAYLOAD);
            let dst = d.list(i, 1, OUT + (i * 2 * PAYLOAD) as u64, 2 * PAYLOAD);
            let mut r = [0u8; 128];
            r[2] = 9;
            r[3] = 0x80;
            r[4..6].copy_from_slice(&8u16.to_le_bytes());
            r[6..8].copy_from_slice(&3u16.to_le_bytes());
            r[24..32].copy_from_slice(&(i as u64).to_le_bytes());
            r[32..40].copy_from_slice(&src.to_le_bytes());
            r[40..48].copy_from_slice(&dst.to_le_bytes());
            r[48..52].copy_from_slice(&(PAYLOAD as u32).to_le_bytes());
            r[52..56].copy_from_slice(&(2 * PAYLOAD as u32).to_le_bytes());
            r[56..60].copy_from_slice(&(PAYLOAD as u32).to_le_bytes());
            r[60..64].copy_from_slice(&(2 * PAYLOAD as u32).to_le_bytes());
            r[68..72].copy_from_slice(&1u32.to_le_bytes());
            r[72..76].copy_from_slice(&0x30043u32.to_le_bytes());
            r
        })
        .collect()
}

/// Text-like, compressible data.
fn payloads() -> Vec<Vec<u8>> {
    let words: [&[u8]; 8] = [
        b"the ",
        b"quick ",
        b"brown ",
        b"fox ",
        b"QAT ",
        b"420xx ",
        b"ring ",
        b"deflate ",
    ];
    let mut x = 12345u32;
    (0..IN_FLIGHT)
        .map(|_| {
            let mut p = Vec::with_capacity(PAYLOAD + 8);
            while p.len() < PAYLOAD {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                p.extend_from_slice(words[(x >> 28) as usize % words.len()]);
            }
            p.truncate(PAYLOAD);
            p
        })
        .collect()
}

/// Runs `f` (one batch of IN_FLIGHT payloads) for a round; MB/s.
fn round(f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    let mut batches = 0u64;
    while start.elapsed() < ROUND_TIME {
        f();
        batches += 1;
    }
    (batches * (IN_FLIGHT * PAYLOAD) as u64) as f64 / start.elapsed().as_secs_f64() / 1e6
}

fn case(name: &str, model: &mut dyn FnMut(), direct: &mut dyn FnMut()) {
    model();
    direct();
    let (mut m, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        m.push(round(model));
        b.push(round(direct));
    }
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (m, b) = (best(&m), best(&b));
    println!(
        "{name:<24} model {m:>8.0} MB/s   direct {b:>8.0} MB/s   model/direct {:.2}",
        m / b
    );
}

fn main() {
    let data = payloads();
    let mut d = Driver::new();
    let load = |d: &Driver| {
        for (i, p) in data.iter().enumerate() {
            d.mem
                .write_slice(p, GuestAddress(DATA + (i * PAYLOAD) as u64))
                .unwrap();
        }
    };
    load(&d);
    println!(
        "QAT 420xx model, {IN_FLIGHT} requests of {} KiB in flight per batch",
        PAYLOAD >> 10
    );

    let key = [7u8; 32];
    let gcm = gcm_requests(&d, &key);
    let mut bufs = data.clone();
    let ring_key = ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &key).unwrap(),
    );
    case("AES-256-GCM encrypt", &mut || d.round(&gcm), &mut || {
        for b in bufs.iter_mut() {
            let nonce = ring::aead::Nonce::assume_unique_for_key([1; 12]);
            let tag = ring_key
                .seal_in_place_separate_tag(nonce, ring::aead::Aad::empty(), b)
                .unwrap();
            let _ = std::hint::black_box(tag);
        }
    });

    load(&d);
    let sha = sha_requests(&d);
    case("SHA-256", &mut || d.round(&sha), &mut || {
        use sha2::Digest;
        for p in &data {
            std::hint::black_box(sha2::Sha256::digest(p));
        }
    });

    let deflate = deflate_requests(&d);
    let mut compressor = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).unwrap());
    let mut out = vec![0u8; 2 * PAYLOAD];
    let n = compressor.deflate_compress(&data[0], &mut out).unwrap();
    println!("(deflate level 1 ratio {:.2})", n as f64 / PAYLOAD as f64);
    case(
        "deflate compress (CnV)",
        &mut || d.round(&deflate),
        &mut || {
            for p in &data {
                std::hint::black_box(compressor.deflate_compress(p, &mut out).unwrap());
            }
        },
    );
}
