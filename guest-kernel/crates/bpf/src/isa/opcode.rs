//! Opcode field values of RFC 9669 (the names of `include/uapi/linux/bpf.h`).

/// Instruction class: the low 3 bits of the opcode.
pub mod class {
    /// Legacy non-standard loads (LD_IMM64, LD_ABS, LD_IND).
    pub const LD: u8 = 0x00;
    /// Loads into a register.
    pub const LDX: u8 = 0x01;
    /// Stores of an immediate.
    pub const ST: u8 = 0x02;
    /// Stores of a register (and atomics).
    pub const STX: u8 = 0x03;
    /// 32-bit arithmetic.
    pub const ALU: u8 = 0x04;
    /// 64-bit jumps.
    pub const JMP: u8 = 0x05;
    /// 32-bit jumps.
    pub const JMP32: u8 = 0x06;
    /// 64-bit arithmetic.
    pub const ALU64: u8 = 0x07;
}

/// Source bit of arithmetic and jump opcodes.
pub mod src {
    /// Use the 32-bit immediate.
    pub const K: u8 = 0x00;
    /// Use the source register.
    pub const X: u8 = 0x08;
}

/// Size field (bits 3-4) of load and store opcodes.
pub mod size {
    /// Four bytes.
    pub const W: u8 = 0x00;
    /// Two bytes.
    pub const H: u8 = 0x08;
    /// One byte.
    pub const B: u8 = 0x10;
    /// Eight bytes.
    pub const DW: u8 = 0x18;
}

/// Mode field (bits 5-7) of load and store opcodes.
pub mod mode {
    /// 64-bit immediate (LD class only).
    pub const IMM: u8 = 0x00;
    /// Legacy packet access, absolute offset.
    pub const ABS: u8 = 0x20;
    /// Legacy packet access, register offset.
    pub const IND: u8 = 0x40;
    /// Regular memory access.
    pub const MEM: u8 = 0x60;
    /// Sign-extending load.
    pub const MEMSX: u8 = 0x80;
    /// Atomic read-modify-write.
    pub const ATOMIC: u8 = 0xc0;
}

/// Operation field (bits 4-7) of ALU opcodes.
pub mod alu {
    /// `dst += src`.
    pub const ADD: u8 = 0x00;
    /// `dst -= src`.
    pub const SUB: u8 = 0x10;
    /// `dst *= src`.
    pub const MUL: u8 = 0x20;
    /// `dst /= src` (offset 1: signed).
    pub const DIV: u8 = 0x30;
    /// `dst |= src`.
    pub const OR: u8 = 0x40;
    /// `dst &= src`.
    pub const AND: u8 = 0x50;
    /// `dst <<= src`.
    pub const LSH: u8 = 0x60;
    /// `dst >>= src` (logical).
    pub const RSH: u8 = 0x70;
    /// `dst = -dst`.
    pub const NEG: u8 = 0x80;
    /// `dst %= src` (offset 1: signed).
    pub const MOD: u8 = 0x90;
    /// `dst ^= src`.
    pub const XOR: u8 = 0xa0;
    /// `dst = src` (offset 8/16/32: sign-extending).
    pub const MOV: u8 = 0xb0;
    /// `dst >>= src` (arithmetic).
    pub const ARSH: u8 = 0xc0;
    /// Byte swap.
    pub const END: u8 = 0xd0;
}

/// Operation field (bits 4-7) of jump opcodes.
pub mod jmp {
    /// Unconditional jump.
    pub const JA: u8 = 0x00;
    /// `==`.
    pub const JEQ: u8 = 0x10;
    /// Unsigned `>`.
    pub const JGT: u8 = 0x20;
    /// Unsigned `>=`.
    pub const JGE: u8 = 0x30;
    /// `dst & src != 0`.
    pub const JSET: u8 = 0x40;
    /// `!=`.
    pub const JNE: u8 = 0x50;
    /// Signed `>`.
    pub const JSGT: u8 = 0x60;
    /// Signed `>=`.
    pub const JSGE: u8 = 0x70;
    /// Function call.
    pub const CALL: u8 = 0x80;
    /// Return.
    pub const EXIT: u8 = 0x90;
    /// Unsigned `<`.
    pub const JLT: u8 = 0xa0;
    /// Unsigned `<=`.
    pub const JLE: u8 = 0xb0;
    /// Signed `<`.
    pub const JSLT: u8 = 0xc0;
    /// Signed `<=`.
    pub const JSLE: u8 = 0xd0;
}

/// Immediates of atomic operations.
pub mod atomic {
    /// Also return the old value in `src`.
    pub const FETCH: i32 = 0x01;
    /// Atomic add.
    pub const ADD: i32 = 0x00;
    /// Atomic or.
    pub const OR: i32 = 0x40;
    /// Atomic and.
    pub const AND: i32 = 0x50;
    /// Atomic xor.
    pub const XOR: i32 = 0xa0;
    /// Exchange (always fetches).
    pub const XCHG: i32 = 0xe0 | FETCH;
    /// Compare-and-exchange against r0 (always fetches).
    pub const CMPXCHG: i32 = 0xf0 | FETCH;
}

/// `src` field values of special instructions (`BPF_PSEUDO_*`).
pub mod pseudo {
    /// LD_IMM64: imm is a map file descriptor.
    pub const MAP_FD: u8 = 1;
    /// LD_IMM64: imm is a map fd, the next imm an offset into its value.
    pub const MAP_VALUE: u8 = 2;
    /// LD_IMM64: imm is a BTF id of a kernel variable.
    pub const BTF_ID: u8 = 3;
    /// LD_IMM64: imm is a relative instruction offset of a function.
    pub const FUNC: u8 = 4;
    /// LD_IMM64: imm is an index into the fd array.
    pub const MAP_IDX: u8 = 5;
    /// LD_IMM64: index into the fd array, next imm a value offset.
    pub const MAP_IDX_VALUE: u8 = 6;
    /// CALL: imm is a relative offset of a BPF function.
    pub const CALL: u8 = 1;
    /// CALL: imm is a BTF id of a kernel function.
    pub const KFUNC_CALL: u8 = 2;
}
