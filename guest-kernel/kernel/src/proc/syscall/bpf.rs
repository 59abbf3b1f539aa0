//! `bpf(2)` (x86_64 number 321): maps and programs as file descriptors, on
//! guest-bpf's maps, verifier and interpreter. `union bpf_attr` is read at
//! Linux's offsets (`include/uapi/linux/bpf.h`); errors are Linux's.
//!
//! Commands: `BPF_MAP_CREATE` (0), `BPF_MAP_LOOKUP_ELEM` (1),
//! `BPF_MAP_UPDATE_ELEM` (2), `BPF_MAP_DELETE_ELEM` (3),
//! `BPF_MAP_GET_NEXT_KEY` (4), `BPF_PROG_LOAD` (5), `BPF_PROG_TEST_RUN`
//! (10); anything else is `EINVAL`, as Linux answers unknown commands.
//!
//! A program that is not GPL-compatible (`license`) may not call
//! `bpf_trace_printk`, Linux's only `gpl_only` helper among ours (EINVAL).
//!
//! A program's `BPF_PSEUDO_MAP_FD`/`BPF_PSEUDO_MAP_VALUE` loads name the
//! process's map fds; at load they are resolved to the map objects (the
//! program holds them, so closing the map fd keeps the map alive) and
//! renumbered to the program's own table. The interpreter runs on a
//! [`MapSet`] into which those maps are moved for the run and moved back
//! after.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use guest_abi::errno::{
    E2BIG, EBADF, EEXIST, EFAULT, EINVAL, ENAMETOOLONG, ENOENT, ENOMEM, ENOSPC,
};
use guest_bpf::helpers::HelperEnv;
use guest_bpf::interp::{self, Input, PACKET_BASE, RunOptions};
use guest_bpf::isa::{Insn, RawInsn, decode_program};
use guest_bpf::maps::{self, Map, MapDef, MapSet, MapType};
use guest_bpf::verifier::{self, Caps, Config, ProgType};
use spin::Mutex;

use super::{Args, SysResult};
use crate::proc::Process;
use crate::proc::files::File;
use crate::uvm::uaccess::{copy_from_user, copy_to_user, strncpy_from_user};

/// `sizeof(union bpf_attr)` as far as we read it (Linux 6.8: `BPF_PROG_LOAD`
/// ends with `log_true_size` at 140).
const ATTR_SIZE: usize = 144;
/// Linux refuses attributes larger than a page.
const PAGE_SIZE: u64 = 4096;
/// `ENOTSUPP` (kernel-internal 524): no test run for this program type.
const ENOTSUPP: i64 = 524;
/// `ETH_HLEN`: the smallest packet a test run takes.
const ETH_HLEN: usize = 14;
/// One timer tick (100 Hz).
const TICK_NS: u64 = 10_000_000;
/// First fd of a program's own map table (guest-bpf's [`MapSet`] numbering).
const FIRST_LOCAL_FD: i32 = 3;

const BPF_MAP_CREATE: u64 = 0;
const BPF_MAP_LOOKUP_ELEM: u64 = 1;
const BPF_MAP_UPDATE_ELEM: u64 = 2;
const BPF_MAP_DELETE_ELEM: u64 = 3;
const BPF_MAP_GET_NEXT_KEY: u64 = 4;
const BPF_PROG_LOAD: u64 = 5;
const BPF_PROG_TEST_RUN: u64 = 10;

/// `BPF_F_NO_PREALLOC` (hash maps only).
const BPF_F_NO_PREALLOC: u32 = 1;
/// `BPF_F_LOCK`: we have no `bpf_spin_lock` values, so it is always EINVAL.
const BPF_F_LOCK: u64 = 4;
/// `BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS | BPF_LOG_FIXED`.
const BPF_LOG_MASK: u32 = 0xf;
/// `BPF_LOG_FIXED`: truncate at the end instead of keeping the tail.
const BPF_LOG_FIXED: u32 = 8;
/// `BPF_F_STRICT_ALIGNMENT`.
const BPF_F_STRICT_ALIGNMENT: u32 = 1;
/// `BPF_F_TEST_REG_INVARIANTS`.
const BPF_F_TEST_REG_INVARIANTS: u32 = 1 << 7;
/// Every `prog_flags` bit Linux 6.8 defines.
const PROG_FLAGS_KNOWN: u32 = 0xff;
/// `BPF_LD | BPF_IMM | BPF_DW`.
const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
const CALL: u8 = 0x85;
/// The one `gpl_only` helper we implement: `bpf_trace_printk` (6).
const GPL_ONLY_HELPER: i32 = guest_bpf::helpers::id::TRACE_PRINTK;
/// `BPF_PSEUDO_MAP_FD` / `_VALUE` / `_IDX` / `_IDX_VALUE`.
const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_MAP_IDX: u8 = 5;
const PSEUDO_MAP_IDX_VALUE: u8 = 6;

