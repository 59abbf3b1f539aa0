//! The verifier's rules, each with accepted and rejected programs and the
//! verdict Linux 6.8 gives (reasoned from kernel/bpf/verifier.c and the
//! selftests' verifier_*.c), with the reject reason as Linux logs it.

mod common;

use common::*;
use guest_bpf::helpers::id;
use guest_bpf::isa::asm::*;
use guest_bpf::isa::{AluOp, AtomicOp, Insn, JmpOp, Size, Src};
use guest_bpf::verifier::{Caps, Config, Errno, ProgType};

/// Expected verdict.
#[derive(Clone, Debug)]
enum V {
    Accept,
    Reject(&'static str),
    RejectOwned(String),
}
use V::{Accept as A, Reject as R};

struct Case {
    name: String,
    cfg: Config,
    prog: Vec<Insn>,
    want: V,
}

fn case(name: impl Into<String>, cfg: Config, prog: Vec<Insn>, want: V) -> Case {
    Case {
        name: name.into(),
        cfg,
        prog,
        want,
    }
}

/// Run every case, report all mismatches at once.
fn check(cases: Vec<Case>) -> usize {
    let mut failures = Vec::new();
    let n = cases.len();
    for c in cases {
        let got = run(&c.prog, &c.cfg);
        let ok = match (&c.want, &got) {
            (V::Accept, Ok(_)) => true,
            (V::Reject(s), Err(e)) => e.log.contains(s),
            (V::RejectOwned(s), Err(e)) => e.log.contains(s.as_str()),
            _ => false,
        };
        if !ok {
            let got = match got {
                Ok(_) => "accept".to_string(),
                Err(e) => format!("reject: {}", e.log),
            };
            failures.push(format!("{}: want {:?}, got {got}", c.name, c.want));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cases failed:\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
    n
}

fn ret0() -> Vec<Insn> {
    vec![mov64_imm(0, 0), exit()]
}

fn with_ret(mut p: Vec<Insn>) -> Vec<Insn> {
    p.extend(ret0());
    p
}

fn sf() -> Config {
    root(ProgType::SocketFilter)
}

fn xdp() -> Config {
    root(ProgType::Xdp)
}

fn mem() -> Config {
    root(ProgType::Mem)
}

/// r0 = lookup(fd, key 0 at fp-8) — maybe NULL.
fn lookup(fd: i32) -> Vec<Insn> {
    vec![
        st(Size::DW, 10, -8, 0),
        mov64_reg(2, 10),
        alu64_imm(AluOp::Add, 2, -8),
        ld_map_fd(1, fd),
        call(id::MAP_LOOKUP_ELEM),
    ]
}

/// lookup + `if r0 == 0 return 0`.
fn lookup_checked(fd: i32) -> Vec<Insn> {
    let mut p = lookup(fd);
    p.extend([jmp_imm(JmpOp::Jne, 0, 0, 2), mov64_imm(0, 0), exit()]);
    p
}

const ALU_OPS: [AluOp; 13] = [
    AluOp::Add,
    AluOp::Sub,
    AluOp::Mul,
    AluOp::Div,
    AluOp::SDiv,
    AluOp::Or,
    AluOp::And,
    AluOp::Lsh,
    AluOp::Rsh,
    AluOp::Mod,
    AluOp::SMod,
    AluOp::Xor,
    AluOp::Arsh,
];

#[test]
fn test_alu_rules() {
    let mut v = Vec::new();
    for op in ALU_OPS {
        for wide in [true, false] {
            let ins = |src| Insn::Alu {
                wide,
                op,
                dst: 0,
                src,
            };
            v.push(case(
                format!("{op:?} wide={wide} imm"),
                sf(),
                vec![mov64_imm(0, 7), ins(Src::Imm(3)), exit()],
                A,
            ));
            v.push(case(
                format!("{op:?} wide={wide} reg"),
                sf(),
                vec![mov64_imm(0, 7), mov64_imm(1, 2), ins(Src::Reg(1)), exit()],
                A,
            ));
            v.push(case(
                format!("{op:?} wide={wide} uninit src"),
                sf(),
                vec![mov64_imm(0, 7), ins(Src::Reg(3)), exit()],
                R("R3 !read_ok"),
            ));
            v.push(case(
                format!("{op:?} wide={wide} uninit dst"),
                sf(),
                vec![ins(Src::Imm(1)), exit()],
                R("R0 !read_ok"),
            ));
            v.push(case(
                format!("{op:?} wide={wide} on r10"),
                sf(),
                vec![
                    Insn::Alu {
                        wide,
                        op,
                        dst: 10,
                        src: Src::Imm(1),
                    },
                    mov64_imm(0, 0),
                    exit(),
                ],
                R("frame pointer is read only"),
            ));
            // division by a zero register is defined (0 / dividend); only an
            // immediate zero is refused.
            if matches!(op, AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod) {
                v.push(case(
                    format!("{op:?} wide={wide} by imm 0"),
                    sf(),
                    vec![mov64_imm(0, 7), ins(Src::Imm(0)), exit()],
                    R("div by zero"),
                ));
                v.push(case(
                    format!("{op:?} wide={wide} by reg 0"),
                    sf(),
                    vec![mov64_imm(0, 7), mov64_imm(1, 0), ins(Src::Reg(1)), exit()],
                    A,
                ));
            }
            if matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh) {
                let width = if wide { 64 } else { 32 };
                v.push(case(
                    format!("{op:?} wide={wide} by width"),
                    sf(),
                    vec![mov64_imm(0, 7), ins(Src::Imm(width)), exit()],
                    V::RejectOwned(format!("invalid shift {width}")),
                ));
                v.push(case(
                    format!("{op:?} wide={wide} by -1"),
                    sf(),
                    vec![mov64_imm(0, 7), ins(Src::Imm(-1)), exit()],
                    R("invalid shift -1"),
                ));
                v.push(case(
                    format!("{op:?} wide={wide} by width-1"),
                    sf(),
                    vec![mov64_imm(0, 7), ins(Src::Imm(width - 1)), exit()],
                    A,
                ));
                // a register amount is never rejected (it is masked at run time)
                v.push(case(
                    format!("{op:?} wide={wide} by reg 99"),
                    sf(),
                    vec![mov64_imm(0, 7), mov64_imm(1, 99), ins(Src::Reg(1)), exit()],
                    A,
                ));
            }
        }
    }
    // moves
    v.push(case(
        "mov uninit",
        sf(),
        vec![mov64_reg(0, 5), exit()],
        R("R5 !read_ok"),
    ));
    v.push(case(
        "mov32 uninit",
        sf(),
        vec![mov32_reg(0, 5), exit()],
        R("R5 !read_ok"),
    ));
    v.push(case(
        "mov to r10",
        sf(),
        vec![mov64_imm(10, 0), exit()],
        R("frame pointer is read only"),
    ));
    v.push(case(
        "movsx8",
        sf(),
        vec![mov64_imm(1, 0x80), movsx64(0, 1, 8), exit()],
        A,
    ));
    v.push(case(
        "movsx32 w",
        sf(),
        vec![mov64_imm(1, 0x80), movsx32(0, 1, 16), exit()],
        A,
    ));
    v.push(case(
        "neg",
        sf(),
        vec![mov64_imm(0, 1), neg64(0), exit()],
        A,
    ));
    v.push(case(
        "neg uninit",
        sf(),
        vec![neg64(0), exit()],
        R("R0 !read_ok"),
    ));
    v.push(case(
        "bswap",
        sf(),
        vec![
            mov64_imm(0, 1),
            Insn::Endian {
                order: guest_bpf::isa::ByteOrder::Swap,
                bits: 32,
                dst: 0,
            },
            exit(),
        ],
        A,
    ));
    v.push(case(
        "ld_imm64",
        sf(),
        vec![ld_imm64(0, u64::MAX), exit()],
        A,
    ));
    v.push(case(
        "ld_imm64 r10",
        sf(),
        vec![ld_imm64(10, 1), mov64_imm(0, 0), exit()],
        R("frame pointer is read only"),
    ));
    println!("{} ALU cases", check(v));
}

#[test]
fn test_pointer_arithmetic_rules() {
    let fp = |ops: Vec<Insn>| {
        let mut p = vec![mov64_reg(1, 10)];
        p.extend(ops);
        with_ret(p)
    };
    let mut v = vec![
        case(
            "fp += const",
            sf(),
            fp(vec![alu64_imm(AluOp::Add, 1, -8), st(Size::DW, 1, 0, 0)]),
            A,
        ),
        case(
            "fp -= const prohibited",
            sf(),
            fp(vec![alu64_imm(AluOp::Sub, 1, 8)]),
            R("R1 subtraction from stack pointer prohibited"),
        ),
        case(
            "fp &= ",
            sf(),
            fp(vec![alu64_imm(AluOp::And, 1, -8)]),
            R("R1 bitwise operator &= on pointer prohibited"),
        ),
        case(
            "fp |= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Or, 1, 1)]),
            R("R1 bitwise operator |= on pointer prohibited"),
        ),
        case(
            "fp ^= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Xor, 1, 1)]),
            R("R1 bitwise operator ^= on pointer prohibited"),
        ),
        case(
            "fp *= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Mul, 1, 2)]),
            R("R1 pointer arithmetic with *= operator prohibited"),
        ),
        case(
            "fp /= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Div, 1, 2)]),
            R("R1 pointer arithmetic with /= operator prohibited"),
        ),
        case(
            "fp %= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Mod, 1, 2)]),
            R("R1 pointer arithmetic with %= operator prohibited"),
        ),
        case(
            "fp <<= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Lsh, 1, 2)]),
            R("R1 pointer arithmetic with <<= operator prohibited"),
        ),
        case(
            "fp >>= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Rsh, 1, 2)]),
            R("R1 pointer arithmetic with >>= operator prohibited"),
        ),
        case(
            "fp s>>= ",
            sf(),
            fp(vec![alu64_imm(AluOp::Arsh, 1, 2)]),
            R("R1 pointer arithmetic with s>>= operator prohibited"),
        ),
        case(
            "fp w+= ",
            sf(),
            fp(vec![alu32_imm(AluOp::Add, 1, 2)]),
            R("R1 32-bit pointer arithmetic prohibited"),
        ),
        case(
            "fp w-= root",
            sf(),
            fp(vec![alu32_imm(AluOp::Sub, 1, 2)]),
            A,
        ),
        case(
            "fp w-= unpriv",
            unpriv(ProgType::SocketFilter),
            fp(vec![alu32_imm(AluOp::Sub, 1, 2)]),
            R("R1 32-bit pointer arithmetic prohibited"),
        ),
        case(
            "ptr += ptr",
            sf(),
            fp(vec![alu64_reg(AluOp::Add, 1, 10)]),
            R("R1 pointer += pointer prohibited"),
        ),
        case(
            "ptr -= ptr root",
            sf(),
            fp(vec![alu64_reg(AluOp::Sub, 1, 10)]),
            A,
        ),
        case(
            "ptr -= ptr unpriv",
            unpriv(ProgType::SocketFilter),
            fp(vec![alu64_reg(AluOp::Sub, 1, 10)]),
            R("R1 pointer -= pointer prohibited"),
        ),
        case(
            "scalar -= ptr",
            sf(),
            with_ret(vec![mov64_imm(2, 5), alu64_reg(AluOp::Sub, 2, 10)]),
            R("R2 tried to subtract pointer from scalar"),
        ),
        case(
            "scalar += ptr",
            sf(),
            with_ret(vec![
                mov64_imm(2, -8),
                alu64_reg(AluOp::Add, 2, 10),
                st(Size::DW, 2, 0, 1),
            ]),
            A,
        ),
        case("neg ptr root", sf(), fp(vec![neg64(1)]), A),
        case(
            "neg ptr unpriv",
            unpriv(ProgType::SocketFilter),
            fp(vec![neg64(1)]),
            R("R1 pointer arithmetic prohibited"),
        ),
        case(
            "w = ptr unpriv",
            unpriv(ProgType::SocketFilter),
            with_ret(vec![mov32_reg(2, 10)]),
            R("R10 partial copy of pointer"),
        ),
        case("w = ptr root", sf(), with_ret(vec![mov32_reg(2, 10)]), A),
        case(
            "sx ptr unpriv",
            unpriv(ProgType::SocketFilter),
            with_ret(vec![movsx64(2, 10, 8)]),
            R("R10 sign-extension part of pointer"),
        ),
        case(
            "fp + huge",
            sf(),
            fp(vec![alu64_imm(AluOp::Add, 1, 1 << 29)]),
            R("math between fp pointer and 536870912 is not allowed"),
        ),
        case(
            "fp + unread stack (CAP_BPF)",
            bpf_only(ProgType::SocketFilter),
            fp(vec![ldx(Size::DW, 2, 10, -8)]),
            R("invalid read from stack R10 off=-8 size=8"),
        ),
        case(
            "fp + unknown scalar",
            sf(),
            fp(vec![ld_imm64(2, 0), ldx(Size::W, 2, 6, 0)]),
            R("R6 !read_ok"),
        ),
        case(
            "map_ptr += 1",
            sf(),
            with_ret(vec![ld_map_fd(1, HASH_8B), alu64_imm(AluOp::Add, 1, 1)]),
            R("R1 pointer arithmetic on map_ptr prohibited"),
        ),
        case(
            "map_ptr += 0",
            sf(),
            with_ret(vec![ld_map_fd(1, HASH_8B), alu64_imm(AluOp::Add, 1, 0)]),
            A,
        ),
        case(
            "maybe-null arithmetic",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.push(alu64_imm(AluOp::Add, 0, 1));
                p
            }),
            R("R0 pointer arithmetic on map_value_or_null prohibited, null-check it first"),
        ),
        case(
            "pkt_end arithmetic",
            xdp(),
            with_ret(vec![ldx(Size::W, 2, 1, 4), alu64_imm(AluOp::Add, 2, 1)]),
            R("R2 pointer arithmetic on pkt_end prohibited"),
        ),
        case(
            "ctx += 4 then load",
            sf(),
            vec![alu64_imm(AluOp::Add, 1, 4), ldx(Size::W, 0, 1, 0), exit()],
            R("dereference of modified ctx ptr R1 off=4 disallowed"),
        ),
        case(
            "ctx += 0 then load",
            sf(),
            vec![alu64_imm(AluOp::Add, 1, 0), ldx(Size::W, 0, 1, 0), exit()],
            A,
        ),
        case(
            "unbounded scalar + fp",
            sf(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                alu64_imm(AluOp::Lsh, 2, 32),
                alu64_imm(AluOp::Arsh, 2, 32),
                mov64_reg(3, 10),
                alu64_reg(AluOp::Add, 3, 2),
            ]),
            R("value -2147483648 makes fp pointer be out of bounds"),
        ),
        case(
            "fp + bounded var, write (root)",
            sf(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                alu64_imm(AluOp::And, 2, 7),
                mov64_reg(3, 10),
                alu64_imm(AluOp::Add, 3, -16),
                alu64_reg(AluOp::Add, 3, 2),
                st(Size::B, 3, 0, 0),
            ]),
            A,
        ),
        case(
            "fp + bounded var (unpriv)",
            unpriv(ProgType::SocketFilter),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                alu64_imm(AluOp::And, 2, 7),
                mov64_reg(3, 10),
                alu64_imm(AluOp::Add, 3, -16),
                alu64_reg(AluOp::Add, 3, 2),
            ]),
            R("R3 variable stack access prohibited for !root"),
        ),
        case(
            "fp out of range (unpriv)",
            unpriv(ProgType::SocketFilter),
            fp(vec![alu64_imm(AluOp::Add, 1, 8)]),
            R("R1 stack pointer arithmetic goes out of range, prohibited for !root; off=8"),
        ),
        case(
            "fp out of range (root)",
            sf(),
            fp(vec![alu64_imm(AluOp::Add, 1, 8)]),
            A,
        ),
        case(
            "map value out of range (unpriv)",
            unpriv(ProgType::SocketFilter),
            with_ret({
                let mut p = lookup_checked(ARRAY_48B);
                p.push(alu64_imm(AluOp::Add, 0, 48));
                p
            }),
            R("R0 pointer arithmetic of map value goes out of range, prohibited for !root"),
        ),
        case(
            "fp + unknown var (unbounded min)",
            sf(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                alu64_imm(AluOp::Lsh, 2, 32),
                alu64_imm(AluOp::Arsh, 2, 1),
                mov64_reg(3, 10),
                alu64_reg(AluOp::Add, 3, 2),
            ]),
            R("value -4611686018427387904 makes fp pointer be out of bounds"),
        ),
    ];
    // variable stack write beyond bounds
    v.push(case(
        "fp + var write crossing 0",
        sf(),
        with_ret(vec![
            ldx(Size::W, 2, 1, 0),
            alu64_imm(AluOp::And, 2, 15),
            mov64_reg(3, 10),
            alu64_imm(AluOp::Add, 3, -8),
            alu64_reg(AluOp::Add, 3, 2),
            st(Size::B, 3, 0, 0),
        ]),
        R("invalid variable-offset write to stack R3 var_off=(0x0; 0xf) off=-8 size=1"),
    ));
    println!("{} pointer arithmetic cases", check(v));
}

