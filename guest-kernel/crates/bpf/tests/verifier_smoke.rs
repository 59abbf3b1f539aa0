//! First end-to-end checks of the verifier: reads of unset registers, null checks, loops.

mod common;
use common::*;
use guest_bpf::helpers::id;
use guest_bpf::isa::asm::*;
use guest_bpf::isa::{AluOp, JmpOp, Size};
use guest_bpf::verifier::ProgType;

#[test]
fn smoke() {
    let sf = root(ProgType::SocketFilter);
    accept(&[mov64_imm(0, 0), exit()], &sf);
    reject(&[exit()], &sf, "R0 !read_ok");
    reject(&[ldx(Size::W, 0, 2, 0), exit()], &sf, "R2 !read_ok");
    reject(
        &[mov64_imm(1, 0), ldx(Size::W, 0, 1, 0), exit()],
        &sf,
        "R1 invalid mem access 'scalar'",
    );
    // map lookup without null check
    let p = [
        st(Size::DW, 10, -8, 0),
        mov64_reg(2, 10),
        alu64_imm(AluOp::Add, 2, -8),
        ld_map_fd(1, HASH_8B),
        call(id::MAP_LOOKUP_ELEM),
        st(Size::DW, 0, 0, 1),
        mov64_imm(0, 0),
        exit(),
    ];
    reject(&p, &sf, "R0 invalid mem access 'map_value_or_null'");
    let p = [
        st(Size::DW, 10, -8, 0),
        mov64_reg(2, 10),
        alu64_imm(AluOp::Add, 2, -8),
        ld_map_fd(1, HASH_8B),
        call(id::MAP_LOOKUP_ELEM),
        jmp_imm(JmpOp::Jeq, 0, 0, 1),
        st(Size::DW, 0, 0, 1),
        mov64_imm(0, 0),
        exit(),
    ];
    accept(&p, &sf);
    // bounded loop
    let p = [
        mov64_imm(0, 0),
        mov64_imm(1, 0),
        alu64_imm(AluOp::Add, 1, 1),
        jmp_imm(JmpOp::Jlt, 1, 100, -2),
        exit(),
    ];
    let v = accept(&p, &sf);
    println!("{}", v.log);
    reject(
        &p,
        &unpriv(ProgType::SocketFilter),
        "back-edge from insn 3 to 2",
    );
    reject(&[ja(-1)], &sf, "infinite loop detected");
}