/// A loaded program: decoded instructions, the maps it names (its local fd
/// `3 + i` is `maps[i]`) and its type.
#[derive(Debug)]
pub struct Prog {
    insns: Vec<Insn>,
    maps: Vec<Arc<Mutex<Map>>>,
    prog_type: ProgType,
}

/// The attribute union as copied in, with little-endian field readers.
struct Attr([u8; ATTR_SIZE]);

impl Attr {
    fn u32(&self, off: usize) -> u32 {
        u32::from_le_bytes([
            self.0[off],
            self.0[off + 1],
            self.0[off + 2],
            self.0[off + 3],
        ])
    }

    fn u64(&self, off: usize) -> u64 {
        u64::from(self.u32(off)) | u64::from(self.u32(off + 4)) << 32
    }

    /// Linux's `CHECK_ATTR`: every byte after the command's last field is 0.
    fn check_tail(&self, end: usize) -> Result<(), i64> {
        if self.0[end..].iter().any(|&b| b != 0) {
            return Err(EINVAL);
        }
        Ok(())
    }
}

/// `bpf(cmd, uattr, size)`.
pub fn bpf(p: &mut Process, a: Args) -> SysResult {
    let [cmd, uattr, size, ..] = a.0;
    if size > PAGE_SIZE {
        return Err(E2BIG);
    }
    let size = size as usize;
    let mut attr = Attr([0; ATTR_SIZE]);
    let n = size.min(ATTR_SIZE);
    copy_from_user(&mut p.mm, &mut attr.0[..n], uattr)?;
    if size > ATTR_SIZE {
        // bpf_check_uarg_tail_zero: a newer caller's extra fields must be 0.
        let mut tail = vec![0u8; size - ATTR_SIZE];
        copy_from_user(&mut p.mm, &mut tail, uattr + ATTR_SIZE as u64)?;
        if tail.iter().any(|&b| b != 0) {
            return Err(E2BIG);
        }
    }
    match cmd {
        BPF_MAP_CREATE => map_create(p, &attr),
        BPF_MAP_LOOKUP_ELEM => map_lookup(p, &attr),
        BPF_MAP_UPDATE_ELEM => map_update(p, &attr),
        BPF_MAP_DELETE_ELEM => map_delete(p, &attr),
        BPF_MAP_GET_NEXT_KEY => map_next_key(p, &attr),
        BPF_PROG_LOAD => prog_load(p, &attr, uattr, size),
        BPF_PROG_TEST_RUN => test_run(p, &attr, uattr),
        _ => Err(EINVAL),
    }
}

fn map_errno(e: maps::Errno) -> i64 {
    match e {
        maps::Errno::NoEnt => ENOENT,
        maps::Errno::TooBig => E2BIG,
        maps::Errno::NoMem => ENOMEM,
        maps::Errno::Exist => EEXIST,
        maps::Errno::Inval => EINVAL,
    }
}

