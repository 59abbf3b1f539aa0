//! The registry with the software implementations: every self-test
//! passes, lookups pick the highest priority that passed, and a broken
//! implementation is recorded but never handed out.

use std::sync::Arc;

use guest_crypto::data::split_mut;
use guest_crypto::testmgr::{hex, Thoroughness};
use guest_crypto::{
    soft, Alg, AlgInfo, CryptoError, Data, Direction, Registry, Skcipher, SkcipherTfm,
};

/// cbc(aes) that gets the last byte wrong, at a high priority.
struct BrokenCbc;

struct BrokenTfm(Box<dyn SkcipherTfm>);

impl Skcipher for BrokenCbc {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "cbc(aes)",
            driver: "cbc-aes-broken",
            priority: 9000,
        }
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn SkcipherTfm>, CryptoError> {
        Ok(Box::new(BrokenTfm(soft::CbcAesSoft.set_key(key)?)))
    }
}

impl SkcipherTfm for BrokenTfm {
    fn crypt(
        &mut self,
        dir: Direction,
        iv: &[u8],
        mut data: Data<'_, '_>,
    ) -> Result<(), CryptoError> {
        let len = data.input_len();
        let mut buf = data.gather(len)?;
        let mut segs = vec![&mut buf[..]];
        self.0.crypt(dir, iv, Data::InPlace(&mut segs))?;
        buf[len - 1] ^= 1;
        data.scatter(&buf)
    }
}

/// A passing cbc(aes) at another priority.
struct Renamed(u32);

impl Skcipher for Renamed {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "cbc(aes)",
            driver: "cbc-aes-renamed",
            priority: self.0,
        }
    }

    fn set_key(&self, key: &[u8]) -> Result<Box<dyn SkcipherTfm>, CryptoError> {
        soft::CbcAesSoft.set_key(key)
    }
}

#[test]
fn test_every_software_implementation_passes_its_full_self_test() {
    let mut registry = Registry::new(Thoroughness::Full);
    for alg in soft::all() {
        let info = alg.info();
        registry
            .register(alg)
            .unwrap_or_else(|e| panic!("{}: {e}", info.driver));
    }
    assert_eq!(registry.entries().len(), 13);
    for name in [
        "cbc(aes)",
        "ctr(aes)",
        "gcm(aes)",
        "sha1",
        "sha256",
        "sha512",
        "hmac(sha1)",
        "hmac(sha256)",
        "hmac(sha512)",
        "authenc(hmac(sha1),cbc(aes))",
        "authenc(hmac(sha256),cbc(aes))",
        "authenc(hmac(sha512),cbc(aes))",
        "deflate",
    ] {
        assert!(registry.find(name).is_ok(), "{name}");
    }
}

#[test]
fn test_registry_prefers_priority_and_skips_a_failed_self_test() {
    let mut registry = Registry::new(Thoroughness::Quick);
    registry
        .register(Alg::Skcipher(Arc::new(soft::CbcAesSoft)))
        .unwrap();
    registry
        .register(Alg::Skcipher(Arc::new(Renamed(50))))
        .unwrap();
    let broken = registry.register(Alg::Skcipher(Arc::new(BrokenCbc)));
    assert!(
        matches!(broken, Err(CryptoError::SelfTest(_))),
        "{broken:?}"
    );
    assert_eq!(registry.entries().len(), 3);
    let best = registry.skcipher("cbc(aes)").unwrap();
    assert_eq!(best.info().driver, "cbc-aes-soft");
    registry
        .register(Alg::Skcipher(Arc::new(Renamed(200))))
        .unwrap();
    assert_eq!(
        registry.skcipher("cbc(aes)").unwrap().info().driver,
        "cbc-aes-renamed"
    );
    assert!(matches!(
        registry.hash("cbc(aes)"),
        Err(CryptoError::NotFound(_))
    ));
    assert!(matches!(
        registry.aead("gcm(aes)"),
        Err(CryptoError::NotFound(_))
    ));
}

#[test]
fn test_cbc_rejects_partial_blocks_and_ctr_takes_them() {
    let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    let mut cbc = soft::CbcAesSoft.set_key(&key).unwrap();
    let mut buf = [0u8; 20];
    let mut segs = split_mut(&mut buf, &[]);
    assert_eq!(
        cbc.crypt(Direction::Encrypt, &[0; 16], Data::InPlace(&mut segs)),
        Err(CryptoError::BadLength)
    );
    let mut ctr = soft::CtrAesSoft.set_key(&key).unwrap();
    let mut segs = split_mut(&mut buf, &[]);
    ctr.crypt(Direction::Encrypt, &[0; 16], Data::InPlace(&mut segs))
        .unwrap();
    assert!(soft::CbcAesSoft.set_key(&[0; 15]).is_err());
}
