//! The typed instruction: what one decoded slot means.

use core::fmt;

/// Highest register number (`r10`, the read-only frame pointer).
pub const MAX_REG: u8 = 10;

/// Access width of loads, stores and atomics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// One byte.
    B,
    /// Two bytes.
    H,
    /// Four bytes.
    W,
    /// Eight bytes.
    DW,
}

impl Size {
    /// Width in bytes.
    pub const fn bytes(self) -> u32 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// The width of `n` bytes, if 1, 2, 4 or 8.
    pub const fn from_bytes(n: u32) -> Option<Size> {
        match n {
            1 => Some(Size::B),
            2 => Some(Size::H),
            4 => Some(Size::W),
            8 => Some(Size::DW),
            _ => None,
        }
    }
}

/// Second operand of arithmetic and jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Src {
    /// A register.
    Reg(u8),
    /// The instruction's 32-bit immediate (sign-extended for 64-bit ops).
    Imm(i32),
}

/// Arithmetic operations with two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// Addition.
    Add,
    /// Subtraction.
    Sub,
    /// Multiplication.
    Mul,
    /// Unsigned division.
    Div,
    /// Signed division (cpu v4).
    SDiv,
    /// Bitwise or.
    Or,
    /// Bitwise and.
    And,
    /// Left shift.
    Lsh,
    /// Logical right shift.
    Rsh,
    /// Unsigned modulo.
    Mod,
    /// Signed modulo (cpu v4).
    SMod,
    /// Exclusive or.
    Xor,
    /// Move.
    Mov,
    /// Sign-extending move from the low 8, 16 or 32 bits (cpu v4).
    MovSx(u8),
    /// Arithmetic right shift.
    Arsh,
}

impl AluOp {
    /// The C operator Linux's log prints (`+=`, `<<=`, ...).
    pub const fn symbol(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div | AluOp::SDiv => "/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh => ">>=",
            AluOp::Mod | AluOp::SMod => "%=",
            AluOp::Xor => "^=",
            AluOp::Mov | AluOp::MovSx(_) => "=",
            AluOp::Arsh => "s>>=",
        }
    }
}

/// Byte-order conversions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// `BPF_ALU | BPF_END | BPF_TO_LE`: to little endian (a truncation here).
    ToLe,
    /// `BPF_ALU | BPF_END | BPF_TO_BE`: to big endian (a swap here).
    ToBe,
    /// `BPF_ALU64 | BPF_END`: unconditional byte swap (cpu v4).
    Swap,
}

/// Conditional jump comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JmpOp {
    /// `==`.
    Jeq,
    /// Unsigned `>`.
    Jgt,
    /// Unsigned `>=`.
    Jge,
    /// `&` is non-zero.
    Jset,
    /// `!=`.
    Jne,
    /// Signed `>`.
    Jsgt,
    /// Signed `>=`.
    Jsge,
    /// Unsigned `<`.
    Jlt,
    /// Unsigned `<=`.
    Jle,
    /// Signed `<`.
    Jslt,
    /// Signed `<=`.
    Jsle,
}

impl JmpOp {
    /// The comparison with its operands swapped (`a > b` ⇔ `b < a`).
    pub const fn flip(self) -> JmpOp {
        match self {
            JmpOp::Jgt => JmpOp::Jlt,
            JmpOp::Jge => JmpOp::Jle,
            JmpOp::Jlt => JmpOp::Jgt,
            JmpOp::Jle => JmpOp::Jge,
            JmpOp::Jsgt => JmpOp::Jslt,
            JmpOp::Jsge => JmpOp::Jsle,
            JmpOp::Jslt => JmpOp::Jsgt,
            JmpOp::Jsle => JmpOp::Jsge,
            other => other,
        }
    }

    /// The operator Linux's log prints.
    pub const fn symbol(self) -> &'static str {
        match self {
            JmpOp::Jeq => "==",
            JmpOp::Jgt => ">",
            JmpOp::Jge => ">=",
            JmpOp::Jset => "&",
            JmpOp::Jne => "!=",
            JmpOp::Jsgt => "s>",
            JmpOp::Jsge => "s>=",
            JmpOp::Jlt => "<",
            JmpOp::Jle => "<=",
            JmpOp::Jslt => "s<",
            JmpOp::Jsle => "s<=",
        }
    }
}

/// Atomic read-modify-write operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// `*p += src`.
    Add,
    /// `*p |= src`.
    Or,
    /// `*p &= src`.
    And,
    /// `*p ^= src`.
    Xor,
    /// `src = xchg(*p, src)`.
    Xchg,
    /// `r0 = cmpxchg(*p, r0, src)`.
    CmpXchg,
}

