//! Our guest kernel's PCI and virtio drivers (guest-kernel/crates/drivers)
//! against the VMM's PCIe platform and virtio models, under KVM: the
//! topology it prints, a virtio-blk write the host checks from the same
//! seed, a readonly disk refusing writes, MSI-X completions, virtio-rng,
//! and two VMs linked by the socket backend exchanging frames.

use std::path::{Path, PathBuf};
use std::thread;

use guest_drivers::pattern;
use integration::{guest_kernel, kvm_available, run_vmm, scratch_file, Run};

const SECTOR: usize = 512;
/// Disk images are 1 MiB.
const DISK_BYTES: usize = 1 << 20;
/// The sectors the kernel's virtio_blk_rw test writes (README: 1..=8).
const WRITTEN: std::ops::Range<usize> = 1..9;

/// Boots our kernel with `extra` VMM arguments and `cmdline`.
fn boot(extra: &[&str], cmdline: &str) -> Run {
    let kernel = guest_kernel();
    let mut args = vec![
        "--kernel",
        kernel.to_str().unwrap(),
        "--timeout",
        "60",
        "--cmdline",
        cmdline,
    ];
    args.extend_from_slice(extra);
    run_vmm(&args)
}

/// A zeroed 1 MiB disk image with `marker` in sector 0.
fn disk(name: &str, marker: u8) -> PathBuf {
    let mut bytes = vec![0u8; DISK_BYTES];
    bytes[..SECTOR].fill(marker);
    scratch_file(name, &bytes)
}

fn disk_arg(path: &Path, readonly: bool) -> String {
    let ro = if readonly { ",readonly=on" } else { "" };
    format!("path={}{ro}", path.display())
}

/// Panics unless stdout has an `ok <n> - <name>` line (without SKIP).
fn expect_ok(run: &Run, name: &str) {
    let suffix = format!(" - {name}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("ok ") && l.ends_with(&suffix)),
        "no passing {name} line:\n{run}"
    );
}

/// The `pci ...` lines the kernel printed.
fn pci_lines(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("pci "))
        .collect()
}

#[test]
fn test_guest_sees_the_topology_and_passes_every_device_test() {
    if !kvm_available() {
        return;
    }
    let rw = disk("virtio-guest-all-rw.img", 0x11);
    let ro = disk("virtio-guest-all-ro.img", 0x22);
    let (rw_arg, ro_arg) = (disk_arg(&rw, false), disk_arg(&ro, true));
    let run = boot(
        &["--disk", &rw_arg, "--disk", &ro_arg, "--rng"],
        "console=ttyS0 blkseed=7",
    );
    run.expect_code(0);
    let lines = pci_lines(&run);
    assert!(
        lines
            .first()
            .is_some_and(|l| l.starts_with("00:00.0 1b36:0008 class 060000")),
        "host bridge first:\n{run}"
    );
    let ports = lines
        .iter()
        .filter(|l| l.contains(" 1b36:000c class 060400 bus "))
        .count();
    let blks: Vec<_> = lines.iter().filter(|l| l.contains(" 1af4:1042 ")).collect();
    let rngs: Vec<_> = lines.iter().filter(|l| l.contains(" 1af4:1044 ")).collect();
    assert_eq!((blks.len(), rngs.len()), (2, 1), "{run}");
    assert!(ports >= 3, "a root port per device:\n{run}");
    for line in blks.iter().chain(&rngs) {
        assert!(
            !line.starts_with("00:"),
            "endpoints sit below root ports: {line}"
        );
        assert!(line.contains(" bar0 mem64 0x"), "{line}");
        let caps = line.split(" caps ").nth(1).unwrap_or_default();
        assert!(caps.split(',').any(|id| id == "11"), "MSI-X: {line}");
    }
    for test in [
        "pci_topology",
        "virtio_rng",
        "virtio_blk_rw",
        "virtio_blk_readonly",
        "virtio_msix",
    ] {
        expect_ok(&run, test);
    }
    // The 14 device-independent tests plus four (no network device).
    run.expect_stdout_line("tests: 18 passed, 0 failed");
}

#[test]
fn test_guest_blk_write_lands_in_the_file_as_the_seed_says() {
    if !kvm_available() {
        return;
    }
    let path = disk("virtio-guest-rw.img", 0x33);
    let seed = 0x5eed_1234_u64;
    let arg = disk_arg(&path, false);
    let run = boot(
        &["--disk", &arg],
        &format!("console=ttyS0 blkseed={seed:#x}"),
    );
    run.expect_code(0);
    expect_ok(&run, "virtio_blk_rw");
    let file = std::fs::read(&path).unwrap();
    assert_eq!(file.len(), DISK_BYTES);
    assert!(
        file[..SECTOR].iter().all(|&b| b == 0x33),
        "sector 0 untouched"
    );
    let mut expected = [0u8; SECTOR];
    for sector in WRITTEN {
        pattern::fill(seed, sector as u64, &mut expected);
        assert_eq!(
            &file[sector * SECTOR..(sector + 1) * SECTOR],
            &expected[..],
            "sector {sector}"
        );
    }
    assert!(
        file[WRITTEN.end * SECTOR..].iter().all(|&b| b == 0),
        "nothing written past sector {}",
        WRITTEN.end - 1
    );
}

