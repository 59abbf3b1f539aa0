//! `make bench`: boot time and memory of our VMM against QEMU `-M microvm`,
//! both on the same two PVH ELFs (the tiny guest and our kernel), measured
//! in one pass with the runs interleaved so machine drift hits both alike.
//!
//! For every run: process start to the guest's first serial byte, process
//! start to exit, and the process's peak RSS (from `wait4`). Prints medians
//! and the ratios ours/QEMU.
//!
//! With `--linux VMLINUX`, both VMMs also boot Debian's stock kernel once,
//! in the same pass, and the bench prints how far each got and when. With
//! `--referee VMLINUX --referee-initrd CPIO`, both boot the referee kernel
//! to a busybox /init that powers off, 5 times each: medians to `Run /init`
//! and to the end, and how each run ended.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

/// One measured run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    first_output_ms: f64,
    exit_ms: f64,
    peak_rss_kib: f64,
}

/// A VMM under test: how to start it on a kernel, and which exit code means
/// the guest succeeded.
struct Contender {
    name: &'static str,
    program: PathBuf,
    args: fn(&str) -> Vec<String>,
    success_code: i32,
}

fn ours_args(kernel: &str) -> Vec<String> {
    [
        "--kernel",
        kernel,
        "--memory",
        "256M",
        "--cpus",
        "1",
        "--cmdline",
        "console=ttyS0",
        "--timeout",
        "60",
    ]
    .map(String::from)
    .to_vec()
}

fn qemu_args(kernel: &str) -> Vec<String> {
    [
        "-M",
        "microvm",
        "-enable-kvm",
        "-cpu",
        "host",
        "-m",
        "256M",
        "-nodefaults",
        "-nographic",
        "-serial",
        "stdio",
        "-device",
        "isa-debug-exit,iobase=0xf4,iosize=4",
        "-kernel",
        kernel,
        "-append",
        "console=ttyS0",
    ]
    .map(String::from)
    .to_vec()
}

/// Waits for `pid`, returning its exit code and peak RSS in KiB.
fn wait_with_rusage(pid: u32) -> std::io::Result<(i32, i64)> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `status` and `usage` are valid, writable and live for the
    // call; wait4 fills them for our own child `pid`.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
    if rc != pid {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: wait4 succeeded, so it wrote the rusage struct.
    let usage = unsafe { usage.assume_init() };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage.ru_maxrss))
}

