//! Our guest kernel's crypto API, shaped like Linux's: algorithms by name
//! (`cbc(aes)`, `gcm(aes)`, `hmac(sha256)`, `deflate`, ...) behind
//! [`api`] traits, several implementations of each ([`soft`] on RustCrypto
//! and miniz_oxide, [`qat`] on the QAT 420xx driver), and a [`Registry`]
//! that runs known-answer self-tests ([`testmgr`]) when an implementation
//! registers and hands out the highest-priority one that passed.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod api;
pub mod authenc;
pub mod data;
mod error;
pub mod precompute;
pub mod qat;
pub mod registry;
pub mod soft;
pub mod testmgr;

pub use api::{
    Aead, AeadTfm, AlgInfo, Compression, Direction, Hash, HashTfm, Skcipher, SkcipherTfm,
};
pub use data::Data;
pub use error::CryptoError;
pub use registry::{Alg, Entry, Registry};
