//! Helper functions: Linux's ids, their prototypes (what the verifier
//! checks) and the environment their run-time side needs.

mod env;
mod printk;

pub use env::{HelperEnv, TestEnv};
pub use printk::{format_trace, FormatError};

/// Helper ids (`enum bpf_func_id` in `include/uapi/linux/bpf.h`).
pub mod id {
    /// `void *bpf_map_lookup_elem(map, key)`.
    pub const MAP_LOOKUP_ELEM: i32 = 1;
    /// `long bpf_map_update_elem(map, key, value, flags)`.
    pub const MAP_UPDATE_ELEM: i32 = 2;
    /// `long bpf_map_delete_elem(map, key)`.
    pub const MAP_DELETE_ELEM: i32 = 3;
    /// `u64 bpf_ktime_get_ns(void)`.
    pub const KTIME_GET_NS: i32 = 5;
    /// `long bpf_trace_printk(fmt, fmt_size, ...)`.
    pub const TRACE_PRINTK: i32 = 6;
    /// `u32 bpf_get_prandom_u32(void)`.
    pub const GET_PRANDOM_U32: i32 = 7;
    /// One past the last helper id Linux 6.8 defines (`__BPF_FUNC_MAX_ID`).
    pub const MAX_ID: i32 = 212;
}

/// The name Linux's log gives helper `id` (`func_id_name`).
pub fn helper_name(id: i32) -> &'static str {
    match id {
        id::MAP_LOOKUP_ELEM => "bpf_map_lookup_elem",
        id::MAP_UPDATE_ELEM => "bpf_map_update_elem",
        id::MAP_DELETE_ELEM => "bpf_map_delete_elem",
        4 => "bpf_probe_read",
        id::KTIME_GET_NS => "bpf_ktime_get_ns",
        id::TRACE_PRINTK => "bpf_trace_printk",
        id::GET_PRANDOM_U32 => "bpf_get_prandom_u32",
        8 => "bpf_get_smp_processor_id",
        12 => "bpf_tail_call",
        14 => "bpf_get_current_pid_tgid",
        _ => "unknown",
    }
}

/// Kinds of helper arguments (`enum bpf_arg_type`, the ones we use).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// Unused argument.
    DontCare,
    /// Any initialised scalar (`ARG_ANYTHING`).
    Anything,
    /// A map (`ARG_CONST_MAP_PTR`).
    ConstMapPtr,
    /// Pointer to `key_size` readable bytes (`ARG_PTR_TO_MAP_KEY`).
    MapKey,
    /// Pointer to `value_size` readable bytes (`ARG_PTR_TO_MAP_VALUE`).
    MapValue,
    /// Pointer to readable memory sized by the next argument
    /// (`ARG_PTR_TO_MEM | MEM_RDONLY`).
    ReadonlyMem,
    /// Size of the previous memory argument, at least 1 (`ARG_CONST_SIZE`).
    ConstSize,
}

/// Kinds of helper return values (`enum bpf_return_type`, ours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetType {
    /// `RET_INTEGER`: an unknown scalar.
    Integer,
    /// `RET_PTR_TO_MAP_VALUE_OR_NULL`.
    MapValueOrNull,
}

/// Capability a helper needs (Linux's `bpf_base_func_proto` tiers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NeedCap {
    /// Available to every loader.
    None,
    /// `CAP_PERFMON` (trace_printk).
    Perfmon,
}

/// A helper's prototype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proto {
    /// Linux id.
    pub id: i32,
    /// Return kind.
    pub ret: RetType,
    /// Kinds of r1..r5.
    pub args: [ArgType; 5],
    /// Who may call it.
    pub needs: NeedCap,
}

const fn proto(id: i32, ret: RetType, args: [ArgType; 5], needs: NeedCap) -> Proto {
    Proto {
        id,
        ret,
        args,
        needs,
    }
}

use ArgType::{
    Anything as Any, ConstMapPtr, ConstSize, DontCare as No, MapKey, MapValue, ReadonlyMem,
};

const PROTOS: [Proto; 6] = [
    proto(
        id::MAP_LOOKUP_ELEM,
        RetType::MapValueOrNull,
        [ConstMapPtr, MapKey, No, No, No],
        NeedCap::None,
    ),
    proto(
        id::MAP_UPDATE_ELEM,
        RetType::Integer,
        [ConstMapPtr, MapKey, MapValue, Any, No],
        NeedCap::None,
    ),
    proto(
        id::MAP_DELETE_ELEM,
        RetType::Integer,
        [ConstMapPtr, MapKey, No, No, No],
        NeedCap::None,
    ),
    proto(id::KTIME_GET_NS, RetType::Integer, [No; 5], NeedCap::None),
    proto(
        id::TRACE_PRINTK,
        RetType::Integer,
        [ReadonlyMem, ConstSize, No, No, No],
        NeedCap::Perfmon,
    ),
    proto(
        id::GET_PRANDOM_U32,
        RetType::Integer,
        [No; 5],
        NeedCap::None,
    ),
];

/// The prototype of helper `id`, if we implement it.
pub fn proto_of(id: i32) -> Option<&'static Proto> {
    PROTOS.iter().find(|p| p.id == id)
}
