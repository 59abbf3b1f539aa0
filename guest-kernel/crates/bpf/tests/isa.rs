//! Decoding and encoding of every instruction form of RFC 9669, and the
//! rejection of malformed encodings.

use guest_bpf::isa::asm::*;
use guest_bpf::isa::{
    decode_at, decode_program, encode_program, slots_from_bytes, to_bytes, AluOp, AtomicOp,
    ByteOrder, CallTarget, DecodeErrorKind, Imm64, Insn, JmpOp, RawInsn, Size, Src,
};
use proptest::prelude::*;

fn every_form() -> Vec<Insn> {
    let mut v = Vec::new();
    let ops = [
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
        AluOp::Mov,
        AluOp::Arsh,
    ];
    for op in ops {
        for wide in [true, false] {
            v.push(Insn::Alu {
                wide,
                op,
                dst: 3,
                src: Src::Imm(-7),
            });
            v.push(Insn::Alu {
                wide,
                op,
                dst: 3,
                src: Src::Reg(9),
            });
        }
    }
    for bits in [8, 16, 32] {
        v.push(movsx64(1, 2, bits));
    }
    for bits in [8, 16] {
        v.push(movsx32(1, 2, bits));
    }
    v.push(Insn::Neg { wide: true, dst: 4 });
    v.push(Insn::Neg {
        wide: false,
        dst: 4,
    });
    for order in [ByteOrder::ToLe, ByteOrder::ToBe, ByteOrder::Swap] {
        for bits in [16, 32, 64] {
            v.push(Insn::Endian {
                order,
                bits,
                dst: 5,
            });
        }
    }
    v.push(ld_imm64(1, 0x1122_3344_5566_7788));
    v.push(ld_map_fd(1, 3));
    v.push(ld_map_value(1, 3, 12));
    v.push(Insn::LdImm64 {
        dst: 2,
        imm: Imm64::BtfId(77),
    });
    v.push(Insn::LdImm64 {
        dst: 2,
        imm: Imm64::Func(5),
    });
    v.push(Insn::LdImm64 {
        dst: 2,
        imm: Imm64::MapIdx(1),
    });
    v.push(Insn::LdImm64 {
        dst: 2,
        imm: Imm64::MapIdxValue { idx: 1, off: 4 },
    });
    for size in [Size::B, Size::H, Size::W] {
        v.push(Insn::LdPacket {
            indirect: false,
            size,
            src: 0,
            imm: 12,
        });
        v.push(Insn::LdPacket {
            indirect: true,
            size,
            src: 7,
            imm: 2,
        });
        v.push(ldxsx(size, 1, 2, -3));
    }
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        v.push(ldx(size, 1, 10, -8));
        v.push(st(size, 10, -8, 42));
        v.push(stx(size, 10, 1, -16));
    }
    for size in [Size::W, Size::DW] {
        for op in [AtomicOp::Add, AtomicOp::Or, AtomicOp::And, AtomicOp::Xor] {
            v.push(atomic(size, op, false, 10, 1, -8));
            v.push(atomic(size, op, true, 10, 1, -8));
        }
        v.push(atomic(size, AtomicOp::Xchg, true, 10, 1, -8));
        v.push(atomic(size, AtomicOp::CmpXchg, true, 10, 1, -8));
    }
    v.push(ja(-3));
    v.push(Insn::Ja {
        off: 100_000,
        long: true,
    });
    let jops = [
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
    for op in jops {
        v.push(jmp_imm(op, 1, -1, 2));
        v.push(jmp_reg(op, 1, 2, -2));
        v.push(jmp32_imm(op, 1, 7, 1));
        v.push(jmp32_reg(op, 1, 2, 1));
    }
    v.push(call(1));
    v.push(call_local(4));
    v.push(Insn::Call(CallTarget::Kfunc(1234)));
    v.push(exit());
    v
}

#[test]
fn test_every_form_roundtrips_through_bytes() {
    let insns = every_form();
    let bytes = to_bytes(&encode_program(&insns));
    let slots = slots_from_bytes(&bytes).unwrap();
    let decoded = decode_program(&slots).unwrap();
    let back: Vec<Insn> = decoded
        .into_iter()
        .filter(|i| *i != Insn::Imm64Tail)
        .collect();
    assert_eq!(back, insns);
}