/// What the 64-bit immediate of `LD_IMM64` stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Imm64 {
    /// A plain constant.
    Const(u64),
    /// `BPF_PSEUDO_MAP_FD`: a map, by file descriptor.
    MapFd(i32),
    /// `BPF_PSEUDO_MAP_VALUE`: address of a map's value plus an offset.
    MapValue {
        /// Map file descriptor.
        fd: i32,
        /// Offset into the value.
        off: u32,
    },
    /// `BPF_PSEUDO_BTF_ID`: a kernel variable.
    BtfId(i32),
    /// `BPF_PSEUDO_FUNC`: address of a BPF function (relative offset).
    Func(i32),
    /// `BPF_PSEUDO_MAP_IDX`: a map, by index into the fd array.
    MapIdx(i32),
    /// `BPF_PSEUDO_MAP_IDX_VALUE`: a map value, by fd-array index.
    MapIdxValue {
        /// Index into the fd array.
        idx: i32,
        /// Offset into the value.
        off: u32,
    },
}

/// What a call instruction calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallTarget {
    /// A helper function, by its Linux id.
    Helper(i32),
    /// A BPF function at `pc + 1 + offset` (`BPF_PSEUDO_CALL`).
    Local(i32),
    /// A kernel function, by BTF id (`BPF_PSEUDO_KFUNC_CALL`).
    Kfunc(i32),
}

/// One decoded instruction slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Insn {
    /// `dst op= src` on 64 bits (`wide`) or 32 bits (zero-extended).
    Alu {
        /// ALU64 (true) or ALU (false).
        wide: bool,
        /// The operation.
        op: AluOp,
        /// Destination register.
        dst: u8,
        /// Second operand.
        src: Src,
    },
    /// `dst = -dst`.
    Neg {
        /// ALU64 (true) or ALU (false).
        wide: bool,
        /// Destination register.
        dst: u8,
    },
    /// Byte-order conversion of the low `bits` bits (16, 32, 64).
    Endian {
        /// Conversion.
        order: ByteOrder,
        /// Width.
        bits: u8,
        /// Register converted in place.
        dst: u8,
    },
    /// `dst = imm64` (two slots; the second decodes as [`Insn::Imm64Tail`]).
    LdImm64 {
        /// Destination register.
        dst: u8,
        /// Meaning of the immediate.
        imm: Imm64,
    },
    /// Second slot of `LD_IMM64`; never executed.
    Imm64Tail,
    /// Legacy packet load `r0 = ntoh(*(size *)(skb->data + [src +] imm))`.
    LdPacket {
        /// `BPF_IND` (true: offset includes `src`) or `BPF_ABS`.
        indirect: bool,
        /// Width (B, H or W).
        size: Size,
        /// Offset register of `BPF_IND`.
        src: u8,
        /// Constant offset.
        imm: i32,
    },
    /// `dst = *(size *)(src + off)`, sign-extended when `sx`.
    Ldx {
        /// Width.
        size: Size,
        /// `BPF_MEMSX` (cpu v4).
        sx: bool,
        /// Destination register.
        dst: u8,
        /// Base register.
        src: u8,
        /// Offset.
        off: i16,
    },
    /// `*(size *)(dst + off) = imm`.
    St {
        /// Width.
        size: Size,
        /// Base register.
        dst: u8,
        /// Offset.
        off: i16,
        /// Stored value (truncated to `size`).
        imm: i32,
    },
    /// `*(size *)(dst + off) = src`.
    Stx {
        /// Width.
        size: Size,
        /// Base register.
        dst: u8,
        /// Value register.
        src: u8,
        /// Offset.
        off: i16,
    },
    /// Atomic operation on `*(size *)(dst + off)` with `src`.
    Atomic {
        /// Width (W or DW).
        size: Size,
        /// Operation.
        op: AtomicOp,
        /// Whether the old value is returned (always for xchg/cmpxchg).
        fetch: bool,
        /// Base register.
        dst: u8,
        /// Operand register.
        src: u8,
        /// Offset.
        off: i16,
    },
    /// Unconditional jump to `pc + 1 + off` (`gotol` when from JMP32).
    Ja {
        /// Relative target.
        off: i32,
        /// Encoded as `BPF_JMP32 | BPF_JA` with the offset in imm.
        long: bool,
    },
    /// Conditional jump to `pc + 1 + off`.
    Jmp {
        /// JMP (true, 64-bit compare) or JMP32.
        wide: bool,
        /// Comparison.
        op: JmpOp,
        /// Left operand.
        dst: u8,
        /// Right operand.
        src: Src,
        /// Relative target.
        off: i16,
    },
    /// Function call.
    Call(CallTarget),
    /// Return `r0` to the caller.
    Exit,
}

impl Insn {
    /// Number of 8-byte slots this instruction occupies.
    pub const fn slots(&self) -> usize {
        match self {
            Insn::LdImm64 { .. } => 2,
            _ => 1,
        }
    }
}

