//! `make bench`: what our kernel's accelerator drivers cost in VM exits,
//! and their rate on this machine. Each case boots our kernel twice (0 and
//! N operations, `selftest=iaabench` / `selftest=qatbench`) and divides
//! the difference in the VMM's counters (`--timings`) by N.
//!
//! - IAA: one descriptor per compress or decompress, each submitted with
//!   one MOVDIR64B (which KVM cannot emulate: the VMM completes it, one
//!   exit); the target is one exit per descriptor.
//! - QAT: batches of AES-128-CBC requests behind one tail-CSR doorbell;
//!   exits per request fall with the batch size.

use std::path::PathBuf;

use integration::exits::boot_counting;

struct Args {
    vmm: PathBuf,
    kernel: PathBuf,
}

fn parse_args() -> Args {
    let mut vmm = None;
    let mut kernel = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().map(PathBuf::from);
        match flag.as_str() {
            "--vmm" => vmm = value,
            "--kernel" => kernel = value,
            other => panic!("unknown flag {other}"),
        }
    }
    Args {
        vmm: vmm.expect("--vmm PATH"),
        kernel: kernel.expect("--kernel PATH"),
    }
}

fn iaa(args: &Args) {
    const PAIRS: u32 = 500;
    println!("IAA: compress + decompress of a 4 KiB text page, one descriptor each");
    println!();
    println!("| mode | exits per descriptor (MMIO / other) | descriptors/s (this machine) |");
    println!("|---|---|---|");
    for mode in ["", ":verify"] {
        let device = ["--device", "iaa"];
        let cmd = |n: u32| format!("selftest=iaabench iaabench={n}{mode}");
        let (base, _) = boot_counting(&args.vmm, &args.kernel, &cmd(0), &device, &[]);
        let (with, console) = boot_counting(&args.vmm, &args.kernel, &cmd(PAIRS), &device, &[]);
        let descriptors = console
            .lines()
            .find_map(|l| {
                let rest = l.strip_prefix("iaabench: ")?;
                let (_, tail) = rest.split_once("), ")?;
                tail.split_whitespace().next()?.parse::<f64>().ok()
            })
            .expect("no iaabench line");
        // The 0-pair boot submits no descriptor: all of them are the pairs'.
        let per = with.per_op(base, descriptors);
        println!(
            "| {} | {:.3} ({:.3} / {:.3}) | {:.0} |",
            if mode.is_empty() {
                "compress, decompress"
            } else {
                "compress, verify, decompress"
            },
            per.device(),
            per.mmio_read + per.mmio_write,
            per.other,
            1e3 / per.exit_ms
        );
    }
    println!();
}

fn qat(args: &Args) {
    const REQUESTS: u32 = 2048;
    println!(
        "QAT: AES-128-CBC requests of 64 bytes, batches behind one doorbell, MSI-X completion"
    );
    println!();
    println!("| batch size | exits per request | requests/s (this machine) |");
    println!("|---|---|---|");
    for size in [1u32, 16, 64, 256] {
        let device = ["--device", "qat"];
        let batches = REQUESTS / size;
        let cmd = |b: u32| format!("selftest=qatbench qatbench={b}:{size}");
        let (base, _) = boot_counting(&args.vmm, &args.kernel, &cmd(0), &device, &[]);
        let (with, _) = boot_counting(&args.vmm, &args.kernel, &cmd(batches), &device, &[]);
        let per = with.per_op(base, f64::from(batches * size));
        println!(
            "| {size} | {:.3} | {:.0} |",
            per.device(),
            1e3 / per.exit_ms
        );
    }
    println!();
}

fn main() {
    let args = parse_args();
    iaa(&args);
    qat(&args);
}
