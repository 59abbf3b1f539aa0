//! Program types: what the context looks like and what a program may do
//! with it (Linux's `*_is_valid_access` callbacks for the types we model).

use super::reg::RegType;

/// Program types we verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProgType {
    /// Ours, not Linux's: `r1` points to `ctx_size` bytes of readable and
    /// writable memory (variable offsets allowed), `r2` holds that size.
    Mem,
    /// `BPF_PROG_TYPE_SOCKET_FILTER` (1): `struct __sk_buff`, no direct
    /// packet access, legacy packet loads.
    SocketFilter,
    /// `BPF_PROG_TYPE_KPROBE` (2): read-only `struct pt_regs`.
    Kprobe,
    /// `BPF_PROG_TYPE_XDP` (6): `struct xdp_md`, direct packet access.
    Xdp,
    /// `BPF_PROG_TYPE_CGROUP_SKB` (8): `struct __sk_buff` with packet
    /// reads; must return 0 or 1.
    CgroupSkb,
}

/// Size of `struct __sk_buff`.
pub const SK_BUFF_SIZE: u32 = 192;
/// Size of `struct xdp_md`.
pub const XDP_MD_SIZE: u32 = 24;
/// Size of x86-64 `struct pt_regs`.
pub const PT_REGS_SIZE: u32 = 168;

/// `__sk_buff` field offsets used below.
pub mod skb {
    /// `mark`.
    pub const MARK: u32 = 8;
    /// `priority`.
    pub const PRIORITY: u32 = 32;
    /// `cb[0]`.
    pub const CB0: u32 = 48;
    /// End of `cb[4]`.
    pub const CB_END: u32 = 68;
    /// `tc_classid`.
    pub const TC_CLASSID: u32 = 72;
    /// `data`.
    pub const DATA: u32 = 76;
    /// `data_end`.
    pub const DATA_END: u32 = 80;
    /// `family` (start of the socket fields).
    pub const FAMILY: u32 = 88;
    /// End of `local_port`.
    pub const LOCAL_PORT_END: u32 = 140;
    /// `data_meta`.
    pub const DATA_META: u32 = 140;
    /// `flow_keys` (8 bytes).
    pub const FLOW_KEYS: u32 = 144;
    /// `tstamp` (8 bytes).
    pub const TSTAMP: u32 = 152;
    /// `wire_len`.
    pub const WIRE_LEN: u32 = 160;
    /// `sk` (8 bytes).
    pub const SK: u32 = 168;
    /// `hwtstamp` (8 bytes).
    pub const HWTSTAMP: u32 = 184;
}

/// `xdp_md` field offsets.
pub mod xdp {
    /// `data`.
    pub const DATA: u32 = 0;
    /// `data_end`.
    pub const DATA_END: u32 = 4;
    /// `data_meta`.
    pub const DATA_META: u32 = 8;
    /// `egress_ifindex` (devmap programs only).
    pub const EGRESS_IFINDEX: u32 = 20;
}

fn in_field(off: u32, start: u32, len: u32) -> bool {
    off >= start && off < start + len
}

/// Natural width of the `__sk_buff` field at `off`.
fn skb_field_size(off: u32) -> u32 {
    match off {
        o if in_field(o, skb::FLOW_KEYS, 8) || in_field(o, skb::SK, 8) => 8,
        o if in_field(o, skb::TSTAMP, 8) || in_field(o, skb::HWTSTAMP, 8) => 8,
        _ => 4,
    }
}

/// `bpf_skb_is_valid_access`: alignment, narrow reads, full-width writes.
fn skb_common(off: u32, size: u32, write: bool) -> bool {
    if off >= SK_BUFF_SIZE || !off.is_multiple_of(size) {
        return false;
    }
    let def = skb_field_size(off);
    if in_field(off, skb::FLOW_KEYS, 8) || in_field(off, skb::SK, 8) {
        // pointer fields we do not model
        return false;
    }
    if def == 8 {
        return size == 8;
    }
    if write {
        size == def
    } else {
        (off & (def - 1)) + size <= def
    }
}

impl ProgType {
    /// Parse a name as `bpf-tool` accepts it.
    pub fn from_name(s: &str) -> Option<ProgType> {
        match s {
            "mem" => Some(ProgType::Mem),
            "socket_filter" | "socket" => Some(ProgType::SocketFilter),
            "kprobe" => Some(ProgType::Kprobe),
            "xdp" => Some(ProgType::Xdp),
            "cgroup_skb" => Some(ProgType::CgroupSkb),
            _ => None,
        }
    }