fn measure(contender: &Contender, kernel: &str) -> Result<Sample, String> {
    let start = Instant::now();
    let mut child = Command::new(&contender.program)
        .args((contender.args)(kernel))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", contender.program.display()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let reader = std::thread::spawn(move || {
        let mut first = None;
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            first.get_or_insert_with(|| start.elapsed());
            all.extend_from_slice(&buf[..n]);
        }
        (first, all)
    });
    let (code, rss) = wait_with_rusage(child.id()).map_err(|e| format!("wait4: {e}"))?;
    let exit = start.elapsed();
    let (first, output) = reader.join().map_err(|_| "reader thread panicked")?;
    if code != contender.success_code {
        return Err(format!(
            "{} on {kernel} exited with {code}, not {}; output:\n{}",
            contender.name,
            contender.success_code,
            String::from_utf8_lossy(&output)
        ));
    }
    let first = first.ok_or_else(|| format!("{} on {kernel} printed nothing", contender.name))?;
    Ok(Sample {
        first_output_ms: first.as_secs_f64() * 1e3,
        exit_ms: exit.as_secs_f64() * 1e3,
        peak_rss_kib: rss as f64,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn medians(samples: &[Sample]) -> Sample {
    Sample {
        first_output_ms: median(samples.iter().map(|s| s.first_output_ms).collect()),
        exit_ms: median(samples.iter().map(|s| s.exit_ms).collect()),
        peak_rss_kib: median(samples.iter().map(|s| s.peak_rss_kib).collect()),
    }
}

struct Options {
    runs: usize,
    vmm: PathBuf,
    qemu: PathBuf,
    guests: Vec<(String, PathBuf)>,
    linux: Option<PathBuf>,
    linux_limit: f64,
    referee: Option<(PathBuf, PathBuf)>,
}

fn parse_options() -> Result<Options, String> {
    let mut opts = Options {
        runs: 15,
        vmm: PathBuf::from("target/release/vmm"),
        qemu: PathBuf::from("qemu-system-x86_64"),
        guests: Vec::new(),
        linux: None,
        linux_limit: 300.0,
        referee: None,
    };
    let mut referee_kernel = None;
    let mut referee_initrd = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--runs" => opts.runs = value.parse().map_err(|_| format!("--runs {value}?"))?,
            "--vmm" => opts.vmm = value.into(),
            "--qemu" => opts.qemu = value.into(),
            "--tiny" => opts.guests.push(("tiny-guest".into(), value.into())),
            "--kernel" => opts.guests.push(("guest-kernel".into(), value.into())),
            "--linux" => opts.linux = Some(value.into()),
            "--referee" => referee_kernel = Some(PathBuf::from(value)),
            "--referee-initrd" => referee_initrd = Some(PathBuf::from(value)),
            "--linux-limit" => {
                opts.linux_limit = value
                    .parse()
                    .map_err(|_| format!("--linux-limit {value}?"))?
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    opts.referee = referee_kernel.zip(referee_initrd);
    if opts.runs < 1 || opts.guests.is_empty() {
        return Err(
            "usage: boot-bench [--runs N] [--vmm P] [--qemu P] --tiny ELF --kernel ELF".into(),
        );
    }
    Ok(opts)
}

fn qemu_version(qemu: &PathBuf) -> String {
    Command::new(qemu)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown version".into())
}

fn run() -> Result<(), String> {
    let opts = parse_options()?;
    let contenders = [
        Contender {
            name: "ours",
            program: opts.vmm.clone(),
            args: ours_args,
            success_code: 0,
        },
        // QEMU's isa-debug-exit exits with (value << 1) | 1: guest 0 is 1.
        Contender {
            name: "qemu",
            program: opts.qemu.clone(),
            args: qemu_args,
            success_code: 1,
        },
    ];
    println!(
        "boot benchmark: {} runs each, interleaved; medians; {}",
        opts.runs,
        qemu_version(&opts.qemu)
    );
    println!(
        "{:<13} {:<5} {:>16} {:>10} {:>14}",
        "guest", "vmm", "first output ms", "exit ms", "peak RSS MiB"
    );
    for (guest, path) in &opts.guests {
        let kernel = path.to_str().ok_or("kernel path is not UTF-8")?;
        let mut samples: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
        for _ in 0..opts.runs {
            for (i, c) in contenders.iter().enumerate() {
                samples[i].push(measure(c, kernel)?);
            }
        }
        let [ours, qemu] = [medians(&samples[0]), medians(&samples[1])];
        for (c, m) in contenders.iter().zip([ours, qemu]) {
            println!(
                "{:<13} {:<5} {:>16.2} {:>10.2} {:>14.1}",
                guest,
                c.name,
                m.first_output_ms,
                m.exit_ms,
                m.peak_rss_kib / 1024.0
            );
        }
        println!(
            "{:<13} {:<5} {:>16.3} {:>10.3} {:>14.3}",
            guest,
            "ratio",
            ours.first_output_ms / qemu.first_output_ms,
            ours.exit_ms / qemu.exit_ms,
            ours.peak_rss_kib / qemu.peak_rss_kib
        );
    }
    println!("ratio = ours / qemu (below 1: ours is faster or smaller)");
    if let Some(vmlinux) = &opts.linux {
        linux_race(&opts, vmlinux)?;
    }
    if let Some((kernel, initrd)) = &opts.referee {
        referee_race(&opts, kernel, initrd)?;
    }
    Ok(())
}

/// Boot milestones of Linux 6.12, in order; the last one ends a run.
const LINUX_MILESTONES: [&str; 5] = [
    "Linux version",
    "Freeing SMP alternatives memory",
    "smp: Brought up",
    "ACPI: PM: (supports",
    "Run /init",
];
/// kvm-pvm passes the host's CPUID through: hide what its emulator cannot run.
const LINUX_CMDLINE: &str =
    "console=ttyS0 clearcpuid=cx16,ssse3,aes,pclmulqdq,smap,popcnt noxsave panic=-1";

/// How one VMM's Linux boot went.
struct LinuxRun {
    reached: Vec<Option<f64>>,
    ending: String,
    /// Seconds to the process's own exit, and its code (None if stopped).
    exited: Option<(f64, Option<i32>)>,
}

/// A line of a child's output: seconds since `start`, from stderr, text.
type StampedLine = (f64, bool, String);

/// Sends each line `reader` yields, stamped, until the reader or channel ends.
fn forward_lines(
    reader: impl Read + Send + 'static,
    tx: std::sync::mpsc::Sender<StampedLine>,
    start: Instant,
    is_stderr: bool,
) {
    use std::io::BufRead;
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader)
            .lines()
            .map_while(Result::ok)
        {
            if tx
                .send((start.elapsed().as_secs_f64(), is_stderr, line))
                .is_err()
            {
                break;
            }
        }
    });
}