#[test]
fn test_guest_readonly_disk_refuses_writes_and_stays_unchanged() {
    if !kvm_available() {
        return;
    }
    let path = disk("virtio-guest-ro.img", 0x44);
    let before = std::fs::read(&path).unwrap();
    let arg = disk_arg(&path, true);
    let run = boot(&["--disk", &arg], "console=ttyS0");
    run.expect_code(0);
    expect_ok(&run, "virtio_blk_readonly");
    assert!(
        run.stdout.contains("virtio_blk_rw # SKIP"),
        "no writable disk:\n{run}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn test_guest_rng_bytes_and_msix_completions() {
    if !kvm_available() {
        return;
    }
    let run = boot(&["--rng"], "console=ttyS0");
    run.expect_code(0);
    expect_ok(&run, "virtio_rng");
    expect_ok(&run, "virtio_msix");
    assert!(
        !run.stdout.contains("virtio_blk"),
        "no disk, no blk tests:\n{run}"
    );
}

#[test]
fn test_two_guests_exchange_frames_over_the_socket_backend() {
    if !kvm_available() {
        return;
    }
    let dir = scratch_file("virtio-guest-net.keep", b"")
        .parent()
        .unwrap()
        .to_path_buf();
    let sockets = [
        dir.join("virtio-guest-a.sock"),
        dir.join("virtio-guest-b.sock"),
    ];
    for socket in &sockets {
        let _ = std::fs::remove_file(socket);
    }
    let macs = ["52:54:00:12:34:01", "52:54:00:12:34:02"];
    let guests: Vec<_> = (0..2)
        .map(|i| {
            let net = format!(
                "socket={},peer={},mac={}",
                sockets[i].display(),
                sockets[1 - i].display(),
                macs[i]
            );
            thread::spawn(move || boot(&["--net", &net], "console=ttyS0"))
        })
        .collect();
    let runs: Vec<Run> = guests.into_iter().map(|g| g.join().unwrap()).collect();
    for (i, run) in runs.iter().enumerate() {
        run.expect_code(0);
        expect_ok(run, "virtio_net");
        run.expect_stdout_line(&format!(
            "net: {} got 60 bytes from {}",
            macs[i],
            macs[1 - i]
        ));
    }
    for socket in &sockets {
        let _ = std::fs::remove_file(socket);
    }
}

/// The MMIO exits counted in `vmm exits:` (reads + writes).
fn mmio_exits(run: &Run) -> u64 {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("vmm exits: "))
        .unwrap_or_else(|| panic!("no exit counters:\n{run}"));
    line.split_whitespace()
        .filter_map(|kv| {
            let (key, value) = kv.split_once('=')?;
            key.starts_with("mmio_")
                .then(|| value.parse::<u64>().ok())?
        })
        .sum()
}

/// `selftest=blkbench` (what `make bench` counts exits with) issues its
/// requests, and with the notify ioeventfds they cost no MMIO exit: 0 and
/// 5 requests of 1 MiB boot with the same count. Without ioeventfds each
/// costs one (the notify write).
#[test]
fn test_blkbench_requests_cost_no_mmio_exit_with_ioeventfds() {
    if !kvm_available() {
        return;
    }
    let image = disk("blkbench.img", 0);
    let arg = disk_arg(&image, false);
    let bench = |count: u32, ioeventfd: bool| {
        let cmdline = format!("selftest=blkbench blkbench=write:1048576:{count}");
        let kernel = guest_kernel();
        let args = [
            "--kernel",
            kernel.to_str().unwrap(),
            "--timeout",
            "60",
            "--cmdline",
            &cmdline,
            "--disk",
            &arg,
            "--timings",
        ];
        let envs: &[(&str, &str)] = if ioeventfd {
            &[]
        } else {
            &[("VMM_IOEVENTFD", "off")]
        };
        let run = integration::run_vmm_env(&args, envs);
        run.expect_code(0).expect_stdout_line(&format!(
            "blkbench: {count} write requests of 1048576 bytes, {count} MSI-X interrupts"
        ));
        mmio_exits(&run)
    };
    assert_eq!(bench(5, true), bench(0, true));
    assert_eq!(bench(5, false), bench(0, false) + 5);
}

#[test]
fn test_blkbench_rejects_a_bad_plan() {
    if !kvm_available() {
        return;
    }
    let image = disk("blkbench-bad.img", 0);
    let run = boot(
        &["--disk", &disk_arg(&image, false)],
        "selftest=blkbench blkbench=write:1000:1",
    );
    run.expect_code(1)
        .expect_stdout_line("blkbench: expected blkbench=<read|write>:<bytes>:<count>");
}