#[test]
fn test_stack_rules() {
    let mut v = Vec::new();
    for off in (-512..=-8).step_by(8) {
        v.push(case(
            format!("u64 at {off}"),
            sf(),
            with_ret(vec![
                st(Size::DW, 10, off as i16, 1),
                ldx(Size::DW, 0, 10, off as i16),
            ]),
            A,
        ));
    }
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        let n = size.bytes() as i16;
        v.push(case(
            format!("{size:?} at 0"),
            sf(),
            with_ret(vec![st(size, 10, 0, 1)]),
            V::RejectOwned(format!("invalid write to stack R10 off=0 size={n}")),
        ));
        v.push(case(
            format!("{size:?} below 512"),
            sf(),
            with_ret(vec![st(size, 10, -512 - n, 1)]),
            V::RejectOwned(format!(
                "invalid write to stack R10 off={} size={n}",
                -512 - n
            )),
        ));
        v.push(case(
            format!("{size:?} at -{n}"),
            sf(),
            with_ret(vec![st(size, 10, -n, 1)]),
            A,
        ));
        if n > 1 {
            v.push(case(
                format!("{size:?} misaligned"),
                sf(),
                with_ret(vec![st(size, 10, -n - 1, 1)]),
                V::RejectOwned(format!(
                    "misaligned stack access off (0x0; 0x0)+0+{} size {n}",
                    -n - 1
                )),
            ));
        }
        v.push(case(
            format!("{size:?} read unwritten (CAP_BPF)"),
            bpf_only(ProgType::SocketFilter),
            vec![ldx(size, 0, 10, -8), exit()],
            V::RejectOwned(format!("invalid read from stack R10 off=-8 size={n}")),
        ));
        v.push(case(
            format!("{size:?} read unwritten (root)"),
            sf(),
            vec![ldx(size, 0, 10, -8), exit()],
            A,
        ));
    }
    v.extend([
        case(
            "partial init then full read",
            bpf_only(ProgType::SocketFilter),
            vec![
                st(Size::DW, 10, -16, 0),
                st(Size::W, 10, -8, 0),
                ldx(Size::DW, 0, 10, -8),
                exit(),
            ],
            R("invalid read from stack off -8+4 size 8"),
        ),
        case(
            "spill/fill ctx",
            sf(),
            vec![
                stx(Size::DW, 10, 1, -8),
                ldx(Size::DW, 2, 10, -8),
                ldx(Size::W, 0, 2, 0),
                exit(),
            ],
            A,
        ),
        case(
            "spill ptr size 4",
            sf(),
            with_ret(vec![stx(Size::W, 10, 1, -8)]),
            R("invalid size of register spill"),
        ),
        case(
            "fill ptr size 4",
            sf(),
            with_ret(vec![stx(Size::DW, 10, 1, -8), ldx(Size::W, 2, 10, -8)]),
            R("invalid size of register fill"),
        ),
        case(
            "corrupt spilled ptr (unpriv)",
            unpriv(ProgType::SocketFilter),
            with_ret(vec![stx(Size::DW, 10, 1, -8), st(Size::W, 10, -8, 0)]),
            R("attempt to corrupt spilled pointer on stack"),
        ),
        case(
            "corrupt spilled ptr (root)",
            sf(),
            with_ret(vec![stx(Size::DW, 10, 1, -8), st(Size::W, 10, -8, 0)]),
            A,
        ),
        case(
            "overwritten spill is not a pointer",
            sf(),
            vec![
                stx(Size::DW, 10, 1, -8),
                st(Size::W, 10, -8, 0),
                ldx(Size::DW, 2, 10, -8),
                ldx(Size::W, 0, 2, 0),
                exit(),
            ],
            R("R2 invalid mem access 'scalar'"),
        ),
        // BPF_ST spills a constant (6.8): the fill is that constant, so the
        // impossible branch is pruned.
        case(
            "st imm spill is a constant",
            sf(),
            vec![
                st(Size::DW, 10, -8, 42),
                ldx(Size::DW, 0, 10, -8),
                jmp_imm(JmpOp::Jeq, 0, 42, 1),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            A,
        ),
        case(
            "stx spill keeps bounds",
            sf(),
            vec![
                ldx(Size::B, 2, 1, 0),
                stx(Size::DW, 10, 2, -8),
                ldx(Size::DW, 0, 10, -8),
                jmp_imm(JmpOp::Jle, 0, 255, 1),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            A,
        ),
        case(
            "narrow fill of spilled scalar",
            sf(),
            vec![
                mov64_imm(2, 5),
                stx(Size::W, 10, 2, -8),
                ldx(Size::W, 0, 10, -8),
                jmp_imm(JmpOp::Jeq, 0, 5, 1),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            A,
        ),
        case(
            "fill of misc bytes is unknown",
            sf(),
            vec![
                st(Size::W, 10, -4, 5),
                st(Size::W, 10, -8, 5),
                ldx(Size::DW, 0, 10, -8),
                jmp_imm(JmpOp::Jeq, 0, 5, 1),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            R("R0 invalid mem access 'scalar'"),
        ),
        case(
            "zero spill read as zero",
            sf(),
            vec![
                st(Size::DW, 10, -8, 0),
                ldx(Size::DW, 0, 10, -8),
                jmp_imm(JmpOp::Jeq, 0, 0, 1),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            A,
        ),
        case(
            "zero bytes read as zero",
            sf(),
            vec![
                mov64_imm(1, 0),
                stx(Size::W, 10, 1, -4),
                stx(Size::B, 10, 1, -5),
                ldx(Size::B, 0, 10, -5),
                jmp_imm(JmpOp::Jeq, 0, 0, 1),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            A,
        ),
        // 6.8: a narrow zero spill plus zero bytes is not all-spill nor
        // all-zero, so the wide fill is unknown.
        case(
            "mixed zero spill and zero bytes",
            sf(),
            vec![
                st(Size::W, 10, -4, 0),
                st(Size::W, 10, -8, 0),
                ldx(Size::DW, 0, 10, -8),
                jmp_imm(JmpOp::Jeq, 0, 0, 1),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            R("R0 invalid mem access 'scalar'"),
        ),
        case(
            "var-offset read of initialised bytes",
            sf(),
            with_ret(vec![
                st(Size::DW, 10, -16, 0),
                st(Size::DW, 10, -8, 0),
                ldx(Size::W, 2, 1, 0),
                alu64_imm(AluOp::And, 2, 7),
                mov64_reg(3, 10),
                alu64_imm(AluOp::Add, 3, -16),
                alu64_reg(AluOp::Add, 3, 2),
                ldx(Size::B, 4, 3, 0),
            ]),
            A,
        ),
        case(
            "var-offset stack pointer without CAP_PERFMON",
            bpf_only(ProgType::SocketFilter),
            with_ret(vec![
                st(Size::DW, 10, -8, 0),
                ldx(Size::W, 2, 1, 0),
                alu64_imm(AluOp::And, 2, 7),
                mov64_reg(3, 10),
                alu64_imm(AluOp::Add, 3, -16),
                alu64_reg(AluOp::Add, 3, 2),
                ldx(Size::B, 4, 3, 0),
            ]),
            R("R3 variable stack access prohibited for !root"),
        ),
        case(
            "unbounded var stack access",
            sf(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                mov64_reg(3, 10),
                alu64_imm(AluOp::Add, 3, -16),
                alu64_reg(AluOp::Add, 3, 2),
                ldx(Size::B, 4, 3, 0),
            ]),
            R("invalid unbounded variable-offset read from stack R3"),
        ),
    ]);
    println!("{} stack cases", check(v));
}

#[test]
fn test_map_value_rules() {
    let mut v = Vec::new();
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        let n = size.bytes() as i16;
        for off in (-8i16..=48).step_by(4) {
            let mut p = lookup_checked(ARRAY_48B);
            p.push(ldx(size, 1, 0, off));
            let want = if off >= 0 && off + n <= 48 {
                A
            } else {
                V::RejectOwned(format!(
                    "invalid access to map value, value_size=48 off={off} size={n}"
                ))
            };
            v.push(case(
                format!("array48 {size:?} at {off}"),
                sf(),
                with_ret(p),
                want,
            ));
        }
    }
    let idx = |check: Insn, val: i32, size: Size| {
        let mut p = lookup_checked(ARRAY_16X16);
        let load = if val < 0 {
            ldxsx(Size::B, 1, 6, 0)
        } else {
            ldx(Size::W, 1, 6, 0)
        };
        p.extend([load, check, alu64_reg(AluOp::Add, 0, 1), ldx(size, 0, 0, 0)]);
        let _ = val;
        let mut q = vec![mov64_reg(6, 1)];
        q.extend(p);
        q.extend([mov64_imm(0, 0), exit(), mov64_imm(0, 1), exit()]);
        q
    };
    // if idx < 16 (jump out when >= 16) on a 16-byte value: every byte.
    v.push(case(
        "idx < 16 byte access",
        sf(),
        idx(jmp_imm(JmpOp::Jge, 1, 16, 4), 16, Size::B),
        A,
    ));
    v.push(case(
        "idx <= 16 byte access",
        sf(),
        idx(jmp_imm(JmpOp::Jgt, 1, 16, 4), 16, Size::B),
        R("invalid access to map value, value_size=16 off=16 size=1"),
    ));
    v.push(case(
        "idx < 16 u16 access",
        sf(),
        idx(jmp_imm(JmpOp::Jge, 1, 16, 4), 16, Size::H),
        R("R0 max value is outside of the allowed memory range"),
    ));
    v.push(case(
        "idx < 15 u16 access",
        sf(),
        idx(jmp_imm(JmpOp::Jge, 1, 15, 4), 15, Size::H),
        A,
    ));
    v.push(case(
        "idx unchecked",
        sf(),
        idx(jmp_imm(JmpOp::Jeq, 6, 0, 4), 0, Size::B),
        R("R0 unbounded memory access, make sure to bounds check any such access"),
    ));
    v.push(case(
        "signed idx, upper check only",
        sf(),
        idx(jmp_imm(JmpOp::Jsgt, 1, 15, 4), -1, Size::B),
        R("R0 min value is negative, either use unsigned index or do a if (val < 0) check"),
    ));
    v.push(case(
        "signed idx, both checks via jmp32",
        sf(),
        idx(jmp32_imm(JmpOp::Jgt, 1, 15, 4), 15, Size::B),
        A,
    ));
    v.extend([
        case(
            "missing null check",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.push(st(Size::DW, 0, 0, 1));
                p
            }),
            R("R0 invalid mem access 'map_value_or_null'"),
        ),
        case(
            "null check then write",
            sf(),
            with_ret({
                let mut p = lookup_checked(HASH_8B);
                p.push(st(Size::DW, 0, 0, 1));
                p
            }),
            A,
        ),
        case(
            "deref in the null branch",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.extend([jmp_imm(JmpOp::Jne, 0, 0, 1), st(Size::DW, 0, 0, 1)]);
                p
            }),
            R("R0 invalid mem access 'scalar'"),
        ),
        case(
            "copy shares the null check",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.extend([
                    mov64_reg(6, 0),
                    jmp_imm(JmpOp::Jeq, 0, 0, 1),
                    st(Size::DW, 6, 0, 1),
                ]);
                p
            }),
            A,
        ),
        case(
            "spilled copy shares the null check",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.extend([
                    stx(Size::DW, 10, 0, -16),
                    jmp_imm(JmpOp::Jeq, 0, 0, 2),
                    ldx(Size::DW, 6, 10, -16),
                    st(Size::DW, 6, 0, 1),
                ]);
                p
            }),
            A,
        ),
        case(
            "jne null check",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.extend([jmp_imm(JmpOp::Jeq, 0, 0, 1), st(Size::DW, 0, 0, 1)]);
                p
            }),
            A,
        ),
        case(
            "null check on jmp32 does not count",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.extend([jmp32_imm(JmpOp::Jeq, 0, 0, 1), st(Size::DW, 0, 0, 1)]);
                p
            }),
            R("R0 invalid mem access 'map_value_or_null'"),
        ),
        case(
            "store ptr into map (unpriv)",
            unpriv(ProgType::SocketFilter),
            with_ret({
                let mut p = lookup_checked(HASH_8B);
                p.push(stx(Size::DW, 0, 10, 0));
                p
            }),
            R("R10 leaks addr into map"),
        ),
        case(
            "store ptr into map (root)",
            sf(),
            with_ret({
                let mut p = lookup_checked(HASH_8B);
                p.push(stx(Size::DW, 0, 10, 0));
                p
            }),
            A,
        ),
        case(
            "direct value load",
            sf(),
            with_ret(vec![ld_map_value(1, ARRAY_48B, 40), ldx(Size::DW, 0, 1, 0)]),
            A,
        ),
        case(
            "direct value load past end",
            sf(),
            with_ret(vec![ld_map_value(1, ARRAY_48B, 44), ldx(Size::DW, 0, 1, 0)]),
            R("invalid access to map value, value_size=48 off=44 size=8"),
        ),
        case(
            "direct value off >= size",
            sf(),
            with_ret(vec![ld_map_value(1, ARRAY_48B, 48)]),
            R("invalid access to map value pointer, value_size=48 off=48"),
        ),
        case(
            "direct value of hash",
            sf(),
            with_ret(vec![ld_map_value(1, HASH_8B, 0)]),
            R("no direct value access support for this map type"),
        ),
        case(
            "bad map fd",
            sf(),
            with_ret(vec![ld_map_fd(1, 99)]),
            R("fd 99 is not pointing to valid bpf_map"),
        ),
        case(
            "map ptr deref",
            sf(),
            with_ret(vec![ld_map_fd(1, HASH_8B), ldx(Size::DW, 0, 1, 0)]),
            R("R1 invalid mem access 'map_ptr'"),
        ),
        case(
            "percpu lookup",
            sf(),
            with_ret({
                let mut p = lookup_checked(PERCPU_8B);
                p.push(ldx(Size::DW, 1, 0, 0));
                p
            }),
            A,
        ),
        case(
            "hash48 access at 40",
            sf(),
            with_ret({
                let mut p = lookup_checked(HASH_48B);
                p.push(ldx(Size::DW, 1, 0, 40));
                p
            }),
            A,
        ),
        case(
            "hash8 access at 8",
            sf(),
            with_ret({
                let mut p = lookup_checked(HASH_8B);
                p.push(ldx(Size::B, 1, 0, 8));
                p
            }),
            R("invalid access to map value, value_size=8 off=8 size=1"),
        ),
    ]);
    println!("{} map value cases", check(v));
}