    /// The name `from_name` accepts.
    pub fn name(self) -> &'static str {
        match self {
            ProgType::Mem => "mem",
            ProgType::SocketFilter => "socket_filter",
            ProgType::Kprobe => "kprobe",
            ProgType::Xdp => "xdp",
            ProgType::CgroupSkb => "cgroup_skb",
        }
    }

    /// Linux's `enum bpf_prog_type` number (none for [`ProgType::Mem`]).
    pub fn linux_number(self) -> Option<u32> {
        match self {
            ProgType::Mem => None,
            ProgType::SocketFilter => Some(1),
            ProgType::Kprobe => Some(2),
            ProgType::Xdp => Some(6),
            ProgType::CgroupSkb => Some(8),
        }
    }

    /// Context size in bytes (`ctx_size` for [`ProgType::Mem`]).
    pub fn ctx_size(self, ctx_size: u32) -> u32 {
        match self {
            ProgType::Mem => ctx_size,
            ProgType::SocketFilter | ProgType::CgroupSkb => SK_BUFF_SIZE,
            ProgType::Kprobe => PT_REGS_SIZE,
            ProgType::Xdp => XDP_MD_SIZE,
        }
    }

    /// Whether direct packet access exists for this type.
    pub fn has_packet(self) -> bool {
        matches!(self, ProgType::Xdp | ProgType::CgroupSkb)
    }

    /// Whether packet data may be written.
    pub fn packet_writable(self) -> bool {
        matches!(self, ProgType::Xdp)
    }

    /// Whether legacy `LD_ABS`/`LD_IND` are allowed.
    pub fn allows_ld_abs(self) -> bool {
        matches!(self, ProgType::SocketFilter)
    }

    /// Allowed range of the main program's return value, if restricted.
    pub fn return_range(self) -> Option<(i64, i64)> {
        match self {
            ProgType::CgroupSkb => Some((0, 1)),
            _ => None,
        }
    }

    /// Validate a context access at constant offset `off` of `size` bytes;
    /// returns the type of the loaded value (scalar or packet pointers).
    pub fn ctx_access(
        self,
        off: i64,
        size: u32,
        write: bool,
        bpf_capable: bool,
    ) -> Option<RegType> {
        if off < 0 {
            return None;
        }
        let off = u32::try_from(off).ok()?;
        match self {
            ProgType::Mem => None,
            ProgType::Kprobe => {
                let ok = !write
                    && off < PT_REGS_SIZE
                    && off.is_multiple_of(size)
                    && off + size <= PT_REGS_SIZE;
                ok.then_some(RegType::Scalar)
            }
            ProgType::Xdp => {
                if write
                    || off >= XDP_MD_SIZE
                    || !off.is_multiple_of(size)
                    || size != 4
                    || off == xdp::EGRESS_IFINDEX
                {
                    return None;
                }
                Some(match off {
                    xdp::DATA => RegType::Packet,
                    xdp::DATA_END => RegType::PacketEnd,
                    xdp::DATA_META => RegType::PacketMeta,
                    _ => RegType::Scalar,
                })
            }
            ProgType::SocketFilter => {
                let banned = in_field(off, skb::TC_CLASSID, 4)
                    || in_field(off, skb::DATA, 4)
                    || in_field(off, skb::DATA_META, 4)
                    || in_field(off, skb::DATA_END, 4)
                    || (skb::FAMILY..skb::LOCAL_PORT_END).contains(&off)
                    || in_field(off, skb::TSTAMP, 8)
                    || in_field(off, skb::WIRE_LEN, 4)
                    || in_field(off, skb::HWTSTAMP, 8);
                if banned || (write && !(skb::CB0..skb::CB_END).contains(&off)) {
                    return None;
                }
                skb_common(off, size, write).then_some(RegType::Scalar)
            }
            ProgType::CgroupSkb => {
                let banned = in_field(off, skb::TC_CLASSID, 4)
                    || in_field(off, skb::DATA_META, 4)
                    || in_field(off, skb::WIRE_LEN, 4)
                    || ((in_field(off, skb::DATA, 4) || in_field(off, skb::DATA_END, 4))
                        && !bpf_capable);
                if banned {
                    return None;
                }
                if write {
                    let ok = in_field(off, skb::MARK, 4)
                        || in_field(off, skb::PRIORITY, 4)
                        || (skb::CB0..skb::CB_END).contains(&off)
                        || (in_field(off, skb::TSTAMP, 8) && bpf_capable);
                    if !ok {
                        return None;
                    }
                }
                if !skb_common(off, size, write) {
                    return None;
                }
                Some(match off {
                    skb::DATA if size == 4 => RegType::Packet,
                    skb::DATA_END if size == 4 => RegType::PacketEnd,
                    skb::DATA | skb::DATA_END => return None,
                    _ => RegType::Scalar,
                })
            }
        }
    }
}
