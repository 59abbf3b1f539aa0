//! Our kernel's QAT 420xx driver and crypto API against the VMM's QAT
//! model (`--device qat`), under KVM: the device comes up, every QAT
//! implementation passes its known-answer self-test through the device
//! and wins over software, the firmware's counters match the driver's,
//! and batching makes a request cost well under one VM exit (the
//! difference in the VMM's `vmm exits:` counters between 0 and N batches
//! of `selftest=qatbench`).

use std::time::Instant;

use integration::{guest_kernel, kvm_available, run_vmm, Run};

/// Boots our kernel with a QAT device and `cmdline`, with `--timings`.
fn boot(cmdline: &str) -> Run {
    let kernel = guest_kernel();
    run_vmm(&[
        "--kernel",
        kernel.to_str().unwrap(),
        "--device",
        "qat",
        "--timeout",
        "100",
        "--timings",
        "--cmdline",
        cmdline,
    ])
}

/// The exits the VMM saw that a device access causes (MMIO and others;
/// port I/O is the console) and the VM's run time in milliseconds.
fn exits(run: &Run) -> (f64, f64) {
    let field = |prefix: &str, key: &str| -> f64 {
        let line = run
            .stderr
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} line:\n{run}"));
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {line:?}"))
    };
    let device = ["mmio_read", "mmio_write", "other"]
        .iter()
        .map(|k| field("vmm exits: ", k))
        .sum();
    (device, field("vmm timings: ", "exit_ms"))
}

/// Boots with the device; returns the run and how many QAT
/// implementations passed, after checking the self-test passed and the
/// summary line.
fn self_test() -> (Run, usize) {
    let run = boot("console=ttyS0");
    let summary = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("qat: 01:00.0 "))
        .unwrap_or_else(|| panic!("no qat summary line:\n{run}"));
    let passed: usize = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("bad summary {summary:?}"));
    assert!(
        summary.contains("implementations passed on the device, which served "),
        "{summary}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("ok ") && l.ends_with(" - qat")),
        "the qat self-test did not pass:\n{run}"
    );
    run.expect_code(0);
    (run, passed)
}

#[test]
fn test_qat_comes_up_and_every_implementation_passes_on_the_device() {
    if !kvm_available() {
        return;
    }
    let (run, passed) = self_test();
    let failed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("qat: qat_"))
        .collect();
    assert!(failed.is_empty(), "failed: {failed:?}\n{run}");
    assert_eq!(passed, 13, "{run}");
}

#[test]
fn test_qat_default_boot_without_the_device_has_no_qat_test() {
    if !kvm_available() {
        return;
    }
    let kernel = guest_kernel();
    let run = run_vmm(&["--kernel", kernel.to_str().unwrap(), "--timeout", "60"]);
    run.expect_code(0);
    assert!(!run.stdout.contains("qat"), "{run}");
}

#[test]
fn test_qat_batches_cost_well_under_one_exit_per_request() {
    if !kvm_available() {
        return;
    }
    const BATCHES: u32 = 100;
    let mut rows = Vec::new();
    for size in [1usize, 16, 64] {
        let started = Instant::now();
        let base = boot(&format!(
            "console=ttyS0 selftest=qatbench qatbench=0:{size}"
        ));
        base.expect_code(0);
        let run = boot(&format!(
            "console=ttyS0 selftest=qatbench qatbench={BATCHES}:{size}"
        ));
        run.expect_code(0);
        // One doorbell per batch; completions are polled from the ring, and
        // the device may coalesce responses served in one pass into one
        // MSI-X message, so interrupts number between 1 and the batches.
        let prefix = format!(
            "qatbench: {BATCHES} batches of {size} AES-128-CBC requests of 64 bytes, \
             {BATCHES} doorbells, "
        );
        let interrupts: u32 = run
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|rest| rest.strip_suffix(" MSI-X interrupts"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no `{prefix}N MSI-X interrupts` line:\n{run}"));
        assert!(
            (1..=BATCHES).contains(&interrupts),
            "{interrupts} MSI-X interrupts for {BATCHES} batches:\n{run}"
        );
        let ((base_exits, base_ms), (exits_n, ms)) = (exits(&base), exits(&run));
        let requests = f64::from(BATCHES) * size as f64;
        let per_request = (exits_n - base_exits) / requests;
        let rate = requests / ((ms - base_ms) / 1000.0);
        eprintln!(
            "qat: batch {size:>2}: {per_request:.3} exits/request, {rate:.0} requests/s \
             ({:.1} s for both boots)",
            started.elapsed().as_secs_f64()
        );
        rows.push((size, per_request));
    }
    // One doorbell and one RX head write per batch, whatever its size.
    let (_, single) = rows[0];
    assert!(
        (1.5..=3.0).contains(&single),
        "a lone request: {single} exits"
    );
    for &(size, per_request) in &rows[1..] {
        assert!(
            per_request < 0.25,
            "batches of {size}: {per_request} exits per request"
        );
    }
}