fn map_create(p: &mut Process, attr: &Attr) -> SysResult {
    // map_type, key_size, value_size, max_entries, map_flags, inner_map_fd,
    // numa_node, map_name[16] at 28, ... map_token_fd ends at 80.
    attr.check_tail(80)?;
    let map_type = MapType::from_u32(attr.u32(0)).ok_or(EINVAL)?;
    let def = MapDef {
        map_type,
        key_size: attr.u32(4),
        value_size: attr.u32(8),
        max_entries: attr.u32(12),
    };
    let flags = attr.u32(16);
    if flags & !BPF_F_NO_PREALLOC != 0 || (flags != 0 && map_type != MapType::Hash) {
        return Err(EINVAL);
    }
    if attr.u32(20) != 0 || attr.u32(44) != 0 || attr.u32(48) != 0 {
        // inner maps, offload and BTF: not ours.
        return Err(EINVAL);
    }
    let name = &attr.0[28..44];
    let len = name.iter().position(|&b| b == 0).ok_or(EINVAL)?;
    if !name[..len]
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    {
        return Err(EINVAL);
    }
    if map_type == MapType::Hash && def.key_size > 512 {
        return Err(E2BIG);
    }
    let map = Map::new(def, 1).map_err(map_errno)?;
    p.files.install(File::BpfMap(Arc::new(Mutex::new(map))))
}

fn map_of(p: &mut Process, fd: u32) -> Result<Arc<Mutex<Map>>, i64> {
    match p.files.get(u64::from(fd))? {
        File::BpfMap(m) => Ok(m.clone()),
        _ => Err(EINVAL),
    }
}

/// Bytes of a value as user space passes it (per-CPU: 8-byte rounded, one
/// copy per CPU, and we have one).
fn user_value_size(def: &MapDef) -> usize {
    if def.map_type == MapType::PercpuArray {
        (def.value_size as usize).div_ceil(8) * 8
    } else {
        def.value_size as usize
    }
}

fn read_key(p: &mut Process, def: &MapDef, ptr: u64) -> Result<Vec<u8>, i64> {
    let mut key = vec![0u8; def.key_size as usize];
    copy_from_user(&mut p.mm, &mut key, ptr)?;
    Ok(key)
}

fn map_lookup(p: &mut Process, attr: &Attr) -> SysResult {
    attr.check_tail(32)?;
    if attr.u64(24) != 0 {
        return Err(EINVAL);
    }
    let map = map_of(p, attr.u32(0))?;
    let def = *map.lock().def();
    let key = read_key(p, &def, attr.u64(8))?;
    let mut value = vec![0u8; user_value_size(&def)];
    {
        let m = map.lock();
        let off = m.lookup(&key, 0).ok_or(ENOENT)?;
        let n = def.value_size as usize;
        value[..n].copy_from_slice(&m.store()[off..off + n]);
    }
    copy_to_user(&mut p.mm, attr.u64(16), &value)?;
    Ok(0)
}

fn map_update(p: &mut Process, attr: &Attr) -> SysResult {
    attr.check_tail(32)?;
    let flags = attr.u64(24);
    if flags & BPF_F_LOCK != 0 {
        return Err(EINVAL);
    }
    let map = map_of(p, attr.u32(0))?;
    let def = *map.lock().def();
    let key = read_key(p, &def, attr.u64(8))?;
    let mut value = vec![0u8; user_value_size(&def)];
    copy_from_user(&mut p.mm, &mut value, attr.u64(16))?;
    map.lock()
        .update(&key, &value, flags, 0)
        .map_err(map_errno)?;
    Ok(0)
}

fn map_delete(p: &mut Process, attr: &Attr) -> SysResult {
    attr.check_tail(16)?;
    let map = map_of(p, attr.u32(0))?;
    let def = *map.lock().def();
    let key = read_key(p, &def, attr.u64(8))?;
    map.lock().delete(&key).map_err(map_errno)?;
    Ok(0)
}

fn map_next_key(p: &mut Process, attr: &Attr) -> SysResult {
    attr.check_tail(24)?;
    let map = map_of(p, attr.u32(0))?;
    let def = *map.lock().def();
    let key_ptr = attr.u64(8);
    let key = if key_ptr == 0 {
        None
    } else {
        Some(read_key(p, &def, key_ptr)?)
    };
    let next = map.lock().next_key(key.as_deref()).map_err(map_errno)?;
    copy_to_user(&mut p.mm, attr.u64(16), &next)?;
    Ok(0)
}