#[test]
fn test_helper_rules() {
    let printk = |size: Insn| {
        vec![
            st(Size::DW, 10, -8, 0x0a_64_25), // "%d\n\0"
            mov64_reg(1, 10),
            alu64_imm(AluOp::Add, 1, -8),
            size,
            mov64_imm(3, 1),
            call(id::TRACE_PRINTK),
            mov64_imm(0, 0),
            exit(),
        ]
    };
    let mut v = vec![
        case(
            "unknown helper",
            sf(),
            with_ret(vec![call(9999)]),
            R("invalid func unknown#9999"),
        ),
        case(
            "negative helper",
            sf(),
            with_ret(vec![call(-1)]),
            R("invalid func unknown#-1"),
        ),
        case(
            "unimplemented helper",
            sf(),
            with_ret(vec![call(4)]),
            R("unknown func bpf_probe_read#4"),
        ),
        case("ktime", sf(), vec![call(id::KTIME_GET_NS), exit()], A),
        case("prandom", sf(), vec![call(id::GET_PRANDOM_U32), exit()], A),
        case(
            "prandom unpriv",
            unpriv(ProgType::SocketFilter),
            vec![call(id::GET_PRANDOM_U32), exit()],
            A,
        ),
        case(
            "r1 clobbered",
            sf(),
            vec![call(id::KTIME_GET_NS), mov64_reg(0, 1), exit()],
            R("R1 !read_ok"),
        ),
        case(
            "r5 clobbered",
            sf(),
            vec![
                mov64_imm(5, 1),
                call(id::KTIME_GET_NS),
                mov64_reg(0, 5),
                exit(),
            ],
            R("R5 !read_ok"),
        ),
        case(
            "r6 preserved",
            sf(),
            vec![
                mov64_imm(6, 1),
                call(id::KTIME_GET_NS),
                mov64_reg(0, 6),
                exit(),
            ],
            A,
        ),
        case("trace_printk root", sf(), printk(mov64_imm(2, 4)), A),
        case(
            "trace_printk CAP_BPF only",
            bpf_only(ProgType::SocketFilter),
            printk(mov64_imm(2, 4)),
            R("unknown func bpf_trace_printk#6"),
        ),
        case(
            "trace_printk unpriv",
            unpriv(ProgType::SocketFilter),
            printk(mov64_imm(2, 4)),
            R("unknown func bpf_trace_printk#6"),
        ),
        case(
            "trace_printk zero size",
            sf(),
            printk(mov64_imm(2, 0)),
            R("R2 invalid zero-sized read: u64=[0,0]"),
        ),
        case(
            "trace_printk negative size",
            sf(),
            printk(mov64_imm(2, -1)),
            R("R2 min value is negative, either use unsigned or 'var &= const'"),
        ),
        case(
            "trace_printk too big",
            sf(),
            printk(mov64_imm(2, 9)),
            R("invalid indirect access to stack R1 off=-8 size=9"),
        ),
        case(
            "trace_printk unbounded size",
            sf(),
            printk(ld_imm64(2, 1 << 40)),
            R("R2 unbounded memory access, use 'var &= const' or 'if (var < const)'"),
        ),
        case(
            "trace_printk size ptr",
            sf(),
            printk(mov64_reg(2, 10)),
            R("R2 type=fp expected=scalar"),
        ),
        case(
            "trace_printk fmt scalar",
            sf(),
            {
                let mut p = printk(mov64_imm(2, 4));
                p[1] = mov64_imm(1, 0);
                p.remove(2);
                p
            },
            R("R1 type=scalar expected=fp"),
        ),
        case(
            "lookup r1 scalar",
            sf(),
            with_ret(vec![
                mov64_imm(1, 0),
                mov64_reg(2, 10),
                call(id::MAP_LOOKUP_ELEM),
            ]),
            R("R1 type=scalar expected=map_ptr"),
        ),
        case(
            "lookup r1 ctx",
            sf(),
            with_ret(vec![call(id::MAP_LOOKUP_ELEM)]),
            R("R1 type=ctx expected=map_ptr"),
        ),
        case(
            "lookup r1 uninit",
            sf(),
            with_ret(vec![
                mov64_imm(0, 0),
                call(id::KTIME_GET_NS),
                call(id::MAP_LOOKUP_ELEM),
            ]),
            R("R1 !read_ok"),
        ),
        case(
            "lookup r2 uninit",
            sf(),
            with_ret(vec![ld_map_fd(1, HASH_8B), call(id::MAP_LOOKUP_ELEM)]),
            R("R2 !read_ok"),
        ),
        case(
            "lookup key scalar",
            sf(),
            with_ret(vec![
                ld_map_fd(1, HASH_8B),
                mov64_imm(2, 0),
                call(id::MAP_LOOKUP_ELEM),
            ]),
            R("R2 type=scalar expected=fp"),
        ),
        case(
            "lookup key uninit stack (CAP_BPF)",
            bpf_only(ProgType::SocketFilter),
            with_ret(vec![
                ld_map_fd(1, HASH_8B),
                mov64_reg(2, 10),
                alu64_imm(AluOp::Add, 2, -8),
                call(id::MAP_LOOKUP_ELEM),
            ]),
            R("invalid indirect access to stack R2 off=-8 size=8"),
        ),
        case(
            "lookup key half init",
            bpf_only(ProgType::SocketFilter),
            with_ret(vec![
                st(Size::W, 10, -8, 0),
                ld_map_fd(1, HASH_8B),
                mov64_reg(2, 10),
                alu64_imm(AluOp::Add, 2, -8),
                call(id::MAP_LOOKUP_ELEM),
            ]),
            R("invalid indirect read from stack R2 off -8+4 size 8"),
        ),
        case(
            "lookup key at fp",
            sf(),
            with_ret(vec![
                ld_map_fd(1, HASH_8B),
                mov64_reg(2, 10),
                call(id::MAP_LOOKUP_ELEM),
            ]),
            R("invalid indirect access to stack R2 off=0 size=8"),
        ),
        case(
            "lookup key from map value",
            sf(),
            with_ret({
                let mut p = lookup_checked(HASH_8B);
                p.extend([
                    mov64_reg(2, 0),
                    ld_map_fd(1, HASH_8B),
                    call(id::MAP_LOOKUP_ELEM),
                ]);
                p
            }),
            A,
        ),
        case(
            "lookup key maybe null",
            sf(),
            with_ret({
                let mut p = lookup(HASH_8B);
                p.extend([
                    mov64_reg(2, 0),
                    ld_map_fd(1, HASH_8B),
                    call(id::MAP_LOOKUP_ELEM),
                ]);
                p
            }),
            R("R2 type=map_value_or_null expected=fp"),
        ),
        case(
            "lookup key in ctx",
            sf(),
            with_ret(vec![
                mov64_reg(2, 1),
                ld_map_fd(1, HASH_8B),
                call(id::MAP_LOOKUP_ELEM),
            ]),
            R("R2 type=ctx expected=fp"),
        ),
    ];
    let update = |flags: Insn, value: Vec<Insn>| {
        let mut p = vec![st(Size::DW, 10, -8, 0), st(Size::DW, 10, -16, 7)];
        p.extend(value);
        p.extend([
            mov64_reg(2, 10),
            alu64_imm(AluOp::Add, 2, -8),
            ld_map_fd(1, HASH_8B),
            flags,
            call(id::MAP_UPDATE_ELEM),
            exit(),
        ]);
        p
    };
    let val = || vec![mov64_reg(3, 10), alu64_imm(AluOp::Add, 3, -16)];
    v.extend([
        case("update", sf(), update(mov64_imm(4, 0), val()), A),
        case(
            "update flags uninit",
            sf(),
            update(mov64_imm(5, 0), val()),
            R("R4 !read_ok"),
        ),
        case(
            "update flags ptr (unpriv)",
            unpriv(ProgType::SocketFilter),
            update(mov64_reg(4, 10), val()),
            R("R4 leaks addr into helper function"),
        ),
        case(
            "update flags ptr (root)",
            sf(),
            update(mov64_reg(4, 10), val()),
            A,
        ),
        case(
            "update value short",
            sf(),
            update(
                mov64_imm(4, 0),
                vec![mov64_reg(3, 10), alu64_imm(AluOp::Add, 3, -4)],
            ),
            R("invalid indirect access to stack R3 off=-4 size=8"),
        ),
        case(
            "update value scalar",
            sf(),
            update(mov64_imm(4, 0), vec![mov64_imm(3, 0)]),
            R("R3 type=scalar expected=fp"),
        ),
        case(
            "delete",
            sf(),
            vec![
                st(Size::DW, 10, -8, 0),
                mov64_reg(2, 10),
                alu64_imm(AluOp::Add, 2, -8),
                ld_map_fd(1, HASH_8B),
                call(id::MAP_DELETE_ELEM),
                exit(),
            ],
            A,
        ),
        case(
            "return value is a scalar",
            sf(),
            vec![call(id::KTIME_GET_NS), ldx(Size::DW, 0, 0, 0), exit()],
            R("R0 invalid mem access 'scalar'"),
        ),
        case(
            "kfunc call",
            sf(),
            with_ret(vec![Insn::Call(guest_bpf::isa::CallTarget::Kfunc(5))]),
            R("calling kernel functions is not supported"),
        ),
    ]);
    println!("{} helper cases", check(v));
}

