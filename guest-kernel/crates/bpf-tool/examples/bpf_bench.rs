//! `make bench` part: the guest-bpf interpreter against rbpf's interpreter
//! on the same loop-heavy program in the same run (ns per instruction, and
//! the ratio), and the verifier's throughput (instructions processed per
//! second) on large programs.

use std::time::{Duration, Instant};

use guest_bpf::helpers::TestEnv;
use guest_bpf::interp::{run, Input, RunOptions};
use guest_bpf::isa::asm::*;
use guest_bpf::isa::{decode_program, encode_program, to_bytes, AluOp, Insn, JmpOp, Size};
use guest_bpf::maps::MapSet;
use guest_bpf::verifier::{verify, Config, ProgType};

const ITERATIONS: i32 = 1_000_000;
const RUNS: usize = 5;

/// 9 instructions per iteration: a load, multiply, xor, adds, mask, compare.
fn loop_program(n: i32) -> Vec<Insn> {
    vec![
        mov64_imm(0, 0),
        mov64_imm(2, 0),
        ldx(Size::B, 4, 1, 3),
        mov64_reg(3, 2),
        alu64_imm(AluOp::Mul, 3, 7),
        alu64_reg(AluOp::Xor, 3, 0),
        alu64_reg(AluOp::Add, 0, 3),
        alu64_reg(AluOp::Add, 0, 4),
        alu64_imm(AluOp::And, 0, 0xff_ffff),
        alu64_imm(AluOp::Add, 2, 1),
        jmp_imm(JmpOp::Jlt, 2, n, -9),
        exit(),
    ]
}

fn best<F: FnMut() -> u64>(mut f: F) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn ours(prog: &[Insn], checked: bool) -> (Duration, u64, u64) {
    let mut executed = 0;
    let (d, r0) = best(|| {
        let mut mem = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut env = TestEnv::default();
        let opts = RunOptions {
            checked,
            max_insns: u64::MAX,
        };
        let o = run(
            prog,
            Input {
                ctx: &mut mem,
                packet: &mut [],
            },
            &mut MapSet::new(),
            &mut env,
            &opts,
        )
        .expect("runs");
        executed = o.executed;
        o.r0
    });
    (d, r0, executed)
}

fn interpreter_bench() {
    let insns = loop_program(ITERATIONS);
    let prog = decode_program(&encode_program(&insns)).unwrap();
    // The same loop with 1000 iterations passes the verifier (a million
    // would exceed its 1M-instruction budget, as in Linux).
    let cfg = Config::new(ProgType::Mem).with_ctx_size(8);
    let small = decode_program(&encode_program(&loop_program(1000))).unwrap();
    verify(&small, &MapSet::new(), &cfg).expect("the bench loop verifies");
    let bytes = to_bytes(&encode_program(&insns));

    let (fast, r0, executed) = ours(&prog, false);
    let (checked, r0c, _) = ours(&prog, true);
    let vm = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf accepts the program");
    let (theirs, r0r) = best(|| {
        let mut mem = [1u8, 2, 3, 4, 5, 6, 7, 8];
        vm.execute_program(&mut mem).expect("rbpf runs")
    });
    assert_eq!(
        (r0, r0c),
        (r0r, r0r),
        "both interpreters compute the same r0"
    );
    let ns = |d: Duration| d.as_nanos() as f64 / executed as f64;
    println!(
        "bpf interpreter: loop of {ITERATIONS} iterations, {executed} instructions, best of {RUNS}"
    );
    println!(
        "  guest-bpf            {:6.2} ns/insn  ({:.1} ms)",
        ns(fast),
        fast.as_secs_f64() * 1e3
    );
    println!(
        "  guest-bpf checked    {:6.2} ns/insn  ({:.1} ms)",
        ns(checked),
        checked.as_secs_f64() * 1e3
    );
    println!(
        "  rbpf 0.4 interpreter {:6.2} ns/insn  ({:.1} ms)",
        ns(theirs),
        theirs.as_secs_f64() * 1e3
    );
    println!("  ratio rbpf/guest-bpf {:6.2}x", ns(theirs) / ns(fast));
}

/// A long program of map lookups, null checks, bounded accesses and
/// diamonds: `blocks` blocks of 20 instructions.
fn big_program(blocks: usize) -> Vec<Insn> {
    let mut p = vec![mov64_reg(6, 1), mov64_imm(7, 0)];
    for i in 0..blocks {
        p.extend([
            st(Size::DW, 10, -8, i as i32),
            mov64_reg(2, 10),
            alu64_imm(AluOp::Add, 2, -8),
            ld_map_fd(1, 3),
            guest_bpf::isa::asm::call(guest_bpf::helpers::id::MAP_LOOKUP_ELEM),
            jmp_imm(JmpOp::Jeq, 0, 0, 9),
            ldx(Size::B, 3, 6, (i % 64) as i16),
            alu64_imm(AluOp::And, 3, 7),
            mov64_reg(4, 0),
            alu64_reg(AluOp::Add, 4, 3),
            ldx(Size::B, 5, 4, 0),
            jmp_imm(JmpOp::Jgt, 5, 100, 2),
            alu64_reg(AluOp::Add, 7, 5),
            ja(1),
            alu64_imm(AluOp::Sub, 7, 1),
            alu64_imm(AluOp::And, 7, 0xffff),
            alu64_imm(AluOp::Add, 7, 1),
            mov64_imm(0, 0),
        ]);
    }
    p.push(mov64_reg(0, 7));
    p.push(exit());
    p
}

fn verifier_bench() {
    let mut maps = MapSet::new();
    maps.create(
        guest_bpf::maps::MapDef {
            map_type: guest_bpf::maps::MapType::Array,
            key_size: 4,
            value_size: 16,
            max_entries: 4,
        },
        1,
    )
    .unwrap();
    let cfg = Config::new(ProgType::Mem).with_ctx_size(64);
    let cases = [
        ("straight-line, 2000 blocks", big_program(2000)),
        ("bounded loop, 100000 iterations", loop_program(100_000)),
    ];
    println!("bpf verifier: instructions processed per second, best of {RUNS}");
    for (name, insns) in cases {
        let prog = decode_program(&encode_program(&insns)).unwrap();
        let mut processed = 0;
        let (d, _) = best(|| {
            let v = verify(&prog, &maps, &cfg).expect("bench program verifies");
            processed = v.insns_processed;
            0
        });
        println!(
            "  {name:34} {:7} insns, {:8} processed in {:7.1} ms = {:6.2} M insns/s",
            prog.len(),
            processed,
            d.as_secs_f64() * 1e3,
            processed as f64 / d.as_secs_f64() / 1e6
        );
    }
}

fn main() {
    interpreter_bench();
    verifier_bench();
}