/// Runs `f` on a [`MapSet`] holding `maps` (local fds 3, 4, ...): each map
/// is moved in for the call (a tiny placeholder takes its place) and back.
fn with_maps<R>(maps: &[Arc<Mutex<Map>>], f: impl FnOnce(&mut MapSet) -> R) -> R {
    let placeholder = MapDef {
        map_type: MapType::Array,
        key_size: 4,
        value_size: 1,
        max_entries: 1,
    };
    let mut set = MapSet::new();
    for (i, m) in maps.iter().enumerate() {
        if set.create(placeholder, 1).is_ok()
            && let Some(slot) = set.by_index_mut(i)
        {
            core::mem::swap(&mut *m.lock(), slot);
        }
    }
    let r = f(&mut set);
    for (i, m) in maps.iter().enumerate() {
        if let Some(slot) = set.by_index_mut(i) {
            core::mem::swap(&mut *m.lock(), slot);
        }
    }
    r
}

fn prog_type_of(n: u32) -> Option<ProgType> {
    [
        ProgType::SocketFilter,
        ProgType::Kprobe,
        ProgType::Xdp,
        ProgType::CgroupSkb,
    ]
    .into_iter()
    .find(|t| t.linux_number() == Some(n))
}

/// Resolves the map fds of `LD_IMM64` pseudo loads to map objects and
/// rewrites them to the program's local fds.
fn resolve_maps(p: &mut Process, slots: &mut [RawInsn]) -> Result<Vec<Arc<Mutex<Map>>>, i64> {
    let mut maps: Vec<Arc<Mutex<Map>>> = Vec::new();
    let mut i = 0;
    while i < slots.len() {
        let s = slots[i];
        if s.code != LD_IMM64 {
            i += 1;
            continue;
        }
        match s.src {
            PSEUDO_MAP_FD | PSEUDO_MAP_VALUE => {
                let fd = u64::try_from(s.imm).map_err(|_| EBADF)?;
                let map = match p.files.get(fd)? {
                    File::BpfMap(m) => m.clone(),
                    _ => return Err(EINVAL),
                };
                let idx = match maps.iter().position(|m| Arc::ptr_eq(m, &map)) {
                    Some(idx) => idx,
                    None => {
                        maps.push(map);
                        maps.len() - 1
                    }
                };
                slots[i].imm = FIRST_LOCAL_FD + idx as i32;
            }
            // No fd_array (bpf_attr.fd_array) support yet.
            PSEUDO_MAP_IDX | PSEUDO_MAP_IDX_VALUE => return Err(EINVAL),
            _ => {}
        }
        i += 2;
    }
    Ok(maps)
}

/// Copies the verifier log to `log_buf` (NUL-terminated; if it does not fit,
/// the tail is kept, or the head with `BPF_LOG_FIXED`); `Ok(true)` if it
/// was truncated.
fn write_log(p: &mut Process, log: &str, level: u32, buf: u64, size: u32) -> Result<bool, i64> {
    let text = log.as_bytes();
    let room = size as usize - 1;
    let (part, truncated) = if text.len() <= room {
        (text, false)
    } else if level & BPF_LOG_FIXED != 0 {
        (&text[..room], true)
    } else {
        (&text[text.len() - room..], true)
    };
    let mut out = Vec::with_capacity(part.len() + 1);
    out.extend_from_slice(part);
    out.push(0);
    copy_to_user(&mut p.mm, buf, &out)?;
    Ok(truncated)
}

