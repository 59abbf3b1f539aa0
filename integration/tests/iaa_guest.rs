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

/// What one `selftest=iaabench` boot reported.
struct Bench {
    descriptors: f64,
    interrupts: f64,
    exits: BTreeMap<String, f64>,
    exit_ms: f64,
}

impl Bench {
    fn run(plan: &str) -> Self {
        let run = boot(&format!("selftest=iaabench iaabench={plan}"));
        run.expect_code(0);
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with("iaabench: "))
            .unwrap_or_else(|| panic!("no iaabench line:\n{run}"));
        let descriptors = number_before(line, "descriptors") as f64;
        // The VMM completes each movdir64b itself (KVM never emulates it).
        if run.stderr.contains("vmm fallback: ") {
            let completed = numbers(&run, "vmm fallback: ").get("movdir64b").copied();
            assert_eq!(completed.unwrap_or(0.0), descriptors, "{run}");
        }
        Self {
            descriptors,
            interrupts: number_before(line, "MSI-X") as f64,
            exits: numbers(&run, "vmm exits: "),
            exit_ms: numbers(&run, "vmm timings: ")["exit_ms"],
        }
    }

    /// Exits of each kind per descriptor beyond `base`, and their sum
    /// without port I/O (the console line's length differs a little).
    fn exits_per_descriptor(&self, base: &Bench) -> (BTreeMap<String, f64>, f64) {
        let n = self.descriptors - base.descriptors;
        let per_kind: BTreeMap<String, f64> = self
            .exits
            .iter()
            .map(|(kind, count)| (kind.clone(), (count - base.exits[kind]) / n))
            .collect();
        let total = per_kind
            .iter()
            .filter(|(kind, _)| kind.as_str() != "pio")
            .map(|(_, n)| n)
            .sum();
        (per_kind, total)
    }

    /// Microseconds per descriptor beyond `base`.
    fn micros_per_descriptor(&self, base: &Bench) -> f64 {
        (self.exit_ms - base.exit_ms) * 1e3 / (self.descriptors - base.descriptors)
    }
}

#[test]
fn test_iaa_bench_costs_one_exit_per_descriptor() {
    if !runs_here() {
        return;
    }
    let base = Bench::run("0");
    for plan in [format!("{PAIRS}"), format!("{PAIRS}:verify:irq")] {
        let bench = Bench::run(&plan);
        let per_pair = if plan.contains("verify") { 3.0 } else { 2.0 };
        assert_eq!(bench.descriptors, per_pair * f64::from(PAIRS), "{plan}");
        if plan.contains("irq") {
            assert_eq!(
                bench.interrupts - base.interrupts,
                bench.descriptors,
                "{plan}: one completion interrupt per descriptor"
            );
        }
        let (per_kind, per_descriptor) = bench.exits_per_descriptor(&base);
        let micros = bench.micros_per_descriptor(&base);
        eprintln!(
            "iaabench={plan}: {per_descriptor:.3} exits per descriptor ({per_kind:?}), \
             {micros:.1} µs per descriptor, {:.0} pairs/s",
            1e6 / (micros * per_pair)
        );
        assert!(
            (per_descriptor - 1.0).abs() < 0.02,
            "{plan}: expected one exit (the movdir64b) per descriptor, \
             got {per_descriptor:.3}: {per_kind:?}"
        );
    }
}