#[test]
fn test_context_rules() {
    let load =
        |_t: ProgType, size: Size, off: i16| vec![ldx(size, 0, 1, off), mov64_imm(0, 0), exit()];
    let store = |size: Size, off: i16| {
        vec![
            mov64_imm(2, 0),
            stx(size, 1, 2, off),
            mov64_imm(0, 0),
            exit(),
        ]
    };
    let bad =
        |off: i64, n: u32| V::RejectOwned(format!("invalid bpf_context access off={off} size={n}"));
    let mut v = Vec::new();
    // __sk_buff for socket filters: readable fields, write only cb[].
    for (off, ok) in [
        (0, true),
        (4, true),
        (8, true),
        (16, true),
        (44, true),
        (48, true),
        (64, true),
        (68, true),
        (72, false),
        (76, false),
        (80, false),
        (84, true),
        (88, false),
        (136, false),
        (140, false),
        (160, false),
        (164, true),
        (188, false),
        (192, false),
    ] {
        v.push(case(
            format!("sf read u32 at {off}"),
            sf(),
            load(ProgType::SocketFilter, Size::W, off),
            if ok { A } else { bad(off.into(), 4) },
        ));
    }
    for (off, ok) in [
        (48, true),
        (52, true),
        (64, true),
        (68, false),
        (0, false),
        (8, false),
    ] {
        v.push(case(
            format!("sf write u32 at {off}"),
            sf(),
            store(Size::W, off),
            if ok { A } else { bad(off.into(), 4) },
        ));
    }
    v.extend([
        case(
            "sf narrow read",
            sf(),
            load(ProgType::SocketFilter, Size::B, 1),
            A,
        ),
        case(
            "sf narrow u16 read",
            sf(),
            load(ProgType::SocketFilter, Size::H, 2),
            A,
        ),
        case(
            "sf misaligned read",
            sf(),
            load(ProgType::SocketFilter, Size::W, 2),
            bad(2, 4),
        ),
        case(
            "sf u64 read of u32",
            sf(),
            load(ProgType::SocketFilter, Size::DW, 0),
            bad(0, 8),
        ),
        case(
            "sf narrow write of cb",
            sf(),
            store(Size::B, 48),
            bad(48, 1),
        ),
        case(
            "sf st into ctx",
            sf(),
            vec![st(Size::W, 1, 48, 0), mov64_imm(0, 0), exit()],
            R("BPF_ST stores into R1 ctx is not allowed"),
        ),
        case(
            "sf negative off",
            sf(),
            load(ProgType::SocketFilter, Size::W, -4),
            bad(-4, 4),
        ),
        case(
            "ctx var offset",
            sf(),
            vec![
                ldx(Size::W, 2, 1, 0),
                alu64_imm(AluOp::And, 2, 4),
                alu64_reg(AluOp::Add, 1, 2),
                ldx(Size::W, 0, 1, 0),
                exit(),
            ],
            R("variable ctx access var_off=(0x0; 0x4) disallowed"),
        ),
        case(
            "ctx negative modified",
            sf(),
            vec![alu64_imm(AluOp::Add, 1, -4), ldx(Size::W, 0, 1, 4), exit()],
            R("negative offset ctx ptr R1 off=-4 disallowed"),
        ),
        case(
            "leak ptr into ctx (unpriv)",
            unpriv(ProgType::SocketFilter),
            vec![stx(Size::W, 1, 10, 48), mov64_imm(0, 0), exit()],
            R("R10 leaks addr into ctx"),
        ),
    ]);
    // xdp_md
    for (off, ok) in [
        (0, true),
        (4, true),
        (8, true),
        (12, true),
        (16, true),
        (20, false),
        (24, false),
    ] {
        v.push(case(
            format!("xdp read u32 at {off}"),
            xdp(),
            load(ProgType::Xdp, Size::W, off),
            if ok { A } else { bad(off.into(), 4) },
        ));
    }
    v.extend([
        case(
            "xdp u64 read",
            xdp(),
            load(ProgType::Xdp, Size::DW, 0),
            bad(0, 8),
        ),
        case(
            "xdp narrow read",
            xdp(),
            load(ProgType::Xdp, Size::B, 12),
            bad(12, 1),
        ),
        case("xdp write", xdp(), store(Size::W, 12), bad(12, 4)),
    ]);
    // kprobe: read-only pt_regs
    let kp = root(ProgType::Kprobe);
    for off in (0..168).step_by(8) {
        v.push(case(
            format!("kprobe read at {off}"),
            kp,
            load(ProgType::Kprobe, Size::DW, off),
            A,
        ));
    }
    v.extend([
        case(
            "kprobe read at 168",
            kp,
            load(ProgType::Kprobe, Size::DW, 168),
            bad(168, 8),
        ),
        case(
            "kprobe misaligned",
            kp,
            load(ProgType::Kprobe, Size::DW, 4),
            bad(4, 8),
        ),
        case("kprobe narrow", kp, load(ProgType::Kprobe, Size::W, 4), A),
        case("kprobe write", kp, store(Size::DW, 0), bad(0, 8)),
    ]);
    // cgroup_skb
    let cg = root(ProgType::CgroupSkb);
    v.extend([
        case(
            "cg data read",
            cg,
            load(ProgType::CgroupSkb, Size::W, 76),
            A,
        ),
        case(
            "cg data read unpriv",
            unpriv(ProgType::CgroupSkb),
            load(ProgType::CgroupSkb, Size::W, 76),
            bad(76, 4),
        ),
        case("cg mark write", cg, store(Size::W, 8), A),
        case("cg priority write", cg, store(Size::W, 32), A),
        case("cg len write", cg, store(Size::W, 0), bad(0, 4)),
        case("cg tstamp write", cg, store(Size::DW, 152), A),
        case(
            "cg data_meta",
            cg,
            load(ProgType::CgroupSkb, Size::W, 140),
            bad(140, 4),
        ),
    ]);
    // mem: variable offsets within bounds
    v.extend([
        case(
            "mem const read",
            mem(),
            vec![ldx(Size::DW, 0, 1, 56), exit()],
            A,
        ),
        case(
            "mem const read past end",
            mem(),
            vec![ldx(Size::DW, 0, 1, 60), exit()],
            R("invalid access to memory, mem_size=64 off=60 size=8"),
        ),
        case(
            "mem var read",
            mem(),
            vec![
                ldx(Size::B, 3, 1, 0),
                alu64_imm(AluOp::And, 3, 63),
                alu64_reg(AluOp::Add, 1, 3),
                ldx(Size::B, 0, 1, 0),
                exit(),
            ],
            A,
        ),
        case(
            "mem var read past end",
            mem(),
            vec![
                ldx(Size::B, 3, 1, 0),
                alu64_imm(AluOp::And, 3, 63),
                alu64_reg(AluOp::Add, 1, 3),
                ldx(Size::H, 0, 1, 0),
                exit(),
            ],
            R("invalid access to memory, mem_size=64 off=63 size=2"),
        ),
        case(
            "mem length in r2",
            mem(),
            vec![
                mov64_reg(0, 2),
                jmp_imm(JmpOp::Jeq, 2, 64, 1),
                ldx(Size::B, 0, 0, 0),
                exit(),
            ],
            A,
        ),
        case(
            "r2 uninit for sk filters",
            sf(),
            vec![mov64_reg(0, 2), exit()],
            R("R2 !read_ok"),
        ),
    ]);
    println!("{} context cases", check(v));
}