fn prog_load(p: &mut Process, attr: &Attr, uattr: u64, size: usize) -> SysResult {
    // prog_type 0, insn_cnt 4, insns 8, license 16, log_level 24,
    // log_size 28, log_buf 32, kern_version 40, prog_flags 44, prog_name 48,
    // ..., log_true_size 140.
    let prog_type = prog_type_of(attr.u32(0)).ok_or(EINVAL)?;
    let flags = attr.u32(44);
    if flags & !PROG_FLAGS_KNOWN != 0 {
        return Err(EINVAL);
    }
    let (level, log_size, log_buf) = (attr.u32(24), attr.u32(28), attr.u64(32));
    // bpf_verifier_log_attr_valid
    if (log_buf != 0) != (log_size != 0)
        || (log_buf != 0 && level == 0)
        || level & !BPF_LOG_MASK != 0
        || log_size > u32::MAX >> 2
    {
        return Err(EINVAL);
    }
    let insn_cnt = attr.u32(4) as usize;
    if insn_cnt == 0 || insn_cnt > verifier::MAX_INSNS_PRIV {
        return Err(E2BIG);
    }
    let license = match strncpy_from_user(&mut p.mm, attr.u64(16), 127) {
        Ok(l) => l,
        Err(ENAMETOOLONG) => Vec::new(),
        Err(e) => return Err(e),
    };
    // license_is_gpl_compatible
    let gpl = matches!(
        license.as_slice(),
        b"GPL"
            | b"GPL v2"
            | b"GPL and additional rights"
            | b"Dual BSD/GPL"
            | b"Dual MIT/GPL"
            | b"Dual MPL/GPL"
    );
    let mut bytes = vec![0u8; insn_cnt * 8];
    copy_from_user(&mut p.mm, &mut bytes, attr.u64(8))?;
    let mut slots: Vec<RawInsn> = bytes
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            RawInsn::from_bytes(b)
        })
        .collect();
    drop(bytes);
    let maps = resolve_maps(p, &mut slots)?;
    let cfg = Config {
        strict_alignment: flags & BPF_F_STRICT_ALIGNMENT != 0,
        test_reg_invariants: flags & BPF_F_TEST_REG_INVARIANTS != 0,
        ..Config::new(prog_type).with_caps(Caps::ROOT)
    };
    let verdict = with_maps(&maps, |set| verifier::verify_raw(&slots, set, &cfg));
    let (mut result, mut log) = match verdict {
        Ok(v) => (Ok(()), v.log),
        Err(e) => (Err(i64::from(e.errno.code())), e.log),
    };
    if result.is_ok()
        && !gpl
        && let Some(pc) = slots
            .iter()
            .position(|s| s.code == CALL && s.src == 0 && s.imm == GPL_ONLY_HELPER)
    {
        // check_helper_call: bpf_trace_printk is gpl_only.
        result = Err(EINVAL);
        log = alloc::format!(
            "{pc}: (85) call bpf_trace_printk#6\ncannot call GPL-restricted function from non-GPL compatible program\n"
        );
    }
    if level != 0 {
        let truncated = write_log(p, &log, level, log_buf, log_size)?;
        if truncated && result.is_ok() {
            result = Err(ENOSPC);
        }
    }
    if size >= 144 {
        let true_size = (log.len() + 1) as u32;
        copy_to_user(&mut p.mm, uattr + 140, &true_size.to_le_bytes())?;
    }
    result?;
    let insns = decode_program(&slots).map_err(|_| EINVAL)?;
    let prog = Prog {
        insns,
        maps,
        prog_type,
    };
    p.files.install(File::BpfProg(Arc::new(prog)))
}

/// Helper services for programs run by `BPF_PROG_TEST_RUN`.
struct KernelEnv {
    seed: u64,
}

impl HelperEnv for KernelEnv {
    fn ktime_get_ns(&mut self) -> u64 {
        super::misc::now_ns()
    }

    fn prandom_u32(&mut self) -> u32 {
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed = x;
        (x >> 32) as u32
    }

    fn cpu(&self) -> u32 {
        0
    }

    fn trace(&mut self, line: &str) {
        crate::println!("bpf_trace_printk: {}", line.trim_end_matches('\n'));
    }
}

/// Copies `src` to a user buffer of `cap` bytes at `dst` (if given) and its
/// full size to `size_at`: `ENOSPC` when it did not fit (bpf_test_finish).
fn copy_out(p: &mut Process, src: &[u8], dst: u64, cap: u32, size_at: u64) -> Result<(), i64> {
    if dst == 0 {
        return Ok(());
    }
    let n = src.len().min(cap as usize);
    copy_to_user(&mut p.mm, dst, &src[..n])?;
    copy_to_user(&mut p.mm, size_at, &(src.len() as u32).to_le_bytes())?;
    if n < src.len() {
        return Err(ENOSPC);
    }
    Ok(())
}

