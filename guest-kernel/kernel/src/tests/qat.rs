//! QAT: the first QAT 420xx comes up (fuses, power-up, admin mailbox,
//! MSI-X), its crypto and deflate implementations register in a crypto
//! registry next to the software ones, each running its known-answer
//! self-test through the device. As in Linux, an implementation that fails
//! is reported and never used (software serves its algorithm); every one
//! that passed must be what its algorithm resolves to. The firmware's own
//! counters (COUNTERS_GET) must show the requests the driver counted, and
//! completions must arrive by MSI-X. Prints `qat: <driver>: <why>` per
//! failed implementation and
//! `qat: <bdf> <n> implementations passed on the device, which served <responses> of <requests> requests (driver <served>), <m> MSI-X`.
//! Left out of the plan without a QAT device.

use alloc::format;
use alloc::vec::Vec;

use guest_crypto::qat::{self as qat_algs, EngineConfig, QatEngine};
use guest_crypto::testmgr::Thoroughness;
use guest_crypto::{Registry, soft};
use guest_drivers::qat::Qat;

use super::{TestResult, ensure, skip};
use crate::hal::KernelHal;
use crate::{msi, pci, println};

/// Small rings: each self-test request runs alone.
const ENGINE: EngineConfig = EngineConfig {
    sym_bank: 1,
    dc_bank: 2,
    slots: 16,
    scratch: 8 << 10,
};

pub fn run() -> TestResult {
    let Some(device) = pci::qat_devices().next() else {
        return skip("no QAT device");
    };
    let msix_before = msi::count();
    let qat = Qat::probe(KernelHal::new(), device, Some(msi::target()))
        .map_err(|e| format!("{}: {e}", device.bdf))?;
    let engine = QatEngine::new(&qat, ENGINE).map_err(|e| format!("rings: {e}"))?;
    let mut registry = Registry::new(Thoroughness::Quick);
    // Software deflate is left out: miniz_oxide keeps a 64 KiB compressor
    // on the stack, the size of the whole boot stack.
    for alg in soft::all()
        .into_iter()
        .filter(|a| a.info().name != "deflate")
    {
        let driver = alg.info().driver;
        registry
            .register(alg)
            .map_err(|e| format!("{driver}: {e}"))?;
    }
    let algs = qat_algs::algs(&engine, qat.info());
    let total = algs.len();
    let mut failed = Vec::new();
    for alg in algs {
        let info = alg.info();
        if let Err(e) = registry.register(alg) {
            println!("qat: {}: {e}", info.driver);
            failed.push(info.driver);
        }
    }
    let (requests, responses) = qat.counters().map_err(|e| format!("counters: {e}"))?;
    let served = engine.served();
    println!(
        "qat: {} {} implementations passed on the device, which served {responses} of {requests} requests (driver {served}), {} MSI-X",
        device.bdf,
        total - failed.len(),
        msi::count() - msix_before
    );
    ensure!(
        total == 13,
        "{total} QAT implementations (sym and dc expected)"
    );
    ensure!(failed.len() < total, "every QAT implementation failed");
    for entry in registry.entries().iter().filter(|e| e.selftest.is_ok()) {
        let info = entry.alg.info();
        let best = registry.find(info.name).map_err(|e| format!("{e}"))?.info();
        let qat_passed = info.driver.starts_with("qat_");
        ensure!(
            !qat_passed || best.driver == info.driver,
            "{} resolves to {}, not {}",
            info.name,
            best.driver,
            info.driver
        );
    }
    ensure!(
        served > 0 && responses == served && requests == served,
        "counters disagree"
    );
    ensure!(msi::count() > msix_before, "no MSI-X completion");
    Ok(())
}