/// xdp: r2 = data, r3 = data_end, r4 = data + n.
fn pkt(n: i32) -> Vec<Insn> {
    vec![
        ldx(Size::W, 2, 1, 0),
        ldx(Size::W, 3, 1, 4),
        mov64_reg(4, 2),
        alu64_imm(AluOp::Add, 4, n),
    ]
}

#[test]
fn test_packet_rules() {
    let mut v = Vec::new();
    v.push(case(
        "unchecked read",
        xdp(),
        with_ret(vec![ldx(Size::W, 2, 1, 0), ldx(Size::B, 0, 2, 0)]),
        R("invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)"),
    ));
    for n in [1, 2, 4, 8, 14, 20] {
        for (size, k) in [(Size::B, 1), (Size::H, 2), (Size::W, 4), (Size::DW, 8)] {
            let mut p = pkt(n);
            p.extend([jmp_reg(JmpOp::Jgt, 4, 3, 1), ldx(size, 0, 2, 0)]);
            let want = if k <= n {
                A
            } else {
                V::RejectOwned(format!(
                    "invalid access to packet, off=0 size={k}, R2(id=0,off=0,r={n})"
                ))
            };
            v.push(case(
                format!("pkt+{n} > end, read {k}"),
                xdp(),
                with_ret(p),
                want,
            ));
        }
        let mut p = pkt(n);
        p.extend([
            jmp_reg(JmpOp::Jgt, 4, 3, 1),
            ldx(Size::B, 0, 2, (n - 1) as i16),
        ]);
        v.push(case(format!("last byte of {n}"), xdp(), with_ret(p), A));
        let mut p = pkt(n);
        p.extend([jmp_reg(JmpOp::Jgt, 4, 3, 1), ldx(Size::B, 0, 2, n as i16)]);
        v.push(case(
            format!("one past {n}"),
            xdp(),
            with_ret(p),
            V::RejectOwned(format!("invalid access to packet, off={n} size=1")),
        ));
    }
    // Every comparison form: (op, left, right, access on taken edge?)
    let forms: [(JmpOp, u8, u8, bool, i16); 8] = [
        (JmpOp::Jgt, 4, 3, false, 8),
        (JmpOp::Jgt, 3, 4, true, 9),
        (JmpOp::Jlt, 4, 3, true, 9),
        (JmpOp::Jlt, 3, 4, false, 8),
        (JmpOp::Jge, 4, 3, false, 9),
        (JmpOp::Jge, 3, 4, true, 8),
        (JmpOp::Jle, 4, 3, true, 8),
        (JmpOp::Jle, 3, 4, false, 9),
    ];
    for (op, l, r, on_taken, ok_len) in forms {
        for len in [ok_len, ok_len + 1] {
            let mut p = pkt(8);
            if on_taken {
                p.extend([
                    jmp_reg(op, l, r, 2),
                    mov64_imm(0, 0),
                    exit(),
                    ldx(Size::B, 0, 2, len - 1),
                ]);
            } else {
                p.extend([jmp_reg(op, l, r, 1), ldx(Size::B, 0, 2, len - 1)]);
            }
            let want = if len <= ok_len {
                A
            } else {
                R("invalid access to packet")
            };
            v.push(case(
                format!("{op:?} r{l} r{r} access {len}"),
                xdp(),
                with_ret(p),
                want,
            ));
        }
    }
    v.extend([
        case(
            "jmp32 compare gives no range",
            xdp(),
            with_ret({
                let mut p = pkt(8);
                p.extend([jmp32_reg(JmpOp::Jgt, 4, 3, 1), ldx(Size::B, 0, 2, 0)]);
                p
            }),
            R("invalid access to packet"),
        ),
        case(
            "write xdp packet",
            xdp(),
            with_ret({
                let mut p = pkt(8);
                p.extend([jmp_reg(JmpOp::Jgt, 4, 3, 1), st(Size::W, 2, 0, 1)]);
                p
            }),
            A,
        ),
        case(
            "write cgroup_skb packet",
            root(ProgType::CgroupSkb),
            vec![
                ldx(Size::W, 2, 1, 76),
                ldx(Size::W, 3, 1, 80),
                mov64_reg(4, 2),
                alu64_imm(AluOp::Add, 4, 8),
                jmp_reg(JmpOp::Jgt, 4, 3, 1),
                st(Size::W, 2, 0, 1),
                mov64_imm(0, 1),
                exit(),
            ],
            R("cannot write into packet"),
        ),
        case(
            "read cgroup_skb packet",
            root(ProgType::CgroupSkb),
            vec![
                ldx(Size::W, 2, 1, 76),
                ldx(Size::W, 3, 1, 80),
                mov64_reg(4, 2),
                alu64_imm(AluOp::Add, 4, 8),
                jmp_reg(JmpOp::Jgt, 4, 3, 1),
                ldx(Size::W, 5, 2, 4),
                mov64_imm(0, 1),
                exit(),
            ],
            A,
        ),
        case(
            "variable offset then check",
            xdp(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                ldx(Size::W, 3, 1, 4),
                ldx(Size::W, 5, 1, 12),
                alu64_imm(AluOp::And, 5, 0xff),
                alu64_reg(AluOp::Add, 2, 5),
                mov64_reg(4, 2),
                alu64_imm(AluOp::Add, 4, 4),
                jmp_reg(JmpOp::Jgt, 4, 3, 1),
                ldx(Size::W, 0, 2, 0),
            ]),
            A,
        ),
        case(
            "variable offset resets range",
            xdp(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                ldx(Size::W, 3, 1, 4),
                mov64_reg(4, 2),
                alu64_imm(AluOp::Add, 4, 8),
                jmp_reg(JmpOp::Jgt, 4, 3, 4),
                ldx(Size::W, 5, 1, 12),
                alu64_imm(AluOp::And, 5, 0xff),
                alu64_reg(AluOp::Add, 2, 5),
                ldx(Size::B, 0, 2, 0),
            ]),
            R("invalid access to packet, off=0 size=1"),
        ),
        case(
            "unbounded variable offset",
            xdp(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 0),
                ldx(Size::W, 3, 1, 4),
                ldx(Size::W, 5, 1, 12),
                alu64_reg(AluOp::Add, 2, 5),
                mov64_reg(4, 2),
                alu64_imm(AluOp::Add, 4, 4),
                jmp_reg(JmpOp::Jgt, 4, 3, 1),
                ldx(Size::W, 0, 2, 0),
            ]),
            R("invalid access to packet"),
        ),
        case(
            "pkt vs scalar (unpriv)",
            unpriv(ProgType::Xdp),
            with_ret(vec![ldx(Size::W, 2, 1, 0), jmp_imm(JmpOp::Jgt, 2, 5, 0)]),
            R("R2 pointer comparison prohibited"),
        ),
        case(
            "ld_abs in xdp",
            xdp(),
            with_ret(vec![
                mov64_reg(6, 1),
                Insn::LdPacket {
                    indirect: false,
                    size: Size::B,
                    src: 0,
                    imm: 0,
                },
            ]),
            R("BPF_LD_[ABS|IND] instructions not allowed for this program type"),
        ),
        case(
            "ld_abs in socket filter",
            sf(),
            with_ret(vec![
                mov64_reg(6, 1),
                Insn::LdPacket {
                    indirect: false,
                    size: Size::H,
                    src: 0,
                    imm: 12,
                },
            ]),
            A,
        ),
        case(
            "ld_abs without ctx in r6",
            sf(),
            with_ret(vec![
                mov64_imm(6, 0),
                Insn::LdPacket {
                    indirect: false,
                    size: Size::B,
                    src: 0,
                    imm: 0,
                },
            ]),
            R("at the time of BPF_LD_ABS|IND R6 != pointer to skb"),
        ),
        case(
            "ld_ind uninit src",
            sf(),
            with_ret(vec![
                mov64_reg(6, 1),
                Insn::LdPacket {
                    indirect: true,
                    size: Size::B,
                    src: 3,
                    imm: 0,
                },
            ]),
            R("R3 !read_ok"),
        ),
        case(
            "ld_abs clobbers r1",
            sf(),
            vec![
                mov64_reg(6, 1),
                Insn::LdPacket {
                    indirect: false,
                    size: Size::B,
                    src: 0,
                    imm: 0,
                },
                mov64_reg(0, 1),
                exit(),
            ],
            R("R1 !read_ok"),
        ),
        case(
            "pkt_meta check against data",
            xdp(),
            with_ret(vec![
                ldx(Size::W, 2, 1, 8),
                ldx(Size::W, 3, 1, 0),
                mov64_reg(4, 2),
                alu64_imm(AluOp::Add, 4, 4),
                jmp_reg(JmpOp::Jgt, 4, 3, 1),
                ldx(Size::W, 0, 2, 0),
            ]),
            A,
        ),
    ]);
    println!("{} packet cases", check(v));
}