fn test_run(p: &mut Process, attr: &Attr, uattr: u64) -> SysResult {
    // prog_fd 0, retval 4, data_size_in 8, data_size_out 12, data_in 16,
    // data_out 24, repeat 32, duration 36, ctx_size_in 40, ctx_size_out 44,
    // ctx_in 48, ctx_out 56, flags 64, cpu 68, batch_size 72.
    attr.check_tail(76)?;
    let prog = match p.files.get(u64::from(attr.u32(0)))? {
        File::BpfProg(prog) => prog.clone(),
        _ => return Err(EINVAL),
    };
    if attr.u32(64) != 0 || attr.u32(68) != 0 || attr.u32(72) != 0 {
        return Err(EINVAL);
    }
    let data_size = attr.u32(8) as usize;
    let (data_in, data_out, ctx_in, ctx_out) =
        (attr.u64(16), attr.u64(24), attr.u64(48), attr.u64(56));
    let ctx_size_in = attr.u32(40) as usize;
    let ctx_size = prog.prog_type.ctx_size(0) as usize;
    if prog.prog_type == ProgType::Kprobe {
        return Err(ENOTSUPP);
    }
    if !(ETH_HLEN..=4096 - 320).contains(&data_size) {
        return Err(EINVAL);
    }
    if (ctx_in == 0) != (ctx_size_in == 0) || ctx_size_in > ctx_size {
        return Err(EINVAL);
    }
    let mut data = vec![0u8; data_size];
    copy_from_user(&mut p.mm, &mut data, data_in)?;
    let mut ctx = vec![0u8; ctx_size];
    copy_from_user(&mut p.mm, &mut ctx[..ctx_size_in], ctx_in)?;
    let put =
        |ctx: &mut [u8], off: usize, v: u32| ctx[off..off + 4].copy_from_slice(&v.to_le_bytes());
    // Packet pointers as the interpreter places the packet.
    let base = PACKET_BASE as u32;
    let skb_l3 = prog.prog_type != ProgType::Xdp;
    let start = if skb_l3 { ETH_HLEN } else { 0 };
    let len = (data_size - start) as u32;
    match prog.prog_type {
        ProgType::Xdp => {
            if ctx[..12].iter().any(|&b| b != 0) {
                return Err(EINVAL);
            }
            put(&mut ctx, 0, base);
            put(&mut ctx, 4, base + len);
            put(&mut ctx, 8, base);
        }
        _ => {
            // __sk_buff: len, and data/data_end after eth_type_trans pulled
            // the Ethernet header (the program sees the network header on).
            put(&mut ctx, 0, len);
            // protocol: the __be16 as it sits in memory.
            put(
                &mut ctx,
                16,
                u32::from(u16::from_le_bytes([data[12], data[13]])),
            );
            put(&mut ctx, 76, base);
            put(&mut ctx, 80, base + len);
        }
    }
    let repeat = attr.u32(32).max(1);
    let mut env = KernelEnv {
        seed: super::misc::now_ns() | 1,
    };
    let t0 = super::misc::now_ns();
    let outcome = with_maps(&prog.maps, |set| {
        let mut last = None;
        for _ in 0..repeat {
            let input = Input {
                ctx: &mut ctx,
                packet: &mut data[start..],
            };
            match interp::run(&prog.insns, input, set, &mut env, &RunOptions::default()) {
                Ok(o) => last = Some(o),
                Err(_) => return None,
            }
        }
        last
    });
    let t1 = super::misc::now_ns();
    // System calls run with interrupts off: a timer reload during the run
    // is not counted as a tick yet, so the clock can seem to step back.
    let spent = if t1 >= t0 { t1 - t0 } else { t1 + TICK_NS - t0 };
    let elapsed = spent / u64::from(repeat);
    // A verified program never traps: if it did, that is our bug.
    let outcome = outcome.ok_or(EFAULT)?;
    copy_out(p, &data, data_out, attr.u32(12), uattr + 12)?;
    if ctx_out != 0 {
        if ctx_size_in == 0 && prog.prog_type == ProgType::Xdp {
            return Err(EINVAL);
        }
        copy_out(p, &ctx, ctx_out, attr.u32(44), uattr + 44)?;
    }
    copy_to_user(&mut p.mm, uattr + 4, &(outcome.r0 as u32).to_le_bytes())?;
    let duration = u32::try_from(elapsed).unwrap_or(u32::MAX);
    copy_to_user(&mut p.mm, uattr + 36, &duration.to_le_bytes())?;
    Ok(0)
}