fn reg_or_imm(f: &mut fmt::Formatter<'_>, src: Src, wide: bool) -> fmt::Result {
    match src {
        Src::Reg(r) if wide => write!(f, "r{r}"),
        Src::Reg(r) => write!(f, "w{r}"),
        Src::Imm(i) => write!(f, "{i}"),
    }
}

fn size_name(size: Size) -> &'static str {
    match size {
        Size::B => "u8",
        Size::H => "u16",
        Size::W => "u32",
        Size::DW => "u64",
    }
}

impl fmt::Display for Insn {
    /// Linux's `print_bpf_insn` style (`r1 += 8`, `if r1 > r2 goto pc+3`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = if matches!(
            self,
            Insn::Alu { wide: false, .. } | Insn::Neg { wide: false, .. }
        ) {
            'w'
        } else {
            'r'
        };
        match *self {
            Insn::Alu {
                wide,
                op: AluOp::MovSx(bits),
                dst,
                src,
            } => {
                write!(f, "{p}{dst} = (s{bits})")?;
                reg_or_imm(f, src, wide)
            }
            Insn::Alu { wide, op, dst, src } => {
                write!(f, "{p}{dst} {} ", op.symbol())?;
                if matches!(op, AluOp::SDiv | AluOp::SMod) {
                    write!(f, "(s)")?;
                }
                reg_or_imm(f, src, wide)
            }
            Insn::Neg { dst, .. } => write!(f, "{p}{dst} = -{p}{dst}"),
            Insn::Endian { order, bits, dst } => match order {
                ByteOrder::ToLe => write!(f, "r{dst} = le{bits} r{dst}"),
                ByteOrder::ToBe => write!(f, "r{dst} = be{bits} r{dst}"),
                ByteOrder::Swap => write!(f, "r{dst} = bswap{bits} r{dst}"),
            },
            Insn::LdImm64 { dst, imm } => match imm {
                Imm64::Const(v) => write!(f, "r{dst} = {v:#x}"),
                Imm64::MapFd(fd) => write!(f, "r{dst} = map[id:{fd}]"),
                Imm64::MapValue { fd, off } => write!(f, "r{dst} = map[id:{fd}][0]+{off}"),
                Imm64::BtfId(id) => write!(f, "r{dst} = btf_id {id}"),
                Imm64::Func(off) => write!(f, "r{dst} = func pc{off:+}"),
                Imm64::MapIdx(i) => write!(f, "r{dst} = map[idx:{i}]"),
                Imm64::MapIdxValue { idx, off } => write!(f, "r{dst} = map[idx:{idx}][0]+{off}"),
            },
            Insn::Imm64Tail => write!(f, "(ld_imm64 second half)"),
            Insn::LdPacket {
                indirect: false,
                size,
                imm,
                ..
            } => {
                write!(f, "r0 = *({} *)skb[{imm}]", size_name(size))
            }
            Insn::LdPacket { size, src, imm, .. } => {
                write!(f, "r0 = *({} *)skb[r{src} + {imm}]", size_name(size))
            }
            Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => {
                let s = if sx { "s" } else { "u" };
                write!(f, "r{dst} = *({s}{} *)(r{src} {off:+})", size.bytes() * 8)
            }
            Insn::St {
                size,
                dst,
                off,
                imm,
            } => {
                write!(f, "*({} *)(r{dst} {off:+}) = {imm}", size_name(size))
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                write!(f, "*({} *)(r{dst} {off:+}) = r{src}", size_name(size))
            }
            Insn::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => {
                let name = match op {
                    AtomicOp::Add => "add",
                    AtomicOp::Or => "or",
                    AtomicOp::And => "and",
                    AtomicOp::Xor => "xor",
                    AtomicOp::Xchg => "xchg",
                    AtomicOp::CmpXchg => "cmpxchg",
                };
                let fe = if fetch && !matches!(op, AtomicOp::Xchg | AtomicOp::CmpXchg) {
                    "fetch_"
                } else {
                    ""
                };
                write!(
                    f,
                    "lock {fe}{name} *({} *)(r{dst} {off:+}), r{src}",
                    size_name(size)
                )
            }
            Insn::Ja { off, .. } => write!(f, "goto pc{off:+}"),
            Insn::Jmp {
                wide,
                op,
                dst,
                src,
                off,
            } => {
                let p = if wide { 'r' } else { 'w' };
                write!(f, "if {p}{dst} {} ", op.symbol())?;
                reg_or_imm(f, src, wide)?;
                write!(f, " goto pc{off:+}")
            }
            Insn::Call(CallTarget::Helper(id)) => {
                write!(f, "call {}#{id}", crate::helpers::helper_name(id))
            }
            Insn::Call(CallTarget::Local(off)) => write!(f, "call pc{off:+}"),
            Insn::Call(CallTarget::Kfunc(id)) => write!(f, "call kernel-function#{id}"),
            Insn::Exit => write!(f, "exit"),
        }
    }
}
