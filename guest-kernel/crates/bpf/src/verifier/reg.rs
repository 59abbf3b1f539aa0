//! Register state: a type, a fixed offset, value/offset knowledge, and the
//! bookkeeping pruning needs (ids, liveness, precision).

use core::fmt;

use super::bounds::Bounds;

/// What a register holds (Linux's `enum bpf_reg_type`, the subset we use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegType {
    /// Never written (`NOT_INIT`).
    NotInit,
    /// A number (`SCALAR_VALUE`).
    Scalar,
    /// The program's context (`PTR_TO_CTX`).
    Ctx,
    /// A map (`CONST_PTR_TO_MAP`).
    ConstMap,
    /// A map value (`PTR_TO_MAP_VALUE`).
    MapValue,
    /// A stack slot of some frame (`PTR_TO_STACK`).
    Stack,
    /// Packet data (`PTR_TO_PACKET`).
    Packet,
    /// Packet metadata (`PTR_TO_PACKET_META`).
    PacketMeta,
    /// End of packet data (`PTR_TO_PACKET_END`).
    PacketEnd,
    /// A sized memory block (`PTR_TO_MEM`): the `mem` program type's context.
    Mem,
}

impl RegType {
    /// Linux's `reg_type_str` name.
    pub const fn name(self) -> &'static str {
        match self {
            RegType::NotInit => "?",
            RegType::Scalar => "scalar",
            RegType::Ctx => "ctx",
            RegType::ConstMap => "map_ptr",
            RegType::MapValue => "map_value",
            RegType::Stack => "fp",
            RegType::Packet => "pkt",
            RegType::PacketMeta => "pkt_meta",
            RegType::PacketEnd => "pkt_end",
            RegType::Mem => "mem",
        }
    }

    /// Whether this is a pointer type.
    pub const fn is_pointer(self) -> bool {
        !matches!(self, RegType::NotInit | RegType::Scalar)
    }

    /// Packet data or metadata (the types packet ranges apply to).
    pub const fn is_pkt(self) -> bool {
        matches!(self, RegType::Packet | RegType::PacketMeta)
    }
}

/// Liveness: the value was read by a descendant before being overwritten.
pub const LIVE_READ: u8 = 1;
/// Liveness: the register was written in the current segment.
pub const LIVE_WRITTEN: u8 = 2;

/// One register's abstract state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegState {
    /// Type.
    pub ty: RegType,
    /// Pointer that may be NULL (`PTR_MAYBE_NULL`).
    pub maybe_null: bool,
    /// Constant offset of a pointer.
    pub off: i32,
    /// Scalar value, or the variable part of a pointer's offset.
    pub b: Bounds,
    /// Identity shared by copies (null checks, packet ranges, scalar links).
    pub id: u32,
    /// Map index (map pointers and values).
    pub map: u32,
    /// Packet: bytes known readable from the pointer; mem: block size.
    pub range: u32,
    /// Stack pointer: the frame it points into.
    pub frameno: u8,
    /// Scalar whose exact value matters for pruning.
    pub precise: bool,
    /// `LIVE_*` flags.
    pub live: u8,
}

impl RegState {
    /// An unwritten register.
    pub const NOT_INIT: RegState = RegState {
        ty: RegType::NotInit,
        maybe_null: false,
        off: 0,
        b: Bounds::UNKNOWN,
        id: 0,
        map: 0,
        range: 0,
        frameno: 0,
        precise: false,
        live: 0,
    };

    /// An unknown scalar.
    pub const fn unknown() -> RegState {
        RegState {
            ty: RegType::Scalar,
            ..RegState::NOT_INIT
        }
    }

    /// A known scalar.
    pub const fn constant(v: u64) -> RegState {
        RegState {
            ty: RegType::Scalar,
            b: Bounds::constant(v),
            ..RegState::NOT_INIT
        }
    }

    /// A scalar with the given knowledge.
    pub const fn scalar(b: Bounds) -> RegState {
        RegState {
            ty: RegType::Scalar,
            b,
            ..RegState::NOT_INIT
        }
    }

    /// A pointer of type `ty` with zero offset.
    pub const fn pointer(ty: RegType) -> RegState {
        RegState {
            ty,
            b: Bounds::constant(0),
            ..RegState::NOT_INIT
        }
    }

    /// Whether it is a scalar.
    pub const fn is_scalar(&self) -> bool {
        matches!(self.ty, RegType::Scalar)
    }

    /// Whether it is a pointer.
    pub const fn is_pointer(&self) -> bool {
        self.ty.is_pointer()
    }

    /// Whether it is the known scalar 0.
    pub fn is_zero(&self) -> bool {
        self.is_scalar() && self.b.const_value(true) == Some(0)
    }

    /// Replace the value keeping liveness (a write of a new value).
    pub fn set(&mut self, v: RegState) {
        let live = self.live;
        *self = v;
        self.live = live;
    }

    /// The type name with `_or_null` for nullable pointers.
    pub fn type_name(&self) -> TypeName {
        TypeName(self.ty, self.maybe_null)
    }
}

/// Display of a register type as Linux prints it.
#[derive(Clone, Copy, Debug)]
pub struct TypeName(RegType, bool);

impl fmt::Display for TypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())?;
        if self.1 {
            f.write_str("_or_null")?;
        }
        Ok(())
    }
}
