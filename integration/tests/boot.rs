//! Our guest kernel and the tiny guest boot under the VMM on KVM.

use integration::{guest_kernel, kvm_available, run_vmm, tiny_guest};

fn boot_kernel(extra: &[&str]) -> integration::Run {
    let kernel = guest_kernel();
    let mut args = vec!["--kernel", kernel.to_str().unwrap(), "--timeout", "60"];
    args.extend_from_slice(extra);
    run_vmm(&args)
}

#[test]
fn test_guest_kernel_boot_passes_every_self_test() {
    if !kvm_available() {
        return;
    }
    let run = boot_kernel(&[]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0]
            .starts_with("guest-kernel 0.1.0: memory 255 MiB, cpus 1, cmdline \"console=ttyS0\""),
        "banner first:\n{run}"
    );
    let plan: usize = lines
        .iter()
        .find_map(|l| l.strip_prefix("1.."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no plan line:\n{run}"));
    assert!(plan >= 8, "at least 8 self-tests, got {plan}");
    let passed = lines.iter().filter(|l| l.starts_with("ok ")).count();
    let failed: Vec<_> = lines.iter().filter(|l| l.starts_with("not ok ")).collect();
    assert!(failed.is_empty(), "failed self-tests: {failed:?}\n{run}");
    assert_eq!(passed, plan, "every planned test reported:\n{run}");
    run.expect_stdout_line(&format!("tests: {plan} passed, 0 failed"));
}

#[test]
fn test_guest_kernel_banner_shows_cpus_memory_and_cmdline() {
    if !kvm_available() {
        return;
    }
    let run = boot_kernel(&[
        "--cpus",
        "2",
        "--memory",
        "512M",
        "--cmdline",
        "selftest=run answer=42",
    ]);
    run.expect_code(0);
    let banner = run.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        banner, "guest-kernel 0.1.0: memory 511 MiB, cpus 2, cmdline \"selftest=run answer=42\"",
        "{run}"
    );
}

#[test]
fn test_guest_kernel_boots_with_ram_above_4g() {
    if !kvm_available() {
        return;
    }
    let run = boot_kernel(&["--memory", "5G"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with("guest-kernel 0.1.0: memory 5119 MiB, cpus 1"),
        "{run}"
    );
}

#[test]
fn test_tiny_guest_prints_its_line_and_exits_zero() {
    if !kvm_available() {
        return;
    }
    let tiny = tiny_guest();
    let run = run_vmm(&["--kernel", tiny.to_str().unwrap(), "--timeout", "30"]);
    run.expect_code(0).expect_stdout_line("tiny-guest: hello");
    assert!(
        run.stderr.is_empty(),
        "no VMM messages on a clean exit:\n{run}"
    );
}

#[test]
fn test_timings_flag_reports_first_output_exit_and_rss() {
    if !kvm_available() {
        return;
    }
    let tiny = tiny_guest();
    let run = run_vmm(&[
        "--kernel",
        tiny.to_str().unwrap(),
        "--timings",
        "--timeout",
        "30",
    ]);
    run.expect_code(0);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("vmm timings: "))
        .unwrap_or_else(|| panic!("no timings line:\n{run}"));
    let field = |name: &str| -> f64 {
        let value = line
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} missing in {line}"));
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number"))
    };
    let (first, exit, rss) = (
        field("first_output_ms"),
        field("exit_ms"),
        field("peak_rss_kib"),
    );
    assert!(first > 0.0 && first <= exit, "{line}");
    assert!(rss > 0.0, "{line}");
}
