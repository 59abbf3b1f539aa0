//! `--trace`: every register access of the selected devices, one line
//! each on stderr, including PCI configuration reads through ECAM.

use integration::{kvm_available, run_vmm, tiny_guest, Run};

/// Boots the tiny guest with `--trace FILTER` for each filter; returns the
/// run and its trace lines.
fn trace_tiny(filters: &[&str]) -> (Run, Vec<String>) {
    let kernel = tiny_guest();
    let mut args = vec!["--kernel", kernel.to_str().unwrap(), "--timeout", "30"];
    for filter in filters {
        args.extend(["--trace", filter]);
    }
    let run = run_vmm(&args);
    run.expect_code(0);
    let traces = trace_lines(&run);
    (run, traces)
}

fn trace_lines(run: &Run) -> Vec<String> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("trace: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn test_trace_shows_the_tiny_guests_serial_and_debug_exit_writes() {
    if !kvm_available() {
        return;
    }
    let (run, traces) = trace_tiny(&["debug-exit", "serial"]);
    // "tiny-guest: hello\n" is 18 bytes to the transmit register.
    let serial_writes = traces
        .iter()
        .filter(|l| l.starts_with("trace: serial reg+0x0 w1 "))
        .count();
    assert_eq!(serial_writes, 18, "{run}");
    assert!(
        traces.iter().any(|l| l == "trace: serial reg+0x0 w1 0x74"),
        "'t': {run}"
    );
    assert_eq!(
        traces.last().map(String::as_str),
        Some("trace: debug-exit reg+0x0 w4 0x00000000"),
        "{run}"
    );
}

#[test]
fn test_trace_filter_selects_devices() {
    if !kvm_available() {
        return;
    }
    let kernel = tiny_guest();
    let run = run_vmm(&[
        "--kernel",
        kernel.to_str().unwrap(),
        "--timeout",
        "30",
        "--trace",
        "debug-exit",
    ]);
    run.expect_code(0);
    let traces: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("trace: "))
        .collect();
    assert_eq!(
        traces,
        vec!["trace: debug-exit reg+0x0 w4 0x00000000"],
        "{run}"
    );
}

/// Our kernel drives a virtio-blk disk: its configuration and BAR
/// accesses show up, but not its queue notifications, which KVM
/// ioeventfds take without an exit.
#[test]
fn test_trace_shows_virtio_registers_but_not_ioeventfd_notifications() {
    if !kvm_available() {
        return;
    }
    let disk = integration::scratch_file("trace-disk.img", &vec![0u8; 1 << 20]);
    let kernel = integration::guest_kernel();
    let disk_arg = format!("path={}", disk.display());
    let run = run_vmm(&[
        "--kernel",
        kernel.to_str().unwrap(),
        "--timeout",
        "60",
        "--disk",
        &disk_arg,
        "--trace",
        "virtio-blk",
    ]);
    run.expect_code(0);
    assert!(run.stdout.contains("- virtio_blk_rw"), "{run}");
    let traces = trace_lines(&run);
    assert!(
        traces
            .iter()
            .any(|l| l == "trace: 01:00.0 virtio-blk cfg+0x0 r4 0x10421af4"),
        "vendor/device ID read through ECAM:\n{run}"
    );
    assert!(
        traces
            .iter()
            .any(|l| l.starts_with("trace: 01:00.0 virtio-blk bar0+0x14 w1 ")),
        "device status writes:\n{run}"
    );
    assert!(
        traces.iter().all(|l| !l.contains(" bar0+0x3000 ")),
        "a notification reached the VMM:\n{run}"
    );
    assert!(traces.iter().all(|l| l.contains("virtio-blk")), "{run}");
}