#[test]
fn test_known_encodings_match_linux_bytes() {
    // r0 = 1; exit
    assert_eq!(
        to_bytes(&encode_program(&[mov64_imm(0, 1), exit()])),
        [0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]
    );
    // r1 = *(u32 *)(r2 - 4): 0x61, dst 1 | src 2 << 4
    assert_eq!(
        encode_program(&[ldx(Size::W, 1, 2, -4)])[0].to_bytes(),
        [0x61, 0x21, 0xfc, 0xff, 0, 0, 0, 0]
    );
    // lock *(u64 *)(r10 - 8) += r1 = 0xdb, imm 0
    assert_eq!(
        encode_program(&[atomic(Size::DW, AtomicOp::Add, false, 10, 1, -8)])[0].code,
        0xdb
    );
    // r1 = bswap64 r1 = 0xd7, imm 64
    assert_eq!(
        encode_program(&[Insn::Endian {
            order: ByteOrder::Swap,
            bits: 64,
            dst: 1
        }])[0]
            .code,
        0xd7
    );
    // r1 = be16 r1 = 0xdc
    assert_eq!(
        encode_program(&[Insn::Endian {
            order: ByteOrder::ToBe,
            bits: 16,
            dst: 1
        }])[0]
            .code,
        0xdc
    );
    // gotol = 0x06
    assert_eq!(
        encode_program(&[Insn::Ja { off: 1, long: true }])[0].code,
        0x06
    );
    // r1 s/= r2: 0x3f with off 1
    let r = encode_program(&[alu64_reg(AluOp::SDiv, 1, 2)])[0];
    assert_eq!((r.code, r.off), (0x3f, 1));
    // r1 = (s8)r2: 0xbf off 8
    let r = encode_program(&[movsx64(1, 2, 8)])[0];
    assert_eq!((r.code, r.off), (0xbf, 8));
    // r1 = *(s16 *)(r2 + 0): 0x89
    assert_eq!(encode_program(&[ldxsx(Size::H, 1, 2, 0)])[0].code, 0x89);
}

fn reject(slots: &[RawInsn]) -> DecodeErrorKind {
    decode_program(slots).unwrap_err().kind
}

