//! `make bench`: the VM exits one virtio-blk request costs as our kernel
//! issues it, read and write, 4 KiB and 1 MiB. For each case the kernel
//! boots twice (`selftest=blkbench` with 0 and with N requests) and the
//! difference in the VMM's exit counters (`--timings`), divided by N, is
//! the cost of one request. The same cases run with the notify ioeventfds
//! switched off (`VMM_IOEVENTFD=off`) as the baseline the ratio compares
//! against. Counts of exits do not depend on the machine.

use std::path::PathBuf;

use integration::exits::{boot_counting, Exits};

struct Args {
    vmm: PathBuf,
    kernel: PathBuf,
    disk: PathBuf,
}

fn parse_args() -> Args {
    let mut vmm = None;
    let mut kernel = None;
    let mut disk = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().map(PathBuf::from);
        match flag.as_str() {
            "--vmm" => vmm = value,
            "--kernel" => kernel = value,
            "--disk" => disk = value,
            other => panic!("unknown flag {other}"),
        }
    }
    Args {
        vmm: vmm.expect("--vmm PATH"),
        kernel: kernel.expect("--kernel PATH"),
        disk: disk.expect("--disk PATH (a scratch file, at least 1 MiB)"),
    }
}

fn run(args: &Args, plan: &str, ioeventfd: bool) -> Exits {
    let disk = format!("path={}", args.disk.display());
    let cmdline = format!("selftest=blkbench blkbench={plan}");
    let envs: &[(&str, &str)] = if ioeventfd {
        &[]
    } else {
        &[("VMM_IOEVENTFD", "off")]
    };
    boot_counting(&args.vmm, &args.kernel, &cmdline, &["--disk", &disk], envs).0
}

fn main() {
    let args = parse_args();
    std::fs::write(&args.disk, vec![0u8; 1 << 20]).expect("creating the scratch disk");
    println!("virtio-blk: VM exits per request as our kernel issues them (one request,");
    println!("one data descriptor, completion by MSI-X), from the difference of two boots");
    println!();
    println!("| request | ioeventfd | MMIO reads | MMIO writes | other | MMIO total | µs per request (this machine) |");
    println!("|---|---|---|---|---|---|---|");
    for (op, bytes, n) in [
        ("read", 4096u32, 200u32),
        ("write", 4096, 200),
        ("read", 1 << 20, 20),
        ("write", 1 << 20, 20),
    ] {
        let mut totals = [0.0f64; 2];
        for (i, ioeventfd) in [true, false].into_iter().enumerate() {
            let base = run(&args, &format!("{op}:{bytes}:0"), ioeventfd);
            let with = run(&args, &format!("{op}:{bytes}:{n}"), ioeventfd);
            let per = with.per_op(base, f64::from(n));
            totals[i] = per.mmio_read + per.mmio_write;
            println!(
                "| {op} {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} |",
                if bytes >= 1 << 20 {
                    "1 MiB".to_string()
                } else {
                    format!("{} KiB", bytes / 1024)
                },
                if ioeventfd { "on" } else { "off" },
                per.mmio_read,
                per.mmio_write,
                per.other,
                per.mmio_read + per.mmio_write,
                per.exit_ms * 1e3
            );
        }
        println!(
            "|  | ratio on/off | | | | {:.2} | |",
            if totals[1] > 0.0 {
                totals[0] / totals[1]
            } else {
                f64::NAN
            }
        );
    }
}
