//! eBPF for our guest kernel.
//!
//! - [`isa`]: the instruction set of RFC 9669 — raw 8-byte slots, a typed
//!   [`isa::Insn`], decoding that rejects malformed encodings with the
//!   reason, and encoding back to bytes.
//! - [`interp`]: an interpreter with the ISA's exact semantics, and a checked
//!   mode that traps every out-of-bounds or uninitialised access (used to
//!   test the verifier's soundness).
//! - [`maps`]: array, hash and per-CPU array maps (Linux's type numbers).
//! - [`helpers`]: helper ids and prototypes (Linux's numbering) and their
//!   run-time implementations.
//! - [`verifier`]: the static checker, modelled on Linux 6.8's
//!   `kernel/bpf/verifier.c`: register types, tnum + range tracking, stack
//!   slots, pointer rules, branches, calls, loops, pruning and precision.
//!
//! Everything is `no_std` + `alloc` so the same code runs in the guest
//! kernel and under `cargo test` on the host.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod helpers;
pub mod interp;
pub mod isa;
pub mod maps;
pub mod verifier;
