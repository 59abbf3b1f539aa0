//! Shared harness for the end-to-end tests: finds the VMM and guest
//! binaries, checks for KVM, and runs the VMM with a hard wall-clock limit.
//!
//! The Makefile builds everything first (`make test`). Paths can be
//! overridden with `VMM_BIN`, `GUEST_KERNEL`, `TINY_GUEST` and `INITRAMFS`.

pub mod exits;
pub mod linux;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` to skip the tests that need /dev/kvm (explicit opt-out only).
pub const SKIP_KVM_ENV: &str = "VMM_SKIP_KVM_TESTS";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn artifact(env: &str, relative: &str, make_target: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(relative));
    assert!(
        path.is_file(),
        "{} not found: build it with `make {make_target}` (or run `make test`), or set {env}",
        path.display()
    );
    path
}

/// The release VMM binary.
pub fn vmm_bin() -> PathBuf {
    artifact("VMM_BIN", "target/release/vmm", "vmm")
}

/// Our guest kernel's ELF.
pub fn guest_kernel() -> PathBuf {
    artifact(
        "GUEST_KERNEL",
        "target/guest/x86_64-unknown-none/release/guest-kernel",
        "guest",
    )
}

/// The initramfs of our user programs (cpio newc), built by `make guest`.
pub fn initramfs() -> PathBuf {
    artifact("INITRAMFS", "target/guest/initramfs.cpio", "guest")
}

/// The minimal PVH guest's ELF.
pub fn tiny_guest() -> PathBuf {
    artifact(
        "TINY_GUEST",
        "target/guest/x86_64-unknown-none/release/tiny-guest",
        "guest",
    )
}

/// True when KVM tests should run; panics with a clear message when /dev/kvm
/// is missing and the user did not opt out.
pub fn kvm_available() -> bool {
    if Path::new("/dev/kvm").exists() {
        return true;
    }
    if std::env::var(SKIP_KVM_ENV).as_deref() == Ok("1") {
        eprintln!("skipping: /dev/kvm is missing and {SKIP_KVM_ENV}=1");
        return false;
    }
    panic!(
        "/dev/kvm is missing: these tests boot guests under KVM. Run them on a host with KVM, \
         or set {SKIP_KVM_ENV}=1 to skip them explicitly."
    );
}

/// What a VMM run produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code (None if killed by a signal).
    pub code: Option<i32>,
    /// Everything on stdout (the guest's serial console).
    pub stdout: String,
    /// Everything on stderr (the VMM's messages).
    pub stderr: String,
}

impl Run {
    /// Panics with the whole output unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code; run was:\n{self}"
        );
        self
    }

    /// Panics unless stdout has a line equal to `line`.
    pub fn expect_stdout_line(&self, line: &str) -> &Self {
        assert!(
            self.stdout.lines().any(|l| l == line),
            "no stdout line {line:?} in:\n{self}"
        );
        self
    }

    /// Panics unless stderr contains `text`.
    pub fn expect_stderr(&self, text: &str) -> &Self {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{self}");
        self
    }

    /// Panics unless stderr is exactly one line (a clear, single error).
    pub fn expect_one_line_error(&self) -> &Self {
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "expected one stderr line:\n{self}"
        );
        assert!(
            !self.stderr.contains("panicked"),
            "the VMM panicked:\n{self}"
        );
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Longest any single VMM run may take before the harness kills it.
const HARD_LIMIT: Duration = Duration::from_secs(120);

/// Runs the VMM with `args` and `envs`, stdin closed.
pub fn run_vmm_env(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut child = Command::new(vmm_bin())
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning the vmm");
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the vmm") {
            break status;
        }
        if started.elapsed() > HARD_LIMIT {
            let _ = child.kill();
            panic!("vmm {args:?} still running after {HARD_LIMIT:?}; killed it");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// Runs the VMM with `args` until a stdout line contains `stop_at` (then
/// kills it: `code` is None), it exits, or `limit` passes (panics).
/// Returns the run and when the stop line appeared.
pub fn run_vmm_until(args: &[&str], stop_at: &str, limit: Duration) -> (Run, Option<Duration>) {
    let mut child = Command::new(vmm_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning the vmm");
    let started = Instant::now();
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let mut out = String::new();
    let mut seen = None;
    loop {
        match lines_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                let hit = line.contains(stop_at);
                out.push_str(&line);
                out.push('\n');
                if hit {
                    seen = Some(started.elapsed());
                    let _ = child.kill();
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("vmm {args:?}: no line with {stop_at:?} within {limit:?}; output:\n{out}");
        }
    }
    let status = child.wait().expect("waiting for the vmm");
    let code = if seen.is_some() { None } else { status.code() };
    let run = Run {
        code,
        stdout: out,
        stderr: err_reader.join().unwrap_or_default(),
    };
    (run, seen)
}

/// The Linux-guest rig's output directory (`make linux-guest`), or a clear
/// panic when it has not been fetched.
pub fn linux_guest_file(name: &str) -> PathBuf {
    let dir = std::env::var_os("VMM_LINUX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("VMM_CACHE_DIR")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("vmm"))
                })
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/vmm")))
                .expect("HOME is not set");
            cache.join("linux-guest/out")
        });
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not found: fetch Debian's kernel with `make linux-guest` (make test does), or set VMM_LINUX_DIR",
        path.display()
    );
    path
}

/// Runs the VMM with `args`.
pub fn run_vmm(args: &[&str]) -> Run {
    run_vmm_env(args, &[])
}

/// A scratch file under the target directory, unique per test name.
pub fn scratch_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = workspace_root().join("target/integration-scratch");
    std::fs::create_dir_all(&dir).expect("creating the scratch directory");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("writing a scratch file");
    path
}

/// Where [`pvh_elf`] loads code, and where its PVH entry point is.
pub const PVH_LOAD_ADDR: u64 = 0x10_0000;
/// File offset of the code in a [`pvh_elf`] image.
const CODE_OFFSET: u64 = 0x100;

/// A 64-bit x86 ELF with a PVH note whose entry is `PVH_LOAD_ADDR`, and one
/// PT_LOAD putting `code` there, `memsz` bytes in all.
pub fn pvh_elf(code: &[u8], memsz: u64) -> Vec<u8> {
    let paddr = PVH_LOAD_ADDR;
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // ELFCLASS64
    elf[5] = 1; // little-endian
    elf[6] = 1; // EV_CURRENT
    elf[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    elf[24..32].copy_from_slice(&paddr.to_le_bytes()); // e_entry
    elf[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    elf[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    elf[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    elf[56..58].copy_from_slice(&2u16.to_le_bytes()); // e_phnum
    let note_offset = 64 + 2 * 56u64;
    let mut load = [0u8; 56];
    load[..4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    load[4..8].copy_from_slice(&7u32.to_le_bytes()); // RWX
    load[8..16].copy_from_slice(&CODE_OFFSET.to_le_bytes());
    load[16..24].copy_from_slice(&paddr.to_le_bytes());
    load[24..32].copy_from_slice(&paddr.to_le_bytes());
    load[32..40].copy_from_slice(&(code.len() as u64).to_le_bytes());
    load[40..48].copy_from_slice(&memsz.max(code.len() as u64).to_le_bytes());
    load[48..56].copy_from_slice(&16u64.to_le_bytes());
    let mut note = [0u8; 56];
    note[..4].copy_from_slice(&4u32.to_le_bytes()); // PT_NOTE
    note[8..16].copy_from_slice(&note_offset.to_le_bytes());
    note[32..40].copy_from_slice(&20u64.to_le_bytes());
    note[48..56].copy_from_slice(&4u64.to_le_bytes());
    elf.extend_from_slice(&load);
    elf.extend_from_slice(&note);
    for word in [4u32, 4, 18] {
        elf.extend_from_slice(&word.to_le_bytes());
    }
    elf.extend_from_slice(b"Xen\0");
    elf.extend_from_slice(&(paddr as u32).to_le_bytes());
    elf.resize(CODE_OFFSET as usize, 0);
    elf.extend_from_slice(code);
    elf
}

/// A bzImage for boot protocol 2.15 whose protected-mode kernel is `code`
/// (loaded and entered at `PVH_LOAD_ADDR`), needing `init_size` bytes there.
pub fn bzimage(code: &[u8], init_size: u32) -> Vec<u8> {
    let mut image = vec![0u8; 1024];
    image[0x1f1] = 1; // setup_sects: the boot sector plus one
    image[0x1fe..0x200].copy_from_slice(&0xaa55u16.to_le_bytes());
    image[0x202..0x206].copy_from_slice(b"HdrS");
    image[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    image[0x211] = 1; // LOADED_HIGH
    image[0x214..0x218].copy_from_slice(&(PVH_LOAD_ADDR as u32).to_le_bytes());
    image[0x22c..0x230].copy_from_slice(&0x37ff_ffffu32.to_le_bytes());
    image[0x238..0x23c].copy_from_slice(&255u32.to_le_bytes()); // cmdline_size
    image[0x258..0x260].copy_from_slice(&PVH_LOAD_ADDR.to_le_bytes());
    image[0x260..0x264].copy_from_slice(&init_size.to_le_bytes());
    image.extend_from_slice(code);
    image
}

/// A PVH ELF with no code and one PT_LOAD of `memsz` bytes at `PVH_LOAD_ADDR`:
/// enough for the VMM to judge whether it fits.
pub fn fake_pvh_elf(memsz: u64) -> Vec<u8> {
    pvh_elf(&[], memsz)
}

/// Whether this host's /dev/kvm is kvm-pvm (guest kernel code emulated).
pub fn is_kvm_pvm() -> bool {
    Path::new("/sys/module/kvm_pvm").exists()
}

/// Whether the host CPU advertises `flag` in /proc/cpuinfo.
pub fn host_cpu_has(flag: &str) -> bool {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|text| {
            text.lines()
                .filter(|l| l.starts_with("flags"))
                .any(|l| l.split_whitespace().any(|f| f == flag))
        })
        .unwrap_or(false)
}
