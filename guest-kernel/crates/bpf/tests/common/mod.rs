//! Shared fixtures: the maps the selftests use and a verdict checker.

#![allow(dead_code)]

use guest_bpf::isa::{decode_program, encode_program, Insn};
use guest_bpf::maps::{MapDef, MapSet, MapType};
use guest_bpf::verifier::{verify, Caps, Config, ProgType, Verified, VerifyError};

/// fd 3: hash, 8-byte key, 8-byte value.
pub const HASH_8B: i32 = 3;
/// fd 4: hash, 8-byte key, 48-byte value.
pub const HASH_48B: i32 = 4;
/// fd 5: array, 48-byte value, 1 entry.
pub const ARRAY_48B: i32 = 5;
/// fd 6: per-CPU array, 8-byte value, 4 entries.
pub const PERCPU_8B: i32 = 6;
/// fd 7: array, 16-byte value, 16 entries.
pub const ARRAY_16X16: i32 = 7;

pub fn maps() -> MapSet {
    let mut m = MapSet::new();
    let defs = [
        (MapType::Hash, 8, 8, 16),
        (MapType::Hash, 8, 48, 16),
        (MapType::Array, 4, 48, 1),
        (MapType::PercpuArray, 4, 8, 4),
        (MapType::Array, 4, 16, 16),
    ];
    for (map_type, key_size, value_size, max_entries) in defs {
        m.create(
            MapDef {
                map_type,
                key_size,
                value_size,
                max_entries,
            },
            2,
        )
        .unwrap();
    }
    m
}

/// Decode-through-bytes then verify.
pub fn run(insns: &[Insn], cfg: &Config) -> Result<Verified, VerifyError> {
    let prog = decode_program(&encode_program(insns)).expect("test program decodes");
    verify(&prog, &maps(), cfg)
}

pub fn root(t: ProgType) -> Config {
    Config::new(t).with_ctx_size(64)
}

pub fn unpriv(t: ProgType) -> Config {
    Config::new(t).with_caps(Caps::UNPRIV).with_ctx_size(64)
}

pub fn bpf_only(t: ProgType) -> Config {
    Config::new(t).with_caps(Caps::BPF).with_ctx_size(64)
}

#[track_caller]
pub fn accept(insns: &[Insn], cfg: &Config) -> Verified {
    match run(insns, cfg) {
        Ok(v) => v,
        Err(e) => panic!("expected accept, got reject: {}\nlog:\n{}", e.msg, e.log),
    }
}

#[track_caller]
pub fn reject(insns: &[Insn], cfg: &Config, want: &str) -> VerifyError {
    match run(insns, cfg) {
        Ok(v) => panic!("expected reject with {want:?}, got accept\nlog:\n{}", v.log),
        Err(e) => {
            assert!(e.log.contains(want), "expected {want:?} in log:\n{}", e.log);
            e
        }
    }
}
