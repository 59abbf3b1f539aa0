//! The interpreter's semantics, instruction by instruction, and its checked
//! mode.

use guest_bpf::helpers::{id, TestEnv};
use guest_bpf::interp::{run, Input, RunOptions, Trap, PACKET_BASE};
use guest_bpf::isa::asm::*;
use guest_bpf::isa::{decode_program, AluOp, AtomicOp, ByteOrder, Insn, JmpOp, Size};
use guest_bpf::maps::{MapDef, MapSet, MapType};

fn exec_with(
    insns: &[Insn],
    mem: &mut [u8],
    maps: &mut MapSet,
    checked: bool,
) -> Result<u64, Trap> {
    let prog = decode_program(&assemble(insns)).unwrap();
    let mut env = TestEnv::default();
    let opts = RunOptions {
        checked,
        max_insns: 1 << 20,
    };
    run(
        &prog,
        Input {
            ctx: mem,
            packet: &mut [],
        },
        maps,
        &mut env,
        &opts,
    )
    .map(|o| o.r0)
}

fn exec(insns: &[Insn]) -> u64 {
    exec_with(insns, &mut [0u8; 16], &mut MapSet::new(), true).unwrap()
}

fn ld(v: u64) -> Insn {
    ld_imm64(1, v)
}

/// `r1 = a; r2 = b; r1 op= r2; r0 = r1; exit` on 64 bits.
fn op64(op: AluOp, a: u64, b: u64) -> u64 {
    exec(&[
        ld(a),
        ld_imm64(2, b),
        alu64_reg(op, 1, 2),
        mov64_reg(0, 1),
        exit(),
    ])
}

/// The same on 32 bits (upper halves of the inputs are garbage on purpose).
fn op32(op: AluOp, a: u64, b: u64) -> u64 {
    exec(&[
        ld(a),
        ld_imm64(2, b),
        alu32_reg(op, 1, 2),
        mov64_reg(0, 1),
        exit(),
    ])
}

#[test]
fn test_div_by_zero_yields_zero() {
    assert_eq!(op64(AluOp::Div, 7, 0), 0);
    assert_eq!(op64(AluOp::SDiv, 7, 0), 0);
    assert_eq!(
        op32(AluOp::Div, 0xffff_ffff_0000_0007, 0xffff_ffff_0000_0000),
        0
    );
}

#[test]
fn test_mod_by_zero_keeps_dividend_and_zero_extends_in_alu32() {
    assert_eq!(op64(AluOp::Mod, 0xdead_beef_1234, 0), 0xdead_beef_1234);
    assert_eq!(op64(AluOp::SMod, u64::MAX, 0), u64::MAX);
    assert_eq!(
        op32(AluOp::Mod, 0xffff_ffff_0000_0007, 0xffff_0000_0000_0000),
        7
    );
}

#[test]
fn test_signed_division_overflow_wraps() {
    let min = i64::MIN as u64;
    assert_eq!(op64(AluOp::SDiv, min, u64::MAX), min);
    assert_eq!(op64(AluOp::SMod, min, u64::MAX), 0);
    assert_eq!(op32(AluOp::SDiv, 0x8000_0000, 0xffff_ffff), 0x8000_0000);
    assert_eq!(op32(AluOp::SMod, 0x8000_0000, 0xffff_ffff), 0);
    assert_eq!(op64(AluOp::SDiv, (-7i64) as u64, 2), (-3i64) as u64);
    assert_eq!(op64(AluOp::SMod, (-7i64) as u64, 2), (-1i64) as u64);
    assert_eq!(op64(AluOp::SMod, 7, (-2i64) as u64), 1);
    assert_eq!(op64(AluOp::Div, (-7i64) as u64, 2), ((-7i64) as u64) / 2);
}

#[test]
fn test_shift_amounts_are_masked() {
    assert_eq!(op64(AluOp::Lsh, 1, 65), 2);
    assert_eq!(op64(AluOp::Rsh, 4, 66), 1);
    assert_eq!(op64(AluOp::Arsh, i64::MIN as u64, 127), u64::MAX);
    assert_eq!(op32(AluOp::Lsh, 1, 33), 2);
    assert_eq!(op32(AluOp::Arsh, 0x8000_0000, 31), 0xffff_ffff);
    assert_eq!(op32(AluOp::Rsh, 0xffff_ffff_8000_0000, 31), 1);
}

