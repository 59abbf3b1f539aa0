//! Processes on the Linux x86_64 ABI: the programs of the initramfs run one
//! after another in ring 3, each in its own address space.
//!
//! `rdinit=<path>[,<path>...]` (default `/init`) names them; words after
//! `--` on the command line are their extra arguments. Each gets the next
//! PID (1, 2, ...) and runs until it exits or is killed; then the kernel
//! prints `user: pid <n> (<path>) exited with status <s>` or `... killed by
//! signal <sig>` and starts the next. At the end it prints how the system
//! calls arrived (`user: system calls: <n> by SYSCALL entry, <m> by the
//! kvm-pvm #PF at LSTAR`). The VM's exit code is the last program's status
//! (128 + signal if it was killed).

pub mod exec;
pub mod files;
pub mod syscall;
pub mod trap;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use guest_abi::cpio::Archive;
use spin::Mutex;

use self::files::Files;
use crate::arch::user;
use crate::boot::BootInfo;
use crate::uvm::{AddressSpace, thp};
use crate::{cmdline, println};

/// One process.
#[derive(Debug)]
pub struct Process {
    /// Process (and thread) ID.
    pub pid: u32,
    /// Command name (the executable's base name, at most 15 bytes).
    pub comm: String,
    /// Its memory.
    pub mm: AddressSpace,
    /// Open files.
    pub files: Files,
    /// set_tid_address's pointer.
    pub clear_child_tid: u64,
    /// FS base (ARCH_SET_FS).
    pub fs_base: u64,
    /// Recorded signal actions (`struct sigaction` as the program gave it).
    pub sigactions: BTreeMap<u64, [u8; 32]>,
    /// The blocked-signal mask.
    pub sigmask: u64,
    /// System calls answered with ENOSYS, by number.
    pub unknown_syscalls: BTreeMap<u64, u64>,
}

/// How a process ended, as wait(2) encodes it: `status << 8` or the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStatus(pub u64);

impl WaitStatus {
    /// Exited with `code`.
    pub fn exited(code: u64) -> Self {
        Self((code & 0xff) << 8)
    }

    /// Killed by `signal`.
    pub fn killed(signal: u64) -> Self {
        Self(signal & 0x7f)
    }

    /// The VM exit code for it: the status, or 128 + the signal.
    pub fn exit_code(self) -> u32 {
        if self.0 & 0x7f == 0 {
            (self.0 >> 8) as u32
        } else {
            128 + (self.0 & 0x7f) as u32
        }
    }
}

/// The running process (one at a time).
pub static CURRENT: Mutex<Option<Process>> = Mutex::new(None);

/// The initramfs (the first boot module), if there is one.
static INITRAMFS: spin::Once<Archive<'static>> = spin::Once::new();

/// The initramfs archive (empty if none was given).
pub fn initramfs() -> &'static Archive<'static> {
    INITRAMFS.call_once(|| Archive::new(&[]))
}

/// Whether the VMM handed over an initramfs (boot module 0).
pub fn has_initramfs(info: &BootInfo) -> bool {
    info.start_info
        .modules()
        .first()
        .is_some_and(|m| m.size > 0)
}

fn initramfs_from(info: &BootInfo) -> Archive<'static> {
    let bytes: &'static [u8] = match info.start_info.modules().first() {
        Some(m) if crate::arch::paging::is_identity_mapped(m.paddr, m.size) => {
            // SAFETY: the VMM placed the module at `paddr`, identity-mapped
            // (checked); boot reserves it, so it stays valid for 'static.
            unsafe { core::slice::from_raw_parts(m.paddr as *const u8, m.size as usize) }
        }
        _ => &[],
    };
    Archive::new(bytes)
}

/// Runs the `rdinit=` programs in turn; returns the VM exit code.
pub fn run_init(info: &BootInfo) -> u32 {
    INITRAMFS.call_once(|| initramfs_from(info));
    user::init();
    crate::uvm::init();
    if thp::apply_cmdline(info.cmdline) > 0 {
        println!("thp: ignoring malformed transparent_hugepage=/thp_anon= parts");
    }
    let paths = match cmdline::get(info.cmdline, "rdinit") {
        Some(Some(list)) => list,
        _ => "/init",
    };
    let extra: Vec<&str> = info
        .cmdline
        .split_ascii_whitespace()
        .skip_while(|w| *w != "--")
        .skip(1)
        .collect();
    let mut code = 0;
    for (i, path) in paths.split(',').filter(|p| !p.is_empty()).enumerate() {
        let pid = i as u32 + 1;
        code = match run_one(pid, path, &extra) {
            Ok(status) => status.exit_code(),
            Err(errno) => {
                println!("user: cannot run {path}: error -{errno}");
                1
            }
        };
    }
    println!(
        "user: system calls: {} by SYSCALL entry, {} by the kvm-pvm #PF at LSTAR",
        trap::SYSCALL_ENTRIES.load(Ordering::Relaxed),
        trap::PVM_SYSCALLS.load(Ordering::Relaxed)
    );
    code
}

/// Runs `path` as process `pid` to its end.
fn run_one(pid: u32, path: &str, extra: &[&str]) -> Result<WaitStatus, i64> {
    let mut argv: Vec<&[u8]> = alloc::vec![path.as_bytes()];
    argv.extend(extra.iter().map(|a| a.as_bytes()));
    let envp: [&[u8]; 2] = [b"HOME=/", b"TERM=linux"];
    let (mm, frame) = exec::load(initramfs(), path, &argv, &envp)?;
    let comm: String = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .chars()
        .take(15)
        .collect();
    let cr3 = mm.cr3();
    *CURRENT.lock() = Some(Process {
        pid,
        comm,
        mm,
        files: Files::new(),
        clear_child_tid: 0,
        fs_base: 0,
        sigactions: BTreeMap::new(),
        sigmask: 0,
        unknown_syscalls: BTreeMap::new(),
    });
    user::set_fs_base(0);
    let status = WaitStatus(user::run(&frame, cr3));
    x86_64::instructions::interrupts::enable();
    let process = CURRENT.lock().take().expect("the process that ran");
    if !process.unknown_syscalls.is_empty() {
        let total: u64 = process.unknown_syscalls.values().sum();
        let numbers: Vec<String> = process
            .unknown_syscalls
            .keys()
            .map(|n| alloc::format!("{n}"))
            .collect();
        println!(
            "user: pid {pid}: {total} unknown system calls (ENOSYS): {}",
            numbers.join(",")
        );
    }
    process.mm.destroy();
    if status.0 & 0x7f == 0 {
        println!(
            "user: pid {pid} ({path}) exited with status {}",
            status.0 >> 8
        );
    } else {
        println!(
            "user: pid {pid} ({path}) killed by signal {}",
            status.0 & 0x7f
        );
    }
    Ok(status)
}
