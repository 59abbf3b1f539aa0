//! The bpf(2) system call end to end: an array map, an XDP program that
//! reads its context and packet and updates the map (accepted by the
//! verifier), BPF_PROG_TEST_RUN, the map read back, a rejected program
//! (-EACCES with the reason in the log) and Linux's error codes. Prints
//! `bpf: <check> ok` or `bpf: <check> FAILED (<detail>)` per check, then
//! `bpf: <n> checks, <f> failed`; exits 0 if none failed.

#![no_std]
#![no_main]

use guest_user::sys::syscall6;
use guest_user::{Args, entry, println, sys};

const NR_BPF: u64 = 321;
const MAP_CREATE: u64 = 0;
const MAP_LOOKUP_ELEM: u64 = 1;
const MAP_UPDATE_ELEM: u64 = 2;
const MAP_DELETE_ELEM: u64 = 3;
const MAP_GET_NEXT_KEY: u64 = 4;
const PROG_LOAD: u64 = 5;
const PROG_TEST_RUN: u64 = 10;
const MAP_TYPE_HASH: u32 = 1;
const MAP_TYPE_ARRAY: u32 = 2;
const PROG_TYPE_SOCKET_FILTER: u32 = 1;
const PROG_TYPE_XDP: u32 = 6;
const XDP_PASS: u32 = 2;

const ENOENT: i64 = -2;
const E2BIG: i64 = -7;
const EBADF: i64 = -9;
const EACCES: i64 = -13;
const EFAULT: i64 = -14;
const EINVAL: i64 = -22;
const ENOSPC: i64 = -28;

/// `union bpf_attr`, 8-byte aligned, 144 bytes (Linux 6.8's size).
#[repr(C, align(8))]
struct Attr([u8; 144]);

impl Attr {
    fn new() -> Attr {
        Attr([0; 144])
    }

    fn u32(mut self, off: usize, v: u32) -> Attr {
        self.0[off..off + 4].copy_from_slice(&v.to_le_bytes());
        self
    }

    fn u64(mut self, off: usize, v: u64) -> Attr {
        self.0[off..off + 8].copy_from_slice(&v.to_le_bytes());
        self
    }

    fn get_u32(&self, off: usize) -> u32 {
        u32::from_le_bytes([
            self.0[off],
            self.0[off + 1],
            self.0[off + 2],
            self.0[off + 3],
        ])
    }
}

fn bpf(cmd: u64, attr: &mut Attr) -> i64 {
    // SAFETY: `attr` is a live 144-byte buffer; the kernel reads and writes
    // only the fields of `cmd`, and the pointers in it name live buffers
    // (or deliberately bad addresses, which the kernel checks).
    unsafe { syscall6(NR_BPF, [cmd, attr.0.as_mut_ptr() as u64, 144, 0, 0, 0]) }
}

/// One instruction slot: `{code, dst | src << 4, off, imm}`.
const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let o = off.to_le_bytes();
    let i = imm.to_le_bytes();
    [code, dst | (src << 4), o[0], o[1], i[0], i[1], i[2], i[3]]
}

fn map_create(map_type: u32, key: u32, value: u32, entries: u32) -> i64 {
    let mut a = Attr::new()
        .u32(0, map_type)
        .u32(4, key)
        .u32(8, value)
        .u32(12, entries);
    bpf(MAP_CREATE, &mut a)
}

fn elem(cmd: u64, fd: i64, key: u64, value: u64, flags: u64) -> i64 {
    let mut a = Attr::new()
        .u32(0, fd as u32)
        .u64(8, key)
        .u64(16, value)
        .u64(24, flags);
    bpf(cmd, &mut a)
}

fn prog_load(prog: &[[u8; 8]], log: &mut [u8]) -> i64 {
    prog_load_licensed(prog, log, c"GPL")
}

fn prog_load_licensed(prog: &[[u8; 8]], log: &mut [u8], license: &core::ffi::CStr) -> i64 {
    prog_load_typed(PROG_TYPE_XDP, prog, log, license)
}

fn prog_load_typed(
    prog_type: u32,
    prog: &[[u8; 8]],
    log: &mut [u8],
    license: &core::ffi::CStr,
) -> i64 {
    let mut a = Attr::new()
        .u32(0, prog_type)
        .u32(4, prog.len() as u32)
        .u64(8, prog.as_ptr() as u64)
        .u64(16, license.as_ptr() as u64)
        .u32(24, 1)
        .u32(28, log.len() as u32)
        .u64(32, log.as_mut_ptr() as u64);
    bpf(PROG_LOAD, &mut a)
}

