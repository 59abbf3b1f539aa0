//! The algorithm registry (Linux's `crypto_register_alg` and lookup):
//! registering runs the algorithm's self-test first; lookups by algorithm
//! name return the highest-priority implementation that passed.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::api::{Aead, AlgInfo, Compression, Hash, Skcipher};
use crate::error::CryptoError;
use crate::testmgr::{self, Thoroughness};

/// An implementation of one of the algorithm types.
#[derive(Clone)]
pub enum Alg {
    /// A symmetric cipher.
    Skcipher(Arc<dyn Skcipher>),
    /// An AEAD.
    Aead(Arc<dyn Aead>),
    /// A digest.
    Hash(Arc<dyn Hash>),
    /// A compressor.
    Compression(Arc<dyn Compression>),
}

impl Alg {
    /// Who the implementation is.
    pub fn info(&self) -> AlgInfo {
        match self {
            Self::Skcipher(a) => a.info(),
            Self::Aead(a) => a.info(),
            Self::Hash(a) => a.info(),
            Self::Compression(a) => a.info(),
        }
    }

    /// The type's name, as /proc/crypto shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Skcipher(_) => "skcipher",
            Self::Aead(_) => "aead",
            Self::Hash(_) => "hash",
            Self::Compression(_) => "compression",
        }
    }
}

impl core::fmt::Debug for Alg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}({:?})", self.kind(), self.info())
    }
}

/// A registered implementation and how its self-test went.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The implementation.
    pub alg: Alg,
    /// `Ok` if it passed; failed ones are never handed out.
    pub selftest: Result<(), CryptoError>,
}

/// Registered implementations, in registration order.
#[derive(Debug)]
pub struct Registry {
    entries: Vec<Entry>,
    thoroughness: Thoroughness,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(Thoroughness::Full)
    }
}

impl Registry {
    /// An empty registry whose self-tests run at `thoroughness`.
    pub fn new(thoroughness: Thoroughness) -> Self {
        Self {
            entries: Vec::new(),
            thoroughness,
        }
    }

    /// Self-tests `alg` and records it; an implementation that fails is
    /// kept (to report) but never used. Returns the self-test result.
    pub fn register(&mut self, alg: Alg) -> Result<(), CryptoError> {
        let selftest = testmgr::test(&alg, self.thoroughness);
        self.entries.push(Entry {
            alg,
            selftest: selftest.clone(),
        });
        selftest
    }

    /// Every registered implementation.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The highest-priority implementation of `name` that passed.
    pub fn find(&self, name: &str) -> Result<&Alg, CryptoError> {
        self.entries
            .iter()
            .filter(|e| e.selftest.is_ok() && e.alg.info().name == name)
            .max_by_key(|e| e.alg.info().priority)
            .map(|e| &e.alg)
            .ok_or_else(|| CryptoError::NotFound(String::from(name)))
    }

    /// The `cbc(aes)`-style cipher `name`.
    pub fn skcipher(&self, name: &str) -> Result<Arc<dyn Skcipher>, CryptoError> {
        match self.find(name)? {
            Alg::Skcipher(a) => Ok(a.clone()),
            other => Err(wrong_kind(name, other)),
        }
    }

    /// The AEAD `name`.
    pub fn aead(&self, name: &str) -> Result<Arc<dyn Aead>, CryptoError> {
        match self.find(name)? {
            Alg::Aead(a) => Ok(a.clone()),
            other => Err(wrong_kind(name, other)),
        }
    }

    /// The digest `name`.
    pub fn hash(&self, name: &str) -> Result<Arc<dyn Hash>, CryptoError> {
        match self.find(name)? {
            Alg::Hash(a) => Ok(a.clone()),
            other => Err(wrong_kind(name, other)),
        }
    }

    /// The compressor `name`.
    pub fn compression(&self, name: &str) -> Result<Arc<dyn Compression>, CryptoError> {
        match self.find(name)? {
            Alg::Compression(a) => Ok(a.clone()),
            other => Err(wrong_kind(name, other)),
        }
    }
}

fn wrong_kind(name: &str, alg: &Alg) -> CryptoError {
    CryptoError::NotFound(format!("{name} as this type ({} found)", alg.kind()))
}
