//! Differential soundness fuzzing: random programs go through the
//! verifier; every accepted one runs in the checked interpreter, which
//! must not trap on an out-of-bounds or uninitialised access.
//!
//! `cargo test` runs a few hundred cases; `FUZZ_CASES=N` (used by
//! `make fuzz`) runs more.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::{maps, ARRAY_16X16, HASH_8B};
use guest_bpf::helpers::{id, TestEnv};
use guest_bpf::interp::{run, Input, RunOptions, Trap};
use guest_bpf::isa::asm::*;
use guest_bpf::isa::{decode_program, encode_program, AluOp, AtomicOp, Insn, JmpOp, Size, Src};
use guest_bpf::verifier::{verify, Caps, Config, ProgType};
use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestRunner};

const ALU_OPS: [AluOp; 13] = [
    AluOp::Add,
    AluOp::Sub,
    AluOp::Mul,
    AluOp::Div,
    AluOp::Or,
    AluOp::And,
    AluOp::Lsh,
    AluOp::Rsh,
    AluOp::Mod,
    AluOp::Xor,
    AluOp::Arsh,
    AluOp::SDiv,
    AluOp::SMod,
];
const JMP_OPS: [JmpOp; 11] = [
    JmpOp::Jeq,
    JmpOp::Jgt,
    JmpOp::Jge,
    JmpOp::Jset,
    JmpOp::Jne,
    JmpOp::Jsgt,
    JmpOp::Jsge,
    JmpOp::Jlt,
    JmpOp::Jle,
    JmpOp::Jslt,
    JmpOp::Jsle,
];
const SIZES: [Size; 4] = [Size::B, Size::H, Size::W, Size::DW];

/// One generated fragment (expanded to instructions later).
#[derive(Clone, Debug)]
enum Frag {
    MovImm(u8, i32),
    MovReg(u8, u8),
    Alu(bool, usize, u8, Src),
    LoadCtx(u8, u8, i16, usize),
    StoreStack(u8, i16, usize),
    StoreImm(i16, usize, i32),
    LoadStack(u8, i16, usize),
    Jump(bool, usize, u8, Src, u8),
    Lookup(bool, bool, u8),
    MapAccess(u8, i16, usize, bool),
    PtrAdd(u8, u8),
    Loop(u8, i32),
    AtomicStack(i16, bool),
    Exit,
}

fn reg() -> impl Strategy<Value = u8> {
    prop_oneof![3 => 0u8..10, 1 => Just(10u8)]
}

fn imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        4 => -4i32..64,
        1 => Just(i32::MIN),
        1 => Just(i32::MAX),
        1 => Just(-1),
        1 => any::<i32>(),
    ]
}

fn src() -> impl Strategy<Value = Src> {
    prop_oneof![reg().prop_map(Src::Reg), imm().prop_map(Src::Imm)]
}

fn frag() -> impl Strategy<Value = Frag> {
    prop_oneof![
        3 => (0u8..10, imm()).prop_map(|(r, i)| Frag::MovImm(r, i)),
        2 => (0u8..10, reg()).prop_map(|(d, s)| Frag::MovReg(d, s)),
        5 => (any::<bool>(), 0..ALU_OPS.len(), 0u8..10, src()).prop_map(|(w, o, d, s)| Frag::Alu(w, o, d, s)),
        3 => (0u8..10, prop_oneof![Just(6u8), reg()], -4i16..72, 0..4usize).prop_map(|(d, b, o, s)| Frag::LoadCtx(d, b, o, s)),
        3 => (reg(), -72i16..4, 0..4usize).prop_map(|(r, o, s)| Frag::StoreStack(r, o, s)),
        2 => (-72i16..4, 0..4usize, imm()).prop_map(|(o, s, i)| Frag::StoreImm(o, s, i)),
        3 => (0u8..10, -72i16..4, 0..4usize).prop_map(|(d, o, s)| Frag::LoadStack(d, o, s)),
        4 => (any::<bool>(), 0..JMP_OPS.len(), reg(), src(), 1u8..6).prop_map(|(w, o, d, s, k)| Frag::Jump(w, o, d, s, k)),
        2 => (any::<bool>(), any::<bool>(), 0u8..4).prop_map(|(h, c, k)| Frag::Lookup(h, c, k)),
        3 => (prop_oneof![Just(0u8), Just(7u8), reg()], -4i16..20, 0..4usize, any::<bool>()).prop_map(|(r, o, s, w)| Frag::MapAccess(r, o, s, w)),
        2 => (prop_oneof![Just(0u8), Just(6u8), Just(7u8), reg()], reg()).prop_map(|(p, s)| Frag::PtrAdd(p, s)),
        1 => (1u8..10, 1i32..40).prop_map(|(r, n)| Frag::Loop(r, n)),
        1 => (-24i16..0, any::<bool>()).prop_map(|(o, f)| Frag::AtomicStack(o, f)),
        1 => Just(Frag::Exit),
    ]
}

