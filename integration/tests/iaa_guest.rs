//! Our guest kernel's IAA driver (guest-kernel/crates/drivers, `iaa`)
//! against the VMM's IAA model (`--device iaa`) under KVM: the `iaa`
//! self-test brings the device up and round-trips four kinds of page, and
//! `selftest=iaabench` shows what one descriptor costs in VM exits: the
//! `movdir64b` to the portal, nothing else (the completion record is polled
//! in guest RAM).

use std::collections::BTreeMap;

use integration::{guest_kernel, host_cpu_has, is_kvm_pvm, kvm_available, run_vmm, Run};

/// Pairs the bench runs (each a compress and a decompress descriptor).
const PAIRS: u32 = 1000;

/// Whether this host can run the IAA tests (prints why not).
fn runs_here() -> bool {
    if !kvm_available() {
        return false;
    }
    if !is_kvm_pvm() && !host_cpu_has("movdir64b") {
        eprintln!("skipping: the host CPU lacks movdir64b, which the IAA device needs");
        return false;
    }
    true
}

/// Boots our kernel with an IAA device, `cmdline` and `--timings`.
fn boot(cmdline: &str) -> Run {
    let kernel = guest_kernel();
    run_vmm(&[
        "--kernel",
        kernel.to_str().unwrap(),
        "--device",
        "iaa",
        "--timings",
        "--timeout",
        "60",
        "--cmdline",
        cmdline,
    ])
}

/// The `key=value` numbers of the stderr line starting with `prefix`
/// (up to a `;`).
fn numbers(run: &Run, prefix: &str) -> BTreeMap<String, f64> {
    let line = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line:\n{run}"));
    let line = line.split(';').next().unwrap_or_default();
    line.split_whitespace()
        .filter_map(|kv| {
            let (key, value) = kv.split_once('=')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The number before `word` in `line` (`... 600 descriptors ...`).
fn number_before(line: &str, word: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.trim_end_matches(',') == word)
        .unwrap_or_else(|| panic!("no {word:?} in {line:?}"));
    words[at - 1].trim_start_matches('(').parse().unwrap()
}

#[test]
fn test_iaa_self_test_round_trips_every_page_kind() {
    if !runs_here() {
        return;
    }
    let run = boot("console=ttyS0");
    run.expect_code(0);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("pci ") && l.contains(" 8086:0cfe class 088000")),
        "no IAA function in the topology:\n{run}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("ok ") && l.ends_with(" - iaa")),
        "no passing iaa line:\n{run}"
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("iaa: "))
        .unwrap_or_else(|| panic!("no iaa: line:\n{run}"));
    let zeros = number_before(line, "text");
    let text = number_before(line, "counters");
    let random = number_before(line, "bytes");
    assert!(zeros < 64 && text < 256, "{line}");
    assert!(random > 4096, "a random page must not compress: {line}");
}

#[test]
fn test_iaa_bench_costs_one_exit_per_descriptor() {
    if !runs_here() {
        return;
    }
    let bench = |pairs: u32| {
        let run = boot(&format!("selftest=iaabench iaabench={pairs}"));
        run.expect_code(0);
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("iaabench: "))
            .unwrap_or_else(|| panic!("no iaabench line:\n{run}"))
            .to_string();
        let exits = numbers(&run, "vmm exits: ");
        let timings = numbers(&run, "vmm timings: ");
        (
            number_before(&line, "descriptors"),
            exits,
            timings["exit_ms"],
        )
    };
    let (base_desc, base_exits, base_ms) = bench(0);
    let (desc, exits, ms) = bench(PAIRS);
    let descriptors = (desc - base_desc) as f64;
    assert_eq!(descriptors, 2.0 * f64::from(PAIRS));
    // Everything but port I/O (the console line's length differs a little).
    let mut per_kind = BTreeMap::new();
    for (kind, n) in &exits {
        per_kind.insert(kind.clone(), (n - base_exits[kind]) / descriptors);
    }
    let per_descriptor: f64 = per_kind
        .iter()
        .filter(|(kind, _)| kind.as_str() != "pio")
        .map(|(_, n)| n)
        .sum();
    let pairs_per_s = f64::from(PAIRS) / ((ms - base_ms) / 1e3);
    eprintln!(
        "iaa bench: {per_descriptor:.3} exits per descriptor ({per_kind:?}), \
         {pairs_per_s:.0} compress+decompress pairs/s, {:.1} µs per descriptor",
        (ms - base_ms) * 1e3 / descriptors
    );
    assert!(
        (per_descriptor - 1.0).abs() < 0.02,
        "expected one exit (the movdir64b) per descriptor, got {per_descriptor:.3}: {per_kind:?}"
    );
}
