//! Software implementations: AES-CBC/CTR/GCM, authenc and SHA/HMAC on the
//! RustCrypto crates, deflate on miniz_oxide. They register at
//! [`PRIORITY`], below any accelerator.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use crate::precompute::ShaAlg;
use crate::registry::Alg;

mod aead;
mod deflate;
mod hash;
mod skcipher;

pub use aead::{AuthencSoft, GcmSoft};
pub use deflate::DeflateSoft;
pub use hash::{HmacSoft, ShaSoft};
pub use skcipher::{CbcAesSoft, CtrAesSoft};

/// Priority of every software implementation (Linux's generic ones use 100).
pub const PRIORITY: u32 = 100;

/// Every software implementation, ready to register.
pub fn all() -> Vec<Alg> {
    let mut algs = vec![
        Alg::Skcipher(Arc::new(CbcAesSoft)),
        Alg::Skcipher(Arc::new(CtrAesSoft)),
        Alg::Aead(Arc::new(GcmSoft)),
        Alg::Compression(Arc::new(DeflateSoft)),
    ];
    for alg in [ShaAlg::Sha1, ShaAlg::Sha256, ShaAlg::Sha512] {
        algs.push(Alg::Hash(Arc::new(ShaSoft(alg))));
        algs.push(Alg::Hash(Arc::new(HmacSoft(alg))));
        algs.push(Alg::Aead(Arc::new(AuthencSoft(alg))));
    }
    algs
}