#[test]
fn test_alu32_zero_extends_every_result() {
    assert_eq!(op32(AluOp::Add, 0xffff_ffff_ffff_ffff, 1), 0);
    assert_eq!(op32(AluOp::Sub, 0, 1), 0xffff_ffff);
    assert_eq!(op32(AluOp::Mul, 0x1_0000_0002, 3), 6);
    assert_eq!(op32(AluOp::Mov, 0, 0xffff_ffff_ffff_ffff), 0xffff_ffff);
    assert_eq!(op32(AluOp::Or, 0xf0f0_0000_0000_0000, 1), 1);
    assert_eq!(
        exec(&[
            ld(u64::MAX),
            Insn::Neg {
                wide: false,
                dst: 1
            },
            mov64_reg(0, 1),
            exit()
        ]),
        1
    );
}

#[test]
fn test_64_bit_immediates_sign_extend_and_32_bit_ones_do_not() {
    assert_eq!(exec(&[mov64_imm(0, -1), exit()]), u64::MAX);
    assert_eq!(exec(&[mov32_imm(0, -1), exit()]), 0xffff_ffff);
    assert_eq!(
        exec(&[mov64_imm(0, 0), alu64_imm(AluOp::Sub, 0, 1), exit()]),
        u64::MAX
    );
    assert_eq!(
        exec(&[mov64_imm(0, 5), alu64_imm(AluOp::And, 0, -2), exit()]),
        4
    );
}

#[test]
fn test_sign_extending_moves() {
    assert_eq!(
        exec(&[mov64_imm(1, 0x80), movsx64(0, 1, 8), exit()]),
        (-128i64) as u64
    );
    assert_eq!(
        exec(&[mov64_imm(1, 0x8000), movsx64(0, 1, 16), exit()]),
        (-32768i64) as u64
    );
    assert_eq!(
        exec(&[mov32_imm(1, -2), movsx64(0, 1, 32), exit()]),
        (-2i64) as u64
    );
    assert_eq!(
        exec(&[mov64_imm(1, 0xff), movsx32(0, 1, 8), exit()]),
        0xffff_ffff
    );
    assert_eq!(exec(&[mov64_imm(1, 0x7f), movsx64(0, 1, 8), exit()]), 0x7f);
}

#[test]
fn test_byte_swaps() {
    let v = 0x1122_3344_5566_7788u64;
    let run_end = |order, bits| {
        exec(&[
            ld(v),
            Insn::Endian {
                order,
                bits,
                dst: 1,
            },
            mov64_reg(0, 1),
            exit(),
        ])
    };
    assert_eq!(run_end(ByteOrder::ToLe, 16), 0x7788);
    assert_eq!(run_end(ByteOrder::ToLe, 32), 0x5566_7788);
    assert_eq!(run_end(ByteOrder::ToLe, 64), v);
    assert_eq!(run_end(ByteOrder::ToBe, 16), 0x8877);
    assert_eq!(run_end(ByteOrder::ToBe, 32), 0x8877_6655);
    assert_eq!(run_end(ByteOrder::ToBe, 64), 0x8877_6655_4433_2211);
    assert_eq!(run_end(ByteOrder::Swap, 16), 0x8877);
    assert_eq!(run_end(ByteOrder::Swap, 64), 0x8877_6655_4433_2211);
}