/// Mostly size-aligned stack offsets (odd ones sometimes, to be rejected).
fn align(o: i16, s: usize) -> i16 {
    let size = 1i16 << s;
    if o % 7 == 3 {
        o
    } else {
        o & !(size - 1)
    }
}

fn expand(frags: &[Frag]) -> Vec<Insn> {
    let mut p = vec![mov64_reg(6, 1)];
    // Give most registers a value so fragments compose: ctx loads
    // (unknown scalars), small constants, and a few initialised stack slots.
    for r in [0u8, 2, 3, 4] {
        p.push(ldx(Size::B, r, 6, i16::from(r) * 3));
    }
    for r in [5u8, 7, 8, 9] {
        p.push(mov64_imm(r, i32::from(r)));
    }
    for o in [-8i16, -16, -24] {
        p.push(stx(Size::DW, 10, 2, o));
    }
    let mut pending: Vec<(usize, u8)> = Vec::new();
    for f in frags {
        match *f {
            Frag::MovImm(r, i) => p.push(mov64_imm(r, i)),
            Frag::MovReg(d, s) => p.push(mov64_reg(d, s)),
            Frag::Alu(w, o, d, s) => p.push(Insn::Alu {
                wide: w,
                op: ALU_OPS[o],
                dst: d,
                src: s,
            }),
            Frag::LoadCtx(d, b, o, s) => p.push(ldx(SIZES[s], d, b, o)),
            Frag::StoreStack(r, o, s) => p.push(stx(SIZES[s], 10, r, align(o, s))),
            Frag::StoreImm(o, s, i) => p.push(st(SIZES[s], 10, align(o, s), i)),
            Frag::LoadStack(d, o, s) => p.push(ldx(SIZES[s], d, 10, align(o, s))),
            Frag::Jump(w, o, d, s, k) => {
                pending.push((p.len(), k));
                p.push(Insn::Jmp {
                    wide: w,
                    op: JMP_OPS[o],
                    dst: d,
                    src: s,
                    off: 0,
                });
            }
            Frag::Lookup(hash, check, key) => {
                p.push(st(Size::DW, 10, -8, i32::from(key)));
                p.push(mov64_reg(2, 10));
                p.push(alu64_imm(AluOp::Add, 2, -8));
                p.push(ld_map_fd(1, if hash { HASH_8B } else { ARRAY_16X16 }));
                p.push(call(id::MAP_LOOKUP_ELEM));
                if check {
                    p.push(jmp_imm(JmpOp::Jne, 0, 0, 2));
                    p.push(mov64_imm(0, 0));
                    p.push(exit());
                }
                p.push(mov64_reg(7, 0));
            }
            Frag::MapAccess(r, o, s, w) => {
                if w {
                    p.push(st(SIZES[s], r, o, 1));
                } else {
                    p.push(ldx(SIZES[s], 8, r, o));
                }
            }
            Frag::PtrAdd(ptr, s) => p.push(alu64_reg(AluOp::Add, ptr, s)),
            Frag::Loop(r, n) => {
                p.push(mov64_imm(r, 0));
                p.push(alu64_imm(AluOp::Add, r, 1));
                p.push(jmp_imm(JmpOp::Jlt, r, n, -2));
            }
            Frag::AtomicStack(o, fetch) => {
                p.push(mov64_imm(9, 1));
                p.push(atomic(Size::DW, AtomicOp::Add, fetch, 10, 9, o & !7));
            }
            Frag::Exit => {
                p.push(jmp_imm(JmpOp::Jgt, 2, 100, 2));
                p.push(mov64_imm(0, 1));
                p.push(exit());
            }
        }
    }
    p.push(mov64_imm(0, 0));
    p.push(exit());
    // Resolve forward jumps, skipping LD_IMM64 tails (two slots each).
    let slot_of: Vec<usize> = p
        .iter()
        .scan(0usize, |acc, i| {
            let s = *acc;
            *acc += i.slots();
            Some(s)
        })
        .collect();
    let total: usize = p.iter().map(Insn::slots).sum();
    for (at, k) in pending {
        let target_insn = (at + k as usize).min(p.len() - 1);
        let off = slot_of[target_insn] as i64 - slot_of[at] as i64 - 1;
        if let Insn::Jmp { off: o, .. } = &mut p[at] {
            *o = off.min(total as i64 - 1) as i16;
        }
    }
    p
}