/// Boots `args` until the last of `milestones` (if `stop_at_last`), an
/// exit, or `limit` seconds.
fn linux_run(
    program: &std::path::Path,
    args: &[String],
    milestones: &[&str],
    stop_at_last: bool,
    limit: f64,
) -> Result<LinuxRun, String> {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    // Both streams feed one channel, each line stamped; `true` marks stderr.
    let (tx, rx) = std::sync::mpsc::channel::<StampedLine>();
    forward_lines(stderr, tx.clone(), start, true);
    forward_lines(stdout, tx, start, false);
    let mut stderr_text = String::new();
    let mut reached = vec![None; milestones.len()];
    let ending = loop {
        match rx.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok((at, true, line)) => {
                // A VMM that stops the guest but stays alive (QEMU pauses on
                // a KVM internal error) has ended here.
                let fatal =
                    line.contains("KVM internal error") || line.contains("emulation failure");
                stderr_text.push_str(&line);
                stderr_text.push('\n');
                if fatal {
                    break format!("stopped by {line:?} after {at:.1} s");
                }
            }
            Ok((at, false, line)) => {
                for (i, m) in milestones.iter().enumerate() {
                    if reached[i].is_none() && line.contains(m) {
                        reached[i] = Some(at);
                    }
                }
                if stop_at_last && reached.last().is_some_and(Option::is_some) {
                    break "reached the last milestone".to_string();
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break String::new(),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if start.elapsed().as_secs_f64() > limit {
            break format!("still running at the {limit:.0} s limit");
        }
    };
    let exited = ending.is_empty();
    let _ = child.kill();
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    let ended_at = start.elapsed().as_secs_f64();
    // What is still in flight after the exit.
    while let Ok((_, is_err, line)) = rx.recv_timeout(std::time::Duration::from_millis(50)) {
        if is_err {
            stderr_text.push_str(&line);
            stderr_text.push('\n');
        }
    }
    let ending = if ending.is_empty() {
        let last = stderr_text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        format!(
            "exited ({}) after {:.1} s: {last}",
            status.code().map_or("signal".into(), |c| c.to_string()),
            start.elapsed().as_secs_f64()
        )
    } else {
        ending
    };
    let exited = exited.then_some((ended_at, status.code()));
    Ok(LinuxRun {
        reached,
        ending,
        exited,
    })
}

/// The same Linux machine for both VMMs: (our args, QEMU microvm's args).
fn linux_machine(
    kernel: &str,
    initrd: Option<&str>,
    memory: &str,
    cpus: u8,
    cmdline: &str,
) -> (Vec<String>, Vec<String>) {
    let cpus = cpus.to_string();
    let mut ours = vec![
        "--kernel",
        kernel,
        "--memory",
        memory,
        "--cpus",
        &cpus,
        "--cmdline",
        cmdline,
    ];
    let mut qemu = vec![
        "-M",
        "microvm",
        "-enable-kvm",
        "-cpu",
        "host",
        "-m",
        memory,
        "-smp",
        &cpus,
        "-nodefaults",
        "-nographic",
        "-serial",
        "stdio",
        "-kernel",
        kernel,
        "-append",
        cmdline,
    ];
    if let Some(initrd) = initrd {
        ours.extend(["--initramfs", initrd]);
        qemu.extend(["-initrd", initrd]);
    }
    let owned = |v: Vec<&str>| v.into_iter().map(String::from).collect();
    (owned(ours), owned(qemu))
}

/// Both VMMs boot the stock kernel once, one after the other.
fn linux_race(opts: &Options, vmlinux: &std::path::Path) -> Result<(), String> {
    let kernel = vmlinux.to_str().ok_or("vmlinux path is not UTF-8")?;
    let (ours, qemu) = linux_machine(kernel, None, "256M", 2, LINUX_CMDLINE);
    println!(
        "\nstock Linux ({}), 2 vCPUs, 256 MiB, one boot each, seconds from process start:",
        vmlinux.display()
    );
    let runs = [
        (
            "ours",
            linux_run(&opts.vmm, &ours, &LINUX_MILESTONES, true, opts.linux_limit)?,
        ),
        (
            "qemu",
            linux_run(&opts.qemu, &qemu, &LINUX_MILESTONES, true, opts.linux_limit)?,
        ),
    ];
    println!("{:<34} {:>10} {:>10}", "milestone", "ours", "qemu");
    for (i, m) in LINUX_MILESTONES.iter().enumerate() {
        let cell = |run: &LinuxRun| run.reached[i].map_or("-".to_string(), |t| format!("{t:.1}"));
        println!(
            "{:<34} {:>10} {:>10}",
            m,
            cell(&runs[0].1),
            cell(&runs[1].1)
        );
    }
    for (name, run) in &runs {
        println!("{name}: {}", run.ending);
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("boot-bench: {e}");
        std::process::exit(1);
    }
}

/// Referee boots per VMM.
const REFEREE_RUNS: usize = 5;
/// The referee's milestones; the run ends when the VMM exits.
const REFEREE_MILESTONES: [&str; 3] = [
    "Linux version",
    "Freeing SMP alternatives memory",
    "Run /init",
];
/// The referee's command line (crypto self-tests off: they are not timed here).
const REFEREE_CMDLINE: &str =
    "console=ttyS0 clearcpuid=cx16,ssse3,aes,pclmulqdq,smap,popcnt noxsave panic=-1 cryptomgr.notests";

fn median_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = values.collect();
    (!v.is_empty()).then(|| median(v))
}

/// Both VMMs boot the referee kernel to a powering-off /init, interleaved.
fn referee_race(
    opts: &Options,
    kernel: &std::path::Path,
    initrd: &std::path::Path,
) -> Result<(), String> {
    let k = kernel.to_str().ok_or("kernel path is not UTF-8")?;
    let i = initrd.to_str().ok_or("initrd path is not UTF-8")?;
    let (ours, qemu) = linux_machine(k, Some(i), "128M", 1, REFEREE_CMDLINE);
    let contenders = [("ours", &opts.vmm, &ours), ("qemu", &opts.qemu, &qemu)];
    let mut runs: [Vec<LinuxRun>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..REFEREE_RUNS {
        for (slot, (_, program, args)) in contenders.iter().enumerate() {
            runs[slot].push(linux_run(program, args, &REFEREE_MILESTONES, false, 120.0)?);
        }
    }
    println!(
        "\nreferee kernel ({}), 1 vCPU, 128 MiB, /init powers off; median of {REFEREE_RUNS}, seconds:",
        kernel.display()
    );
    println!("{:<34} {:>10} {:>10}", "milestone", "ours", "qemu");
    let cell = |runs: &[LinuxRun], pick: &dyn Fn(&LinuxRun) -> Option<f64>| {
        let reached = runs.iter().filter(|r| pick(r).is_some()).count();
        match median_of(runs.iter().filter_map(pick)) {
            Some(t) if reached == runs.len() => format!("{t:.1}"),
            Some(t) => format!("{t:.1} ({reached}/{})", runs.len()),
            None => "-".to_string(),
        }
    };
    for (m, name) in REFEREE_MILESTONES.iter().enumerate() {
        println!(
            "{:<34} {:>10} {:>10}",
            name,
            cell(&runs[0], &|r| r.reached[m]),
            cell(&runs[1], &|r| r.reached[m])
        );
    }
    let end = |r: &LinuxRun| r.exited.map(|(t, _)| t);
    println!(
        "{:<34} {:>10} {:>10}",
        "process exit",
        cell(&runs[0], &end),
        cell(&runs[1], &end)
    );
    for (slot, (name, _, _)) in contenders.iter().enumerate() {
        let first = &runs[slot][0];
        println!("{name}: {}", first.ending);
    }
    Ok(())
}