#[test]
fn test_malformed_encodings_are_rejected_with_reason() {
    let r = RawInsn::new;
    let cases: Vec<(Vec<RawInsn>, &str)> = vec![
        (vec![r(0x07, 1, 2, 0, 1)], "BPF_ALU uses reserved fields"),
        (vec![r(0x0f, 1, 2, 0, 1)], "BPF_ALU uses reserved fields"),
        (vec![r(0x07, 1, 0, 2, 1)], "BPF_ALU uses reserved fields"),
        (vec![r(0x07, 1, 0, 1, 1)], "BPF_ALU uses reserved fields"),
        (vec![r(0xbc, 1, 2, 32, 0)], "BPF_MOV uses reserved fields"),
        (vec![r(0xbf, 1, 2, 7, 0)], "BPF_MOV uses reserved fields"),
        (vec![r(0xb7, 1, 0, 8, 0)], "BPF_MOV uses reserved fields"),
        (vec![r(0x87, 1, 0, 0, 1)], "BPF_NEG uses reserved fields"),
        (vec![r(0x8f, 1, 0, 0, 0)], "BPF_NEG uses reserved fields"),
        (vec![r(0xd4, 1, 0, 0, 15)], "BPF_END uses reserved fields"),
        (vec![r(0xdf, 1, 0, 0, 16)], "BPF_END uses reserved fields"),
        (vec![r(0xe7, 1, 0, 0, 0)], "unknown opcode e7"),
        (vec![r(0xb7, 11, 0, 0, 0)], "R11 is invalid"),
        (vec![r(0xbf, 1, 12, 0, 0)], "R12 is invalid"),
        (vec![r(0x61, 1, 2, 0, 5)], "BPF_LDX uses reserved fields"),
        (vec![r(0x99, 1, 2, 0, 0)], "unknown opcode 99"),
        (vec![r(0x62, 10, 1, -8, 0)], "BPF_ST uses reserved fields"),
        (vec![r(0x63, 10, 1, -8, 1)], "BPF_STX uses reserved fields"),
        (vec![r(0xd3, 10, 1, -8, 0)], "invalid atomic operand size"),
        (
            vec![r(0xdb, 10, 1, -8, 0x10)],
            "BPF_ATOMIC uses invalid atomic opcode 10",
        ),
        (vec![r(0x18, 1, 0, 0, 0)], "invalid bpf_ld_imm64 insn"),
        (
            vec![r(0x18, 1, 0, 0, 0), r(0x07, 0, 0, 0, 0)],
            "invalid bpf_ld_imm64 insn",
        ),
        (
            vec![r(0x18, 1, 7, 0, 0), r(0, 0, 0, 0, 0)],
            "unrecognized bpf_ld_imm64 insn",
        ),
        (
            vec![r(0x18, 1, 1, 0, 3), r(0, 0, 0, 0, 9)],
            "unrecognized bpf_ld_imm64 insn",
        ),
        (vec![r(0x10, 1, 0, 0, 0)], "unknown opcode 10"),
        (vec![r(0x38, 0, 0, 0, 0)], "unknown opcode 38"),
        (
            vec![r(0x20, 1, 0, 0, 0)],
            "BPF_LD_[ABS|IND] uses reserved fields",
        ),
        (vec![r(0x05, 0, 0, 0, 1)], "BPF_JA uses reserved fields"),
        (vec![r(0x06, 0, 0, 1, 0)], "BPF_JA uses reserved fields"),
        (vec![r(0x85, 0, 3, 0, 1)], "BPF_CALL uses reserved fields"),
        (vec![r(0x85, 1, 0, 0, 1)], "BPF_CALL uses reserved fields"),
        (vec![r(0x86, 0, 0, 0, 1)], "unknown opcode 86"),
        (vec![r(0x95, 0, 0, 0, 1)], "BPF_EXIT uses reserved fields"),
        (vec![r(0x96, 0, 0, 0, 0)], "unknown opcode 96"),
        (
            vec![r(0x15, 1, 2, 0, 0)],
            "BPF_JMP/JMP32 uses reserved fields",
        ),
        (
            vec![r(0x1d, 1, 2, 0, 3)],
            "BPF_JMP/JMP32 uses reserved fields",
        ),
        (vec![r(0xe5, 1, 0, 0, 0)], "unknown opcode e5"),
    ];
    for (slots, want) in cases {
        let got = reject(&slots).to_string();
        assert!(
            got.starts_with(want),
            "{slots:?}: got {got:?}, want {want:?}"
        );
    }
}

#[test]
fn test_truncated_byte_image_is_refused() {
    assert!(slots_from_bytes(&[0u8; 12]).is_none());
    assert_eq!(slots_from_bytes(&[0u8; 16]).unwrap().len(), 2);
}

#[test]
fn test_display_matches_linux_style() {
    assert_eq!(alu64_imm(AluOp::Add, 1, 8).to_string(), "r1 += 8");
    assert_eq!(alu32_reg(AluOp::Lsh, 1, 2).to_string(), "w1 <<= w2");
    assert_eq!(
        jmp_reg(JmpOp::Jgt, 1, 2, 3).to_string(),
        "if r1 > r2 goto pc+3"
    );
    assert_eq!(ldx(Size::W, 0, 1, 4).to_string(), "r0 = *(u32 *)(r1 +4)");
    assert_eq!(call(1).to_string(), "call bpf_map_lookup_elem#1");
}

proptest! {
    #[test]
    fn prop_decode_then_encode_is_identity(code: u8, dst in 0u8..16, src in 0u8..16, off: i16, imm: i32, imm2: i32) {
        let slots = vec![RawInsn::new(code, dst, src, off, imm), RawInsn::new(0, 0, 0, 0, imm2)];
        if let Ok(insn) = decode_at(&slots, 0) {
            let back = encode_program(&[insn]);
            let n = back.len();
            prop_assert_eq!(back, slots[..n].to_vec());
        }
    }
}