static ACCEPTED: AtomicU64 = AtomicU64::new(0);
static TOTAL: AtomicU64 = AtomicU64::new(0);

fn check_one(frags: &[Frag], caps: Caps, ctx_seed: u8) -> Result<(), TestCaseError> {
    let insns = expand(frags);
    let prog = decode_program(&encode_program(&insns)).expect("decodes");
    let cfg = Config::new(ProgType::Mem).with_ctx_size(64).with_caps(caps);
    let m = maps();
    TOTAL.fetch_add(1, Ordering::Relaxed);
    let verdict = verify(&prog, &m, &cfg);
    if std::env::var("FUZZ_STATS").is_ok() {
        if let Err(e) = &verdict {
            eprintln!("REJECT {}", e.msg.lines().next().unwrap_or(""));
        }
    }
    let Ok(_) = verdict else { return Ok(()) };
    ACCEPTED.fetch_add(1, Ordering::Relaxed);
    let mut maps = m;
    let mut ctx: Vec<u8> = (0..64u8)
        .map(|i| i.wrapping_mul(31).wrapping_add(ctx_seed))
        .collect();
    let mut env = TestEnv::default();
    let opts = RunOptions {
        checked: true,
        max_insns: 2_000_000,
    };
    match run(
        &prog,
        Input {
            ctx: &mut ctx,
            packet: &mut [],
        },
        &mut maps,
        &mut env,
        &opts,
    ) {
        Ok(_) | Err(Trap::InstructionLimit) => Ok(()),
        Err(t) => {
            let listing: Vec<String> = prog
                .iter()
                .enumerate()
                .map(|(i, x)| format!("{i}: {x}"))
                .collect();
            Err(TestCaseError::fail(format!(
                "verifier accepted, checked run trapped: {t}\n{}",
                listing.join("\n")
            )))
        }
    }
}

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

#[test]
fn fuzz_accepted_programs_never_trap_checked_interpreter() {
    let mut runner = TestRunner::new(PtConfig {
        cases: cases(),
        failure_persistence: None,
        ..PtConfig::default()
    });
    let strat = (
        proptest::collection::vec(frag(), 1..24),
        prop_oneof![Just(Caps::BPF), Just(Caps::UNPRIV)],
        any::<u8>(),
    );
    runner
        .run(&strat, |(frags, caps, seed)| check_one(&frags, caps, seed))
        .unwrap();
    let (a, t) = (
        ACCEPTED.load(Ordering::Relaxed),
        TOTAL.load(Ordering::Relaxed),
    );
    println!("soundness fuzz: {a} of {t} generated programs accepted and ran clean in the checked interpreter");
    assert!(a > 0, "the generator should produce some accepted programs");
}