#[test]
fn test_branch_and_bounds_rules() {
    // r1 ∈ [0, 255] from a byte load of the context
    let byte = || vec![mov64_reg(6, 1), ldx(Size::B, 1, 6, 0)];
    let crash = || ldx(Size::W, 0, 0, 0); // rejected if reached (r0 scalar)
    let mut v = vec![
        // 6.8 range vs range: r1 ∈ [0,10], r2 ∈ [20,30]: r1 > r2 never.
        case(
            "range vs range never taken",
            sf(),
            {
                let mut p = byte();
                p.extend([
                    alu64_imm(AluOp::And, 1, 7),
                    ldx(Size::B, 2, 6, 1),
                    alu64_imm(AluOp::And, 2, 7),
                    alu64_imm(AluOp::Add, 2, 20),
                    mov64_imm(0, 0),
                    jmp_reg(JmpOp::Jgt, 1, 2, 1),
                    exit(),
                    crash(),
                    exit(),
                ]);
                p
            },
            A,
        ),
        case(
            "range vs range overlapping",
            sf(),
            {
                let mut p = byte();
                p.extend([
                    ldx(Size::B, 2, 6, 1),
                    mov64_imm(0, 0),
                    jmp_reg(JmpOp::Jgt, 1, 2, 1),
                    exit(),
                    crash(),
                    exit(),
                ]);
                p
            },
            R("R0 invalid mem access 'scalar'"),
        ),
        // 6.8 not-equal tracking: r1 ∈ [0,255], r1 != 0 ⇒ r1 - 1 ≥ 0.
        case(
            "jne trims umin",
            sf(),
            {
                let mut p = lookup_checked(ARRAY_16X16);
                p.extend([
                    ldx(Size::B, 1, 6, 0),
                    alu64_imm(AluOp::And, 1, 15),
                    jmp_imm(JmpOp::Jeq, 1, 0, 2),
                    alu64_imm(AluOp::Sub, 1, 1),
                    alu64_reg(AluOp::Add, 0, 1),
                    ldx(Size::B, 0, 0, 0),
                    mov64_imm(0, 0),
                    exit(),
                ]);
                let mut q = vec![mov64_reg(6, 1)];
                q.extend(p);
                q
            },
            A,
        ),
        case(
            "without the jne the index may be -1",
            sf(),
            {
                let mut p = lookup_checked(ARRAY_16X16);
                p.extend([
                    ldx(Size::B, 1, 6, 0),
                    alu64_imm(AluOp::And, 1, 15),
                    alu64_imm(AluOp::Sub, 1, 1),
                    alu64_reg(AluOp::Add, 0, 1),
                    ldx(Size::B, 0, 0, 0),
                    mov64_imm(0, 0),
                    exit(),
                ]);
                let mut q = vec![mov64_reg(6, 1)];
                q.extend(p);
                q
            },
            R("R0 min value is negative"),
        ),
        case(
            "linked scalars share a bound",
            sf(),
            {
                let mut p = lookup_checked(ARRAY_16X16);
                p.extend([
                    ldx(Size::W, 1, 6, 0),
                    mov64_reg(2, 1),
                    jmp_imm(JmpOp::Jgt, 2, 15, 2),
                    alu64_reg(AluOp::Add, 0, 1),
                    ldx(Size::B, 0, 0, 0),
                    mov64_imm(0, 0),
                    exit(),
                ]);
                let mut q = vec![mov64_reg(6, 1)];
                q.extend(p);
                q
            },
            A,
        ),
        case(
            "link broken by arithmetic",
            sf(),
            {
                let mut p = lookup_checked(ARRAY_16X16);
                p.extend([
                    ldx(Size::W, 1, 6, 0),
                    mov64_reg(2, 1),
                    alu64_imm(AluOp::Add, 2, 1),
                    jmp_imm(JmpOp::Jgt, 2, 15, 2),
                    alu64_reg(AluOp::Add, 0, 1),
                    ldx(Size::B, 0, 0, 0),
                    mov64_imm(0, 0),
                    exit(),
                ]);
                let mut q = vec![mov64_reg(6, 1)];
                q.extend(p);
                q
            },
            R("R0 unbounded memory access"),
        ),
    ];
    // constant comparisons decide branches: the dead side may be invalid.
    let ops: [(JmpOp, i32, i32, bool); 22] = [
        (JmpOp::Jeq, 5, 5, true),
        (JmpOp::Jeq, 5, 6, false),
        (JmpOp::Jne, 5, 5, false),
        (JmpOp::Jne, 5, 6, true),
        (JmpOp::Jgt, 6, 5, true),
        (JmpOp::Jgt, 5, 5, false),
        (JmpOp::Jge, 5, 5, true),
        (JmpOp::Jge, 4, 5, false),
        (JmpOp::Jlt, 4, 5, true),
        (JmpOp::Jlt, 5, 5, false),
        (JmpOp::Jle, 5, 5, true),
        (JmpOp::Jle, 6, 5, false),
        (JmpOp::Jsgt, -1, -2, true),
        (JmpOp::Jsgt, -1, 0, false),
        (JmpOp::Jsge, -1, -1, true),
        (JmpOp::Jsge, -2, -1, false),
        (JmpOp::Jslt, -2, -1, true),
        (JmpOp::Jslt, 0, -1, false),
        (JmpOp::Jsle, -1, -1, true),
        (JmpOp::Jsle, 0, -1, false),
        (JmpOp::Jset, 6, 2, true),
        (JmpOp::Jset, 6, 1, false),
    ];
    for (op, a, b, taken) in ops {
        for wide in [true, false] {
            // taken → skip the crash; not taken → fall into exit; the crash
            // is on the edge that is never followed.
            let j = Insn::Jmp {
                wide,
                op,
                dst: 1,
                src: Src::Imm(b),
                off: 1,
            };
            let p = if taken {
                vec![mov64_imm(1, a), mov64_imm(0, 0), j, crash(), exit()]
            } else {
                vec![mov64_imm(1, a), mov64_imm(0, 0), j, exit(), crash(), exit()]
            };
            v.push(case(format!("{op:?} {a} {b} wide={wide}"), sf(), p, A));
        }
    }
    // unsigned vs signed view of -1 (u64::MAX)
    v.push(case(
        "-1 > 5 unsigned",
        sf(),
        vec![
            mov64_imm(1, -1),
            mov64_imm(0, 0),
            jmp_imm(JmpOp::Jgt, 1, 5, 1),
            crash(),
            exit(),
        ],
        A,
    ));
    v.push(case(
        "-1 s> 5 signed",
        sf(),
        vec![
            mov64_imm(1, -1),
            mov64_imm(0, 0),
            jmp_imm(JmpOp::Jsgt, 1, 5, 1),
            crash(),
            exit(),
        ],
        R("R0 invalid mem access 'scalar'"),
    ));
    // jmp32 looks at the low half only: 0x1_0000_0005 == 5 in 32 bits.
    v.push(case(
        "jmp32 low half",
        sf(),
        vec![
            ld_imm64(1, 0x1_0000_0005),
            mov64_imm(0, 0),
            jmp32_imm(JmpOp::Jeq, 1, 5, 1),
            crash(),
            exit(),
        ],
        A,
    ));
    v.push(case(
        "jmp64 full value",
        sf(),
        vec![
            ld_imm64(1, 0x1_0000_0005),
            mov64_imm(0, 0),
            jmp_imm(JmpOp::Jne, 1, 5, 1),
            crash(),
            exit(),
        ],
        A,
    ));
    // JSET on a single bit proves the bit; the false edge clears it.
    v.push(case(
        "jset learns bit",
        sf(),
        {
            let mut p = byte();
            p.extend([
                mov64_imm(0, 0),
                jmp_imm(JmpOp::Jset, 1, 1, 1),
                exit(),
                jmp_imm(JmpOp::Jset, 1, 1, 1),
                crash(),
                exit(),
            ]);
            p
        },
        A,
    ));
    // CFG
    v.extend([
        case(
            "unreachable",
            sf(),
            vec![mov64_imm(0, 0), exit(), mov64_imm(0, 1), exit()],
            R("unreachable insn 2"),
        ),
        case(
            "jump out of range",
            sf(),
            vec![mov64_imm(0, 0), ja(5), exit()],
            R("jump out of range from insn 1 to 7"),
        ),
        case(
            "jump backwards out",
            sf(),
            vec![mov64_imm(0, 0), ja(-3), exit()],
            R("jump out of range from insn 1 to -1"),
        ),
        case(
            "fall off the end",
            sf(),
            vec![mov64_imm(0, 0)],
            R("last insn is not an exit or jmp"),
        ),
        case(
            "into ld_imm64",
            sf(),
            vec![
                mov64_imm(0, 0),
                jmp_imm(JmpOp::Jeq, 0, 0, 1),
                ld_imm64(1, 5),
                exit(),
            ],
            R("jump into the middle of ldimm64 insn 2"),
        ),
        case(
            "ja over junk is fine",
            sf(),
            vec![mov64_imm(0, 0), ja(0), exit()],
            A,
        ),
        case(
            "dead branch with invalid code",
            sf(),
            vec![
                mov64_imm(0, 0),
                jmp_imm(JmpOp::Jeq, 0, 1, 1),
                exit(),
                ldx(Size::W, 0, 0, 0),
                exit(),
            ],
            A,
        ),
        case(
            "uninit on one path",
            sf(),
            vec![
                ldx(Size::W, 1, 1, 0),
                jmp_imm(JmpOp::Jeq, 1, 1, 1),
                mov64_imm(0, 0),
                exit(),
            ],
            R("R0 !read_ok"),
        ),
        case(
            "pointer compare root",
            sf(),
            vec![mov64_imm(0, 0), jmp_reg(JmpOp::Jgt, 10, 1, 0), exit()],
            A,
        ),
        case(
            "pointer compare unpriv",
            unpriv(ProgType::SocketFilter),
            vec![mov64_imm(0, 0), jmp_reg(JmpOp::Jgt, 0, 10, 0), exit()],
            R("R10 pointer comparison prohibited"),
        ),
        case(
            "pointer vs imm unpriv",
            unpriv(ProgType::SocketFilter),
            vec![mov64_imm(0, 0), jmp_imm(JmpOp::Jeq, 10, 0, 0), exit()],
            R("R10 pointer comparison prohibited"),
        ),
    ]);
    println!("{} branch cases", check(v));
}