fn text(buf: &[u8]) -> &str {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    core::str::from_utf8(&buf[..end]).unwrap_or("<not utf-8>")
}

struct Checks {
    n: u32,
    failed: u32,
}

impl Checks {
    fn check(&mut self, name: &str, ok: bool, detail: i64) {
        self.n += 1;
        if ok {
            println!("bpf: {name} ok");
        } else {
            self.failed += 1;
            println!("bpf: {name} FAILED ({detail})");
        }
    }
}

fn main(_: &Args) -> i32 {
    let mut c = Checks { n: 0, failed: 0 };

    // An array map: 4 entries of {u32 word, u32 count}.
    let map = map_create(MAP_TYPE_ARRAY, 4, 8, 4);
    c.check("map create array", map >= 3, map);
    let key1 = 1u32;
    let v = [0x11u8, 0x22, 0x33, 0x44, 5, 0, 0, 0];
    let r = elem(
        MAP_UPDATE_ELEM,
        map,
        &key1 as *const u32 as u64,
        v.as_ptr() as u64,
        0,
    );
    c.check("map update from user space", r == 0, r);
    let mut got = [0u8; 8];
    let r = elem(
        MAP_LOOKUP_ELEM,
        map,
        &key1 as *const u32 as u64,
        got.as_mut_ptr() as u64,
        0,
    );
    c.check("map lookup reads it back", r == 0 && got == v, r);
    let key9 = 9u32;
    let r = elem(
        MAP_LOOKUP_ELEM,
        map,
        &key9 as *const u32 as u64,
        got.as_mut_ptr() as u64,
        0,
    );
    c.check("map lookup past the end: ENOENT", r == ENOENT, r);
    let r = elem(
        MAP_UPDATE_ELEM,
        map,
        &key9 as *const u32 as u64,
        v.as_ptr() as u64,
        0,
    );
    c.check("array update past the end: E2BIG", r == E2BIG, r);
    let r = elem(MAP_DELETE_ELEM, map, &key1 as *const u32 as u64, 0, 0);
    c.check("array delete: EINVAL", r == EINVAL, r);
    let mut next = u32::MAX;
    let r = elem(MAP_GET_NEXT_KEY, map, 0, &mut next as *mut u32 as u64, 0);
    c.check("get_next_key(NULL) is 0", r == 0 && next == 0, r);
    let key3 = 3u32;
    let r = elem(
        MAP_GET_NEXT_KEY,
        map,
        &key3 as *const u32 as u64,
        &mut next as *mut u32 as u64,
        0,
    );
    c.check("get_next_key(last): ENOENT", r == ENOENT, r);
    let r = elem(MAP_LOOKUP_ELEM, map, &key1 as *const u32 as u64, 0x10, 0);
    c.check("lookup into a bad pointer: EFAULT", r == EFAULT, r);
    let r = map_create(999, 4, 8, 4);
    c.check("unknown map type: EINVAL", r == EINVAL, r);

    // A hash map with one entry: the second key does not fit.
    let hash = map_create(MAP_TYPE_HASH, 4, 4, 1);
    let (k1, k2, val) = (7u32, 8u32, 1u32);
    let r1 = elem(
        MAP_UPDATE_ELEM,
        hash,
        &k1 as *const u32 as u64,
        &val as *const u32 as u64,
        0,
    );
    let r2 = elem(
        MAP_UPDATE_ELEM,
        hash,
        &k2 as *const u32 as u64,
        &val as *const u32 as u64,
        0,
    );
    c.check(
        "full hash map: E2BIG",
        hash >= 3 && r1 == 0 && r2 == E2BIG,
        r2,
    );
    let r = elem(MAP_DELETE_ELEM, hash, &k2 as *const u32 as u64, 0, 0);
    c.check("hash delete of a missing key: ENOENT", r == ENOENT, r);
    let mut hk = 0u32;
    let r1 = elem(MAP_GET_NEXT_KEY, hash, 0, &mut hk as *mut u32 as u64, 0);
    let r2 = elem(
        MAP_GET_NEXT_KEY,
        hash,
        &k1 as *const u32 as u64,
        &mut hk as *mut u32 as u64,
        0,
    );
    c.check(
        "hash get_next_key: the key, then ENOENT",
        r1 == 0 && hk == k1 && r2 == ENOENT,
        r2,
    );
    c.check("close hash map", sys::close(hash as u64) == 0, hash);

    // XDP: if data + 4 <= data_end, map[0] = {first packet word, count + 1};
    // returns XDP_PASS.
    let fd = map as i32;
    let good = [
        insn(0x61, 2, 1, 0, 0),   // r2 = *(u32 *)(r1 + 0)    ctx->data
        insn(0x61, 3, 1, 4, 0),   // r3 = *(u32 *)(r1 + 4)    ctx->data_end
        insn(0xbf, 4, 2, 0, 0),   // r4 = r2
        insn(0x07, 4, 0, 0, 4),   // r4 += 4
        insn(0x2d, 4, 3, 11, 0),  // if r4 > r3 goto out
        insn(0x61, 6, 2, 0, 0),   // r6 = *(u32 *)(r2 + 0)    packet word
        insn(0x62, 10, 0, -4, 0), // *(u32 *)(r10 - 4) = 0   key
        insn(0xbf, 2, 10, 0, 0),  // r2 = r10
        insn(0x07, 2, 0, 0, -4),  // r2 += -4
        insn(0x18, 1, 1, 0, fd),  // r1 = map (BPF_PSEUDO_MAP_FD)
        insn(0x00, 0, 0, 0, 0),
        insn(0x85, 0, 0, 0, 1),               // call bpf_map_lookup_elem
        insn(0x15, 0, 0, 3, 0),               // if r0 == 0 goto out
        insn(0x63, 0, 6, 0, 0),               // *(u32 *)(r0 + 0) = r6
        insn(0xb7, 7, 0, 0, 1),               // r7 = 1
        insn(0xc3, 0, 7, 4, 0),               // lock *(u32 *)(r0 + 4) += r7
        insn(0xb7, 0, 0, 0, XDP_PASS as i32), // out: r0 = XDP_PASS
        insn(0x95, 0, 0, 0, 0),               // exit
    ];
    let mut log = [0u8; 1024];
    let prog = prog_load(&good, &mut log);
    c.check("verifier accepts the XDP program", prog >= 3, prog);
    println!("bpf: log: {}", text(&log).lines().last().unwrap_or(""));

    let mut packet = [0u8; 64];
    packet[..4].copy_from_slice(&0xdead_beefu32.to_le_bytes());
    let mut out = [0u8; 64];
    let mut a = Attr::new()
        .u32(0, prog as u32)
        .u32(8, 64)
        .u32(12, 64)
        .u64(16, packet.as_ptr() as u64)
        .u64(24, out.as_mut_ptr() as u64)
        .u32(32, 3);
    let r = bpf(PROG_TEST_RUN, &mut a);
    let retval = a.get_u32(4);
    c.check(
        "test run (repeat 3) returns XDP_PASS",
        r == 0 && retval == XDP_PASS,
        r,
    );
    println!(
        "bpf: retval {retval}, duration {} ns per run",
        a.get_u32(36)
    );
    c.check(
        "test run copies the packet out",
        out == packet && a.get_u32(12) == 64,
        i64::from(a.get_u32(12)),
    );
    let key0 = 0u32;
    let r = elem(
        MAP_LOOKUP_ELEM,
        map,
        &key0 as *const u32 as u64,
        got.as_mut_ptr() as u64,
        0,
    );
    let word = u32::from_le_bytes([got[0], got[1], got[2], got[3]]);
    let count = u32::from_le_bytes([got[4], got[5], got[6], got[7]]);
    println!("bpf: map[0] = {word:#x} count {count}");
    c.check(
        "the program updated the map",
        r == 0 && word == 0xdead_beef && count == 3,
        r,
    );
    let mut a = Attr::new()
        .u32(0, prog as u32)
        .u32(8, 4)
        .u64(16, packet.as_ptr() as u64);
    let r = bpf(PROG_TEST_RUN, &mut a);
    c.check("test run with a 4-byte packet: EINVAL", r == EINVAL, r);

    // Reads the packet without checking data_end.
    let bad = [
        insn(0x61, 2, 1, 0, 0), // r2 = *(u32 *)(r1 + 0)
        insn(0x61, 0, 2, 0, 0), // r0 = *(u32 *)(r2 + 0)
        insn(0x95, 0, 0, 0, 0), // exit
    ];
    let mut log = [0u8; 1024];
    let r = prog_load(&bad, &mut log);
    let why = text(&log);
    let reason = why
        .lines()
        .find(|l| l.contains("invalid access"))
        .unwrap_or("");
    c.check(
        "unchecked packet read: EACCES with the reason logged",
        r == EACCES && !reason.is_empty(),
        r,
    );
    println!("bpf: reject reason: {reason}");
    let mut small = [0u8; 16];
    let r = prog_load(&good, &mut small);
    c.check("good program, log too small: ENOSPC", r == ENOSPC, r);
    let mut a = Attr::new()
        .u32(0, PROG_TYPE_XDP)
        .u32(4, good.len() as u32)
        .u64(8, good.as_ptr() as u64)
        .u64(16, c"GPL".as_ptr() as u64)
        .u32(28, log.len() as u32)
        .u64(32, log.as_mut_ptr() as u64);
    let r = bpf(PROG_LOAD, &mut a);
    c.check("log buffer without log_level: EINVAL", r == EINVAL, r);
    let r = prog_load(&bad[..0], &mut log);
    c.check("empty program: E2BIG", r == E2BIG, r);
    let mut a = Attr::new()
        .u32(0, PROG_TYPE_XDP)
        .u32(4, 3)
        .u64(8, 0x10)
        .u64(16, c"GPL".as_ptr() as u64);
    let r = bpf(PROG_LOAD, &mut a);
    c.check("instructions at a bad pointer: EFAULT", r == EFAULT, r);

    // bpf_trace_printk("hi\n"): GPL-only.
    let printk = [
        insn(0x62, 10, 0, -4, 0x000a_6968), // *(u32 *)(r10 - 4) = "hi\n\0"
        insn(0xbf, 1, 10, 0, 0),            // r1 = r10
        insn(0x07, 1, 0, 0, -4),            // r1 += -4
        insn(0xb7, 2, 0, 0, 4),             // r2 = 4
        insn(0x85, 0, 0, 0, 6),             // call bpf_trace_printk
        insn(0xb7, 0, 0, 0, XDP_PASS as i32),
        insn(0x95, 0, 0, 0, 0),
    ];
    let mut log = [0u8; 1024];
    let r = prog_load_licensed(&printk, &mut log, c"MIT");
    c.check(
        "trace_printk from a non-GPL program: EINVAL",
        r == EINVAL && text(&log).contains("cannot call GPL-restricted function"),
        r,
    );
    let tp = prog_load(&printk, &mut log);
    let mut a = Attr::new()
        .u32(0, tp as u32)
        .u32(8, 64)
        .u64(16, packet.as_ptr() as u64);
    let r = bpf(PROG_TEST_RUN, &mut a);
    c.check(
        "trace_printk from a GPL program runs",
        tp >= 3 && r == 0 && a.get_u32(4) == XDP_PASS,
        r,
    );
    sys::close(tp as u64);

    // A socket filter returning skb->len: the packet past its Ethernet header.
    let skb_len = [
        insn(0x61, 0, 1, 0, 0), // r0 = *(u32 *)(r1 + 0)    skb->len
        insn(0x95, 0, 0, 0, 0), // exit
    ];
    let sf = prog_load_typed(PROG_TYPE_SOCKET_FILTER, &skb_len, &mut log, c"GPL");
    let mut a = Attr::new()
        .u32(0, sf as u32)
        .u32(8, 64)
        .u64(16, packet.as_ptr() as u64);
    let r = bpf(PROG_TEST_RUN, &mut a);
    c.check(
        "socket filter sees skb->len 50 of a 64-byte frame",
        sf >= 3 && r == 0 && a.get_u32(4) == 50,
        i64::from(a.get_u32(4)),
    );
    sys::close(sf as u64);

    c.check("close program", sys::close(prog as u64) == 0, prog);
    let mut a = Attr::new()
        .u32(0, prog as u32)
        .u32(8, 64)
        .u64(16, packet.as_ptr() as u64);
    let r = bpf(PROG_TEST_RUN, &mut a);
    c.check("test run of a closed fd: EBADF", r == EBADF, r);
    c.check("close map", sys::close(map as u64) == 0, map);

    println!("bpf: {} checks, {} failed", c.n, c.failed);
    i32::from(c.failed != 0)
}

entry!(main);