#[test]
fn test_loads_and_sign_extending_loads_from_context() {
    let mut mem = [
        0x80u8, 0xff, 0x01, 0x02, 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let mut maps = MapSet::new();
    let mut go = |i: Insn| exec_with(&[i, exit()], &mut mem, &mut maps, true).unwrap();
    assert_eq!(go(ldx(Size::B, 0, 1, 0)), 0x80);
    assert_eq!(go(ldxsx(Size::B, 0, 1, 0)), (-128i64) as u64);
    assert_eq!(go(ldx(Size::H, 0, 1, 0)), 0xff80);
    assert_eq!(go(ldxsx(Size::H, 0, 1, 0)), (-128i64) as u64);
    assert_eq!(go(ldxsx(Size::W, 0, 1, 4)), (-2i64) as u64);
    assert_eq!(go(ldx(Size::W, 0, 1, 4)), 0xffff_fffe);
    assert_eq!(go(ldx(Size::DW, 0, 1, 0)), 0xffff_fffe_0201_ff80);
}

#[test]
fn test_stores_truncate_and_immediates_sign_extend() {
    let prog = [
        st(Size::DW, 10, -8, -1),
        st(Size::B, 10, -8, 0x1234),
        ldx(Size::DW, 0, 10, -8),
        exit(),
    ];
    assert_eq!(exec(&prog), 0xffff_ffff_ffff_ff34);
    let prog = [
        ld(0x1122_3344_5566_7788),
        stx(Size::W, 10, 1, -4),
        ldx(Size::W, 0, 10, -4),
        exit(),
    ];
    assert_eq!(exec(&prog), 0x5566_7788);
}

#[test]
fn test_atomics_with_and_without_fetch() {
    let base = |ops: &[Insn], size| {
        let mut p = vec![st(Size::DW, 10, -8, 10), mov64_imm(1, 3)];
        p.extend_from_slice(ops);
        p.push(ldx(size, 0, 10, -8));
        p.push(exit());
        p
    };
    assert_eq!(
        exec(&base(
            &[atomic(Size::DW, AtomicOp::Add, false, 10, 1, -8)],
            Size::DW
        )),
        13
    );
    assert_eq!(
        exec(&base(
            &[atomic(Size::DW, AtomicOp::Or, false, 10, 1, -8)],
            Size::DW
        )),
        11
    );
    assert_eq!(
        exec(&base(
            &[atomic(Size::DW, AtomicOp::And, false, 10, 1, -8)],
            Size::DW
        )),
        2
    );
    assert_eq!(
        exec(&base(
            &[atomic(Size::DW, AtomicOp::Xor, false, 10, 1, -8)],
            Size::DW
        )),
        9
    );
    assert_eq!(
        exec(&base(
            &[atomic(Size::W, AtomicOp::Add, false, 10, 1, -8)],
            Size::W
        )),
        13
    );
    // fetch returns the old value in src
    let p = [
        st(Size::DW, 10, -8, 10),
        mov64_imm(1, 3),
        atomic(Size::DW, AtomicOp::Add, true, 10, 1, -8),
        mov64_reg(0, 1),
        exit(),
    ];
    assert_eq!(exec(&p), 10);
    let p = [
        st(Size::DW, 10, -8, 10),
        mov64_imm(1, 3),
        atomic(Size::DW, AtomicOp::Xchg, true, 10, 1, -8),
        ldx(Size::DW, 0, 10, -8),
        alu64_imm(AluOp::Lsh, 0, 8),
        alu64_reg(AluOp::Or, 0, 1),
        exit(),
    ];
    assert_eq!(exec(&p), 3 << 8 | 10);
    // cmpxchg: equal → store, r0 = old
    let cmp = |expect: i32| {
        exec(&[
            st(Size::DW, 10, -8, 10),
            mov64_imm(0, expect),
            mov64_imm(1, 99),
            atomic(Size::DW, AtomicOp::CmpXchg, true, 10, 1, -8),
            ldx(Size::DW, 1, 10, -8),
            alu64_imm(AluOp::Lsh, 1, 8),
            alu64_reg(AluOp::Or, 0, 1),
            exit(),
        ])
    };
    assert_eq!(cmp(10), 99 << 8 | 10);
    assert_eq!(cmp(11), 10 << 8 | 10);
    // 32-bit cmpxchg compares the low half of r0 and zero-extends the old value
    let p = [
        st(Size::W, 10, -4, -1),
        ld_imm64(0, 0xabcd_0000_ffff_ffff),
        mov64_imm(1, 5),
        atomic(Size::W, AtomicOp::CmpXchg, true, 10, 1, -4),
        exit(),
    ];
    assert_eq!(exec(&p), 0xffff_ffff);
}

#[test]
fn test_conditional_jumps_64_and_32_bit_signed_and_unsigned() {
    let cases: &[(JmpOp, u64, u64, bool)] = &[
        (JmpOp::Jeq, 5, 5, true),
        (JmpOp::Jne, 5, 5, false),
        (JmpOp::Jgt, u64::MAX, 1, true),
        (JmpOp::Jsgt, u64::MAX, 1, false),
        (JmpOp::Jge, 1, 1, true),
        (JmpOp::Jsge, 0, u64::MAX, true),
        (JmpOp::Jlt, 1, u64::MAX, true),
        (JmpOp::Jslt, 1, u64::MAX, false),
        (JmpOp::Jle, 2, 1, false),
        (JmpOp::Jsle, u64::MAX, 0, true),
        (JmpOp::Jset, 6, 2, true),
        (JmpOp::Jset, 6, 1, false),
    ];
    for &(op, a, b, want) in cases {
        let p = [
            ld(a),
            ld_imm64(2, b),
            mov64_imm(0, 1),
            jmp_reg(op, 1, 2, 1),
            mov64_imm(0, 0),
            exit(),
        ];
        assert_eq!(exec(&p) == 1, want, "{op:?} {a:#x} {b:#x}");
    }
    // JMP32 looks at the low halves only
    let p = [
        ld(0x1_0000_0005),
        mov64_imm(0, 1),
        jmp32_imm(JmpOp::Jeq, 1, 5, 1),
        mov64_imm(0, 0),
        exit(),
    ];
    assert_eq!(exec(&p), 1);
    let p = [
        ld(0x0000_0000_ffff_ffff),
        mov64_imm(0, 1),
        jmp32_imm(JmpOp::Jslt, 1, 0, 1),
        mov64_imm(0, 0),
        exit(),
    ];
    assert_eq!(exec(&p), 1);
    // 64-bit compare against a sign-extended immediate
    let p = [
        ld(u64::MAX),
        mov64_imm(0, 1),
        jmp_imm(JmpOp::Jeq, 1, -1, 1),
        mov64_imm(0, 0),
        exit(),
    ];
    assert_eq!(exec(&p), 1);
}

#[test]
fn test_long_jump_and_loop() {
    let p = [
        mov64_imm(0, 0),
        mov64_imm(1, 10),
        alu64_imm(AluOp::Add, 0, 3),
        alu64_imm(AluOp::Sub, 1, 1),
        jmp_imm(JmpOp::Jne, 1, 0, -3),
        exit(),
    ];
    assert_eq!(exec(&p), 30);
    let p = [
        mov64_imm(0, 1),
        Insn::Ja { off: 1, long: true },
        mov64_imm(0, 2),
        exit(),
    ];
    assert_eq!(exec(&p), 1);
}

#[test]
fn test_bpf_to_bpf_call_preserves_callee_saved_registers() {
    let p = [
        mov64_imm(6, 100),
        mov64_imm(1, 5),
        call_local(3),
        alu64_reg(AluOp::Add, 0, 6),
        exit(),
        exit(), // padding, never reached
        // callee at 6: clobbers r6, uses its own stack
        mov64_imm(6, 1),
        stx(Size::DW, 10, 1, -8),
        ldx(Size::DW, 0, 10, -8),
        alu64_imm(AluOp::Mul, 0, 2),
        exit(),
    ];
    assert_eq!(exec(&p), 110);
}

#[test]
fn test_call_depth_beyond_eight_frames_traps() {
    let p = [call_local(-1), exit()];
    let r = exec_with(&p, &mut [0; 4], &mut MapSet::new(), true);
    assert!(matches!(r, Err(Trap::CallDepth { .. })));
}

fn array_map(maps: &mut MapSet, value_size: u32, max_entries: u32) -> i32 {
    maps.create(
        MapDef {
            map_type: MapType::Array,
            key_size: 4,
            value_size,
            max_entries,
        },
        2,
    )
    .unwrap()
}

#[test]
fn test_map_helpers_lookup_update_delete() {
    let mut maps = MapSet::new();
    let fd = maps
        .create(
            MapDef {
                map_type: MapType::Hash,
                key_size: 4,
                value_size: 8,
                max_entries: 4,
            },
            1,
        )
        .unwrap();
    // key 7 → value 42; lookup; read back
    let p = [
        st(Size::W, 10, -4, 7),
        st(Size::DW, 10, -16, 42),
        ld_map_fd(1, fd),
        mov64_reg(2, 10),
        alu64_imm(AluOp::Add, 2, -4),
        mov64_reg(3, 10),
        alu64_imm(AluOp::Add, 3, -16),
        mov64_imm(4, 0),
        call(id::MAP_UPDATE_ELEM),
        ld_map_fd(1, fd),
        mov64_reg(2, 10),
        alu64_imm(AluOp::Add, 2, -4),
        call(id::MAP_LOOKUP_ELEM),
        jmp_imm(JmpOp::Jeq, 0, 0, 2),
        ldx(Size::DW, 0, 0, 0),
        exit(),
        mov64_imm(0, -1),
        exit(),
    ];
    assert_eq!(exec_with(&p, &mut [0; 4], &mut maps, true).unwrap(), 42);
    assert_eq!(maps.get(fd).unwrap().len(), 1);
    // delete twice: 0 then -ENOENT
    let del = [
        st(Size::W, 10, -4, 7),
        ld_map_fd(1, fd),
        mov64_reg(2, 10),
        alu64_imm(AluOp::Add, 2, -4),
        call(id::MAP_DELETE_ELEM),
        exit(),
    ];
    assert_eq!(exec_with(&del, &mut [0; 4], &mut maps, true).unwrap(), 0);
    assert_eq!(
        exec_with(&del, &mut [0; 4], &mut maps, true).unwrap() as i64,
        -2
    );
}

#[test]
fn test_array_map_value_pointer_and_direct_value_load() {
    let mut maps = MapSet::new();
    let fd = array_map(&mut maps, 16, 2);
    let p = [
        ld_map_value(1, fd, 8),
        st(Size::DW, 1, 0, 77),
        ld_map_value(2, fd, 0),
        ldx(Size::DW, 0, 2, 8),
        exit(),
    ];
    assert_eq!(exec_with(&p, &mut [0; 4], &mut maps, true).unwrap(), 77);
    assert_eq!(&maps.get(fd).unwrap().store()[8..16], &77u64.to_le_bytes());
}

#[test]
fn test_helpers_time_random_and_trace() {
    let mut env = TestEnv::default();
    let fmt = b"v=%d x=%llx\0";
    let mut p = vec![];
    for (i, chunk) in fmt.chunks(8).enumerate() {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        p.push(ld_imm64(1, u64::from_le_bytes(b)));
        p.push(stx(Size::DW, 10, 1, -16 + 8 * i as i16));
    }
    p.extend([
        mov64_reg(1, 10),
        alu64_imm(AluOp::Add, 1, -16),
        mov64_imm(2, fmt.len() as i32),
        mov64_imm(3, -5),
        mov64_imm(4, 255),
        call(id::TRACE_PRINTK),
        call(id::KTIME_GET_NS),
        mov64_reg(6, 0),
        call(id::GET_PRANDOM_U32),
        exit(),
    ]);
    let prog = decode_program(&assemble(&p)).unwrap();
    let out = run(
        &prog,
        Input {
            ctx: &mut [],
            packet: &mut [],
        },
        &mut MapSet::new(),
        &mut env,
        &RunOptions::default(),
    )
    .unwrap();
    assert_eq!(env.trace, vec!["v=-5 x=ff".to_string()]);
    assert!(out.r0 <= u64::from(u32::MAX));
}

#[test]
fn test_legacy_packet_loads_are_big_endian_and_abort_out_of_bounds() {
    let mut pkt = [0x12u8, 0x34, 0x56, 0x78];
    let prog = decode_program(&assemble(&[
        Insn::LdPacket {
            indirect: false,
            size: Size::H,
            src: 0,
            imm: 1,
        },
        exit(),
    ]))
    .unwrap();
    let mut env = TestEnv::default();
    let o = run(
        &prog,
        Input {
            ctx: &mut [],
            packet: &mut pkt,
        },
        &mut MapSet::new(),
        &mut env,
        &RunOptions::default(),
    );
    assert_eq!(o.unwrap().r0, 0x3456);
    let prog = decode_program(&assemble(&[
        mov64_imm(0, 9),
        Insn::LdPacket {
            indirect: false,
            size: Size::W,
            src: 0,
            imm: 2,
        },
        mov64_imm(0, 1),
        exit(),
    ]))
    .unwrap();
    let o = run(
        &prog,
        Input {
            ctx: &mut [],
            packet: &mut pkt,
        },
        &mut MapSet::new(),
        &mut env,
        &RunOptions::default(),
    );
    assert_eq!(o.unwrap().r0, 0);
    let _ = PACKET_BASE;
}

#[test]
fn test_checked_mode_traps_uninitialised_register_and_stack() {
    let mut maps = MapSet::new();
    let r = exec_with(&[mov64_reg(0, 3), exit()], &mut [0; 4], &mut maps, true);
    assert!(matches!(r, Err(Trap::UninitReg { reg: 3, .. })));
    let r = exec_with(
        &[ldx(Size::DW, 0, 10, -8), exit()],
        &mut [0; 4],
        &mut maps,
        true,
    );
    assert!(matches!(r, Err(Trap::UninitStack { .. })));
    // the fast mode reads zeroes
    assert_eq!(
        exec_with(
            &[ldx(Size::DW, 0, 10, -8), exit()],
            &mut [0; 4],
            &mut maps,
            false
        )
        .unwrap(),
        0
    );
    // helper calls clobber r1-r5
    let r = exec_with(
        &[call(id::KTIME_GET_NS), mov64_reg(0, 1), exit()],
        &mut [0; 4],
        &mut maps,
        true,
    );
    assert!(matches!(r, Err(Trap::UninitReg { reg: 1, .. })));
}

#[test]
fn test_out_of_bounds_access_traps_in_both_modes() {
    for checked in [true, false] {
        let mut maps = MapSet::new();
        let r = exec_with(
            &[ldx(Size::W, 0, 1, 14), exit()],
            &mut [0; 16],
            &mut maps,
            checked,
        );
        assert!(
            matches!(r, Err(Trap::OutOfBounds { write: false, .. })),
            "{r:?}"
        );
        let r = exec_with(
            &[st(Size::DW, 10, 0, 1), mov64_imm(0, 0), exit()],
            &mut [0; 16],
            &mut maps,
            checked,
        );
        assert!(
            matches!(r, Err(Trap::OutOfBounds { write: true, .. })),
            "{r:?}"
        );
        let r = exec_with(
            &[mov64_imm(1, 0), ldx(Size::B, 0, 1, 0), exit()],
            &mut [0; 16],
            &mut maps,
            checked,
        );
        assert!(matches!(r, Err(Trap::OutOfBounds { .. })), "{r:?}");
    }
}

#[test]
fn test_checked_mode_refuses_dead_callee_frame() {
    // the callee returns a pointer into its own frame; the caller reads it
    let p = [
        call_local(2),
        ldx(Size::DW, 0, 0, 0),
        exit(),
        st(Size::DW, 10, -8, 1),
        mov64_reg(0, 10),
        alu64_imm(AluOp::Add, 0, -8),
        exit(),
    ];
    let r = exec_with(&p, &mut [0; 4], &mut MapSet::new(), true);
    assert!(matches!(r, Err(Trap::OutOfBounds { .. })), "{r:?}");
}

#[test]
fn test_instruction_limit_stops_infinite_loop() {
    let prog = decode_program(&assemble(&[ja(-1)])).unwrap();
    let mut env = TestEnv::default();
    let opts = RunOptions {
        checked: false,
        max_insns: 1000,
    };
    let r = run(
        &prog,
        Input {
            ctx: &mut [],
            packet: &mut [],
        },
        &mut MapSet::new(),
        &mut env,
        &opts,
    );
    assert_eq!(r, Err(Trap::InstructionLimit));
}