#[test]
fn test_loops_and_complexity_rules() {
    let counted = |n: i32| {
        vec![
            mov64_imm(0, 0),
            mov64_imm(1, 0),
            alu64_imm(AluOp::Add, 0, 2),
            alu64_imm(AluOp::Add, 1, 1),
            jmp_imm(JmpOp::Jlt, 1, n, -3),
            exit(),
        ]
    };
    let mut v = vec![
        case("loop 100 root", sf(), counted(100), A),
        case(
            "loop 100 CAP_BPF",
            bpf_only(ProgType::SocketFilter),
            counted(100),
            A,
        ),
        case(
            "loop unpriv",
            unpriv(ProgType::SocketFilter),
            counted(100),
            R("back-edge from insn 4 to 2"),
        ),
        case("loop 1000", sf(), counted(1000), A),
        case(
            "infinite",
            sf(),
            vec![mov64_imm(0, 0), jmp_imm(JmpOp::Jeq, 0, 0, -1), exit()],
            R("infinite loop detected at insn 1"),
        ),
        case(
            "self jump",
            sf(),
            vec![ja(-1)],
            R("infinite loop detected at insn 0"),
        ),
        case(
            "loop on unknown bound",
            sf(),
            vec![
                ldx(Size::B, 1, 1, 0),
                mov64_imm(0, 0),
                jmp_imm(JmpOp::Jeq, 1, 0, 2),
                alu64_imm(AluOp::Sub, 1, 1),
                ja(-3),
                exit(),
            ],
            A,
        ),
        case(
            "loop writing stack by index",
            sf(),
            vec![
                mov64_imm(1, 0),
                mov64_reg(2, 10),
                alu64_imm(AluOp::Add, 2, -64),
                alu64_reg(AluOp::Add, 2, 1),
                st(Size::B, 2, 0, 0),
                alu64_imm(AluOp::Add, 1, 1),
                jmp_imm(JmpOp::Jlt, 1, 64, -6),
                mov64_imm(0, 0),
                exit(),
            ],
            A,
        ),
        case(
            "loop index one too far",
            sf(),
            vec![
                mov64_imm(1, 0),
                mov64_reg(2, 10),
                alu64_imm(AluOp::Add, 2, -64),
                alu64_reg(AluOp::Add, 2, 1),
                st(Size::B, 2, 0, 0),
                alu64_imm(AluOp::Add, 1, 1),
                jmp_imm(JmpOp::Jle, 1, 64, -6),
                mov64_imm(0, 0),
                exit(),
            ],
            R("invalid write to stack R2 off=0 size=1"),
        ),
    ];
    println!("{} loop cases", check(std::mem::take(&mut v)));
    // 2^20 iterations: the 1M processed-instruction limit.
    let e = run(&counted(1 << 20), &sf()).unwrap_err();
    assert_eq!(e.errno, Errno::TooBig);
    assert!(
        e.log
            .contains("BPF program is too large. Processed 1000001 insn"),
        "{}",
        e.log
    );
}

