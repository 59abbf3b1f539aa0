//! The crypto API's QAT implementations against the device model: every
//! one passes its full self-test through the device (so the registry
//! prefers it over software), the device's counter shows it did the work,
//! and its deflate output inflates with miniz_oxide.

#[path = "../../drivers/tests/common/mod.rs"]
mod common;
#[path = "../../drivers/tests/qat_rig/mod.rs"]
mod qat_rig;

use std::sync::Arc;

use guest_crypto::data::split_mut;
use guest_crypto::qat::{self, EngineConfig, QatEngine};
use guest_crypto::testmgr::Thoroughness;
use guest_crypto::{soft, CryptoError, Data, Direction, Registry};
use qat_rig::QatRig;

use common::Sim;

/// Every algorithm both sides implement.
const NAMES: &[&str] = &[
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
];

fn engine(rig: &QatRig, interrupts: bool) -> Arc<QatEngine<Sim>> {
    let device = rig.probe(interrupts);
    QatEngine::new(&device, EngineConfig::default()).expect("ring pairs")
}

/// Registers software, then QAT; returns the registry and the QAT
/// self-test failures.
fn registry(rig: &QatRig, interrupts: bool) -> (Registry, Arc<QatEngine<Sim>>, Vec<String>) {
    let device = rig.probe(interrupts);
    let engine = QatEngine::new(&device, EngineConfig::default()).expect("ring pairs");
    let mut registry = Registry::new(Thoroughness::Full);
    for alg in soft::all() {
        registry.register(alg).expect("software passes");
    }
    let mut failures = Vec::new();
    for alg in qat::algs(&engine, device.info()) {
        let driver = alg.info().driver;
        if let Err(e) = registry.register(alg) {
            failures.push(format!("{driver}: {e}"));
        }
    }
    (registry, engine, failures)
}

#[test]
fn test_every_qat_implementation_passes_through_the_device_and_wins() {
    let rig = QatRig::new();
    let (registry, engine, failures) = registry(&rig, true);
    check_registry(&registry, &failures);
    assert!(engine.served() > 300, "{} requests", engine.served());
    assert!(rig.messages() > 0, "completions interrupt");
}

/// Every implementation passes its full self-test on the device and wins
/// over software.
fn check_registry(registry: &Registry, failures: &[String]) {
    assert!(failures.is_empty(), "{failures:#?}");
    for name in NAMES {
        let best = registry.find(name).unwrap().info();
        assert!(best.driver.starts_with("qat_"), "{name}: {}", best.driver);
        assert_eq!(best.priority, qat::PRIORITY, "{name}: {}", best.driver);
    }
}

#[test]
fn test_polled_engine_serves_the_registry_too() {
    let rig = QatRig::new();
    let (registry, engine, failures) = registry(&rig, false);
    check_registry(&registry, &failures);
    assert_eq!(
        registry.find("cbc(aes)").unwrap().info().driver,
        "qat_aes_cbc"
    );
    assert!(engine.served() > 0);
    assert_eq!(rig.messages(), 0);
}

#[test]
fn test_qat_deflate_output_inflates_with_miniz_and_overflow_is_reported() {
    let rig = QatRig::new();
    let engine = engine(&rig, true);
    let deflate = qat::QatDeflate(engine.clone());
    use guest_crypto::Compression;
    let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog; "
        .iter()
        .cycle()
        .take(6000)
        .copied()
        .collect();
    let mut packed = vec![0u8; 7000];
    let n = deflate.compress(&text, &mut packed).unwrap();
    assert_eq!(
        miniz_oxide::inflate::decompress_to_vec(&packed[..n]).unwrap(),
        text
    );
    let soft_packed = miniz_oxide::deflate::compress_to_vec(&text, 6);
    let mut back = vec![0u8; text.len()];
    assert_eq!(deflate.decompress(&soft_packed, &mut back), Ok(text.len()));
    assert_eq!(back, text);
    let mut short = vec![0u8; 100];
    assert_eq!(
        deflate.decompress(&soft_packed, &mut short),
        Err(CryptoError::Overflow)
    );
    assert_eq!(
        deflate.decompress(b"\xff\xff\xff", &mut back),
        Err(CryptoError::Corrupt)
    );
    assert_eq!(engine.served(), 4);
}

#[test]
fn test_qat_cbc_matches_software_on_scattered_odd_segments() {
    let rig = QatRig::threaded();
    let engine = engine(&rig, true);
    let key = [7u8; 32];
    let iv = [9u8; 16];
    let plain: Vec<u8> = (0..4096u32).map(|i| (i * 31) as u8).collect();
    use guest_crypto::Skcipher;
    let mut hw = qat::QatSkcipher::cbc(engine.clone()).set_key(&key).unwrap();
    let mut sw = soft::CbcAesSoft.set_key(&key).unwrap();
    let mut a = plain.clone();
    let mut segs = split_mut(&mut a, &[1, 100, 1000, 15]);
    hw.crypt(Direction::Encrypt, &iv, Data::InPlace(&mut segs))
        .unwrap();
    let mut b = plain.clone();
    let mut segs = split_mut(&mut b, &[]);
    sw.crypt(Direction::Encrypt, &iv, Data::InPlace(&mut segs))
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a, plain);
    let mut segs = split_mut(&mut a, &[4000]);
    hw.crypt(Direction::Decrypt, &iv, Data::InPlace(&mut segs))
        .unwrap();
    assert_eq!(a, plain);
    assert_eq!(engine.served(), 2);
}