#[test]
fn test_call_rules() {
    let cfg = sf();
    let mut v = vec![
        case("call returns value", cfg, vec![mov64_imm(1, 20), call_local(2), alu64_imm(AluOp::Add, 0, 1), exit(), mov64_reg(0, 1), exit()], A),
        case("callee reads caller r6", cfg, vec![mov64_imm(6, 1), call_local(1), exit(), mov64_reg(0, 6), exit()], R("R6 !read_ok")),
        case("args clobbered after call", cfg, vec![mov64_imm(1, 1), call_local(2), mov64_reg(0, 1), exit(), mov64_imm(0, 0), exit()], R("R1 !read_ok")),
        case("callee r0 uninit", cfg, vec![call_local(2), mov64_imm(0, 0), exit(), exit()], R("R0 !read_ok")),
        case(
            "return stack pointer",
            cfg,
            vec![call_local(2), mov64_imm(0, 0), exit(), mov64_reg(0, 10), exit()],
            R("cannot return stack pointer to the caller"),
        ),
        case(
            "pass stack pointer down",
            cfg,
            vec![mov64_reg(1, 10), alu64_imm(AluOp::Add, 1, -8), call_local(2), ldx(Size::DW, 0, 10, -8), exit(), st(Size::DW, 1, 0, 7), mov64_imm(0, 0), exit()],
            A,
        ),
        case("recursion", cfg, vec![call_local(-1), exit()], R("the call stack of 9 frames is too deep !")),
        case("calls unpriv", unpriv(ProgType::SocketFilter), vec![call_local(1), exit(), mov64_imm(0, 0), exit()], R("loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN")),
        case("call to nowhere", cfg, vec![call_local(10), exit()], R("call to invalid destination")),
        case("jump across functions", cfg, vec![call_local(2), ja(2), exit(), mov64_imm(0, 0), exit()], R("jump out of range from insn 1 to 4")),
        case(
            "combined stack too large",
            cfg,
            vec![st(Size::DW, 10, -512, 0), call_local(2), mov64_imm(0, 0), exit(), st(Size::DW, 10, -8, 0), mov64_imm(0, 0), exit()],
            R("combined stack size of 2 calls is 544. Too large"),
        ),
        case(
            "combined stack fits",
            cfg,
            vec![st(Size::DW, 10, -256, 0), call_local(2), mov64_imm(0, 0), exit(), st(Size::DW, 10, -256, 0), mov64_imm(0, 0), exit()],
            A,
        ),
        case("callee with helper", cfg, vec![call_local(1), exit(), call(id::KTIME_GET_NS), exit()], A),
    ];
    // return value ranges
    let cg = root(ProgType::CgroupSkb);
    v.extend([
        case("cg return 0", cg, vec![mov64_imm(0, 0), exit()], A),
        case("cg return 1", cg, vec![mov64_imm(0, 1), exit()], A),
        case(
            "cg return 2",
            cg,
            vec![mov64_imm(0, 2), exit()],
            R("At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]"),
        ),
        case(
            "cg return -1",
            cg,
            vec![mov64_imm(0, -1), exit()],
            R("should have been in [0, 1]"),
        ),
        case(
            "cg return unknown",
            cg,
            vec![call(id::KTIME_GET_NS), exit()],
            R("has unknown scalar value should have been in [0, 1]"),
        ),
        case(
            "cg return s32",
            cg,
            vec![
                ldx(Size::W, 0, 1, 0),
                alu64_imm(AluOp::Lsh, 0, 32),
                alu64_imm(AluOp::Arsh, 0, 32),
                exit(),
            ],
            R("has smin=-2147483648 smax=2147483647 should have been in [0, 1]"),
        ),
        case(
            "cg return masked",
            cg,
            vec![ldx(Size::W, 0, 1, 0), alu64_imm(AluOp::And, 0, 1), exit()],
            A,
        ),
        case(
            "cg return ptr",
            cg,
            vec![mov64_reg(0, 1), exit()],
            R("At program exit the register R0 is not a known value (ctx)"),
        ),
        case(
            "return ptr unpriv",
            unpriv(ProgType::SocketFilter),
            vec![mov64_reg(0, 10), exit()],
            R("R0 leaks addr as return value"),
        ),
        case("return ptr root", sf(), vec![mov64_reg(0, 10), exit()], A),
    ]);
    println!("{} call cases", check(v));
}

#[test]
fn test_atomic_rules() {
    let at = |op, fetch, size| atomic(size, op, fetch, 10, 1, -8);
    let mut v = Vec::new();
    for op in [
        AtomicOp::Add,
        AtomicOp::Or,
        AtomicOp::And,
        AtomicOp::Xor,
        AtomicOp::Xchg,
    ] {
        for size in [Size::W, Size::DW] {
            let fetch = op == AtomicOp::Xchg;
            v.push(case(
                format!("{op:?} {size:?} stack"),
                sf(),
                with_ret(vec![
                    st(Size::DW, 10, -8, 0),
                    mov64_imm(1, 1),
                    at(op, fetch, size),
                ]),
                A,
            ));
            v.push(case(
                format!("{op:?} {size:?} uninit (CAP_BPF)"),
                bpf_only(ProgType::SocketFilter),
                with_ret(vec![mov64_imm(1, 1), at(op, fetch, size)]),
                R("invalid read from stack R10 off=-8"),
            ));
        }
    }
    v.extend([
        case(
            "cmpxchg needs r0",
            sf(),
            with_ret(vec![
                st(Size::DW, 10, -8, 0),
                mov64_imm(1, 1),
                mov64_imm(0, 0),
                atomic(Size::DW, AtomicOp::CmpXchg, true, 10, 1, -8),
            ]),
            A,
        ),
        case(
            "cmpxchg r0 uninit",
            sf(),
            vec![
                st(Size::DW, 10, -8, 0),
                mov64_imm(1, 1),
                atomic(Size::DW, AtomicOp::CmpXchg, true, 10, 1, -8),
                mov64_imm(0, 0),
                exit(),
            ],
            R("R0 !read_ok"),
        ),
        case(
            "atomic on ctx",
            sf(),
            with_ret(vec![
                mov64_imm(2, 1),
                atomic(Size::W, AtomicOp::Add, false, 1, 2, 48),
            ]),
            R("BPF_ATOMIC stores into R1 ctx is not allowed"),
        ),
        case(
            "atomic on map value",
            sf(),
            with_ret({
                let mut p = lookup_checked(HASH_8B);
                p.extend([
                    mov64_imm(1, 1),
                    atomic(Size::DW, AtomicOp::Add, true, 0, 1, 0),
                ]);
                p
            }),
            A,
        ),
        case(
            "atomic misaligned map value",
            sf(),
            with_ret({
                let mut p = lookup_checked(HASH_48B);
                p.extend([
                    mov64_imm(1, 1),
                    atomic(Size::DW, AtomicOp::Add, false, 0, 1, 4),
                ]);
                p
            }),
            R("misaligned value access off (0x0; 0x0)+0+4 size 8"),
        ),
        case(
            "atomic ptr src unpriv",
            unpriv(ProgType::SocketFilter),
            with_ret(vec![
                st(Size::DW, 10, -8, 0),
                atomic(Size::DW, AtomicOp::Add, false, 10, 10, -8),
            ]),
            R("R10 leaks addr into mem"),
        ),
        case(
            "fetch result is unknown",
            sf(),
            vec![
                st(Size::DW, 10, -8, 0),
                mov64_imm(1, 1),
                atomic(Size::DW, AtomicOp::Add, true, 10, 1, -8),
                mov64_reg(0, 1),
                exit(),
            ],
            A,
        ),
        case(
            "atomic on scalar",
            sf(),
            with_ret(vec![
                mov64_imm(2, 0),
                mov64_imm(1, 1),
                atomic(Size::DW, AtomicOp::Add, false, 2, 1, 0),
            ]),
            R("R2 invalid mem access 'scalar'"),
        ),
    ]);
    println!("{} atomic cases", check(v));
}

#[test]
fn test_pruning_stays_sound_with_precision() {
    // Two paths set r6 to 0 or 40 and join; the joined access at value+r6+8
    // is fine for 0 and out of bounds for 40. Whichever path is explored
    // first, the other must not be pruned against it.
    let prog = |a: i32, b: i32| {
        let mut p = vec![mov64_reg(7, 1)];
        p.extend(lookup_checked(ARRAY_48B));
        p.extend([
            ldx(Size::B, 1, 7, 0),
            mov64_imm(6, a),
            jmp_imm(JmpOp::Jeq, 1, 0, 1),
            mov64_imm(6, b),
            mov64_imm(2, 0),
            alu64_reg(AluOp::Add, 0, 6),
            ldx(Size::DW, 1, 0, 8),
            mov64_imm(0, 0),
            exit(),
        ]);
        p
    };
    check(vec![
        case(
            "0 then 40",
            sf(),
            prog(0, 40),
            R("invalid access to map value, value_size=48 off=48 size=8"),
        ),
        case(
            "40 then 0",
            sf(),
            prog(40, 0),
            R("invalid access to map value, value_size=48 off=48 size=8"),
        ),
        case("0 then 8", sf(), prog(0, 8), A),
    ]);
    // Many independent diamonds: pruning keeps the work linear.
    let mut p = vec![mov64_reg(6, 1), mov64_imm(0, 0)];
    for i in 0..40 {
        p.extend([
            ldx(Size::B, 1, 6, (i % 48) as i16),
            jmp_imm(JmpOp::Jeq, 1, 0, 1),
            mov64_imm(2, 1),
            mov64_imm(2, 2),
        ]);
    }
    p.push(exit());
    let v = accept(&p, &sf());
    assert!(
        v.insns_processed < 2_000,
        "{} insns processed: pruning should collapse 2^40 paths",
        v.insns_processed
    );
    assert!(v.prune_hits > 0);
}

#[test]
fn test_reg_invariants_flag_and_decode_errors() {
    let bad = [guest_bpf::isa::RawInsn::new(0xff, 0, 0, 0, 0)];
    let e = guest_bpf::verifier::verify_raw(&bad, &maps(), &sf()).unwrap_err();
    assert_eq!(e.errno, Errno::Inval);
    assert!(e.msg.contains("unknown opcode ff"));
    let e = run(&[], &sf()).unwrap_err();
    assert_eq!(e.errno, Errno::Inval);
    let big = vec![mov64_imm(0, 0); 4097];
    let e = run(&big, &unpriv(ProgType::SocketFilter)).unwrap_err();
    assert_eq!(e.errno, Errno::TooBig);
    let _ = Caps::ROOT;
}
