//! The runtime of our static user programs: `_start` (argc/argv/envp/auxv
//! from the initial stack), raw Linux x86_64 system calls, a few wrappers,
//! `print!`/`println!` to standard output and a panic handler.
//!
//! A program defines `fn main(args: &Args) -> i32` and calls
//! [`entry!`]`(main)`.

#![no_std]

pub mod sys;

use core::fmt::{self, Write};

/// The initial stack's contents.
#[derive(Debug, Clone, Copy)]
pub struct Args {
    /// argc.
    pub argc: usize,
    /// argv (argc pointers, then NULL).
    pub argv: *const *const u8,
    /// envp (pointers, then NULL).
    pub envp: *const *const u8,
    /// auxv pairs, ending in AT_NULL.
    pub auxv: *const [u64; 2],
}

impl Args {
    /// Reads the stack at `sp` (what the kernel set RSP to).
    ///
    /// # Safety
    /// `sp` must be the initial stack pointer of this process.
    pub unsafe fn from_stack(sp: *const u64) -> Self {
        // SAFETY: the kernel laid out argc, argv[], NULL, envp[], NULL, auxv
        // from `sp` on (the caller guarantees `sp`).
        unsafe {
            let argc = *sp as usize;
            let argv = sp.add(1) as *const *const u8;
            let envp = argv.add(argc + 1);
            let mut end = envp;
            while !(*end).is_null() {
                end = end.add(1);
            }
            Self {
                argc,
                argv,
                envp,
                auxv: end.add(1) as *const [u64; 2],
            }
        }
    }

    /// Argument `i` as bytes (empty if out of range).
    pub fn arg(&self, i: usize) -> &'static [u8] {
        if i >= self.argc {
            return b"";
        }
        // SAFETY: argv[i] (i < argc) is a NUL-terminated string the kernel
        // put on the stack, which lives as long as the process.
        unsafe { cstr(*self.argv.add(i)) }
    }

    /// The value of auxv key `key`.
    pub fn aux(&self, key: u64) -> Option<u64> {
        let mut at = self.auxv;
        // SAFETY: the auxv array ends with AT_NULL (0).
        unsafe {
            while (*at)[0] != 0 {
                if (*at)[0] == key {
                    return Some((*at)[1]);
                }
                at = at.add(1);
            }
        }
        None
    }
}

/// The bytes of the NUL-terminated string at `p`.
///
/// # Safety
/// `p` must point at a NUL-terminated string that lives for 'static.
pub unsafe fn cstr(p: *const u8) -> &'static [u8] {
    let mut n = 0;
    // SAFETY: per the contract, every byte up to the NUL is readable.
    unsafe {
        while *p.add(n) != 0 {
            n += 1;
        }
        core::slice::from_raw_parts(p, n)
    }
}

/// Standard output as a `fmt::Write`.
#[derive(Debug)]
pub struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        sys::write(1, s.as_bytes());
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    let _ = Stdout.write_fmt(args);
}

/// Prints to standard output.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::_print(format_args!($($arg)*)));
}

/// Prints to standard output with a newline.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::_print(format_args!("{}\n", format_args!($($arg)*))));
}

/// Defines `_start` calling `main(&Args) -> i32`, whose value is the exit status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        core::arch::global_asm!(
            ".globl _start",
            "_start:",
            "mov rdi, rsp",
            "and rsp, -16",
            "call {start}",
            "ud2",
            start = sym __user_start,
        );

        extern "C" fn __user_start(sp: *const u64) -> ! {
            // SAFETY: `_start` passes the initial stack pointer.
            let args = unsafe { $crate::Args::from_stack(sp) };
            let code: i32 = $main(&args);
            $crate::sys::exit_group(code)
        }
    };
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("panic: {}", info.message());
    sys::exit_group(101)
}

/// The mTHP sizes Linux offers on x86_64, in kB (orders 2..=9).
pub const THP_SIZES_KB: [u64; 8] = [16, 32, 64, 128, 256, 512, 1024, 2048];

/// Formats `hugepages-<kb>kB/<file>` under the THP sysfs directory into
/// `buf`, NUL-terminated; returns the used bytes (NUL included).
fn thp_path<'a>(buf: &'a mut [u8; 128], kb: Option<u64>, file: &str) -> &'a [u8] {
    struct Cursor<'b>(&'b mut [u8], usize);
    impl Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.1 + s.len();
            self.0
                .get_mut(self.1..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.1 = end;
            Ok(())
        }
    }
    let mut c = Cursor(&mut buf[..], 0);
    let _ = match kb {
        Some(kb) => write!(
            c,
            "/sys/kernel/mm/transparent_hugepage/hugepages-{kb}kB/{file}\0"
        ),
        None => write!(c, "/sys/kernel/mm/transparent_hugepage/{file}\0"),
    };
    let n = c.1;
    &buf[..n]
}

/// Writes `value` to the `enabled` file of size `kb` (or the top-level
/// one for `None`); returns the write's result.
pub fn thp_set(kb: Option<u64>, value: &str) -> i64 {
    let mut buf = [0; 128];
    let fd = sys::open(thp_path(&mut buf, kb, "enabled"), 1);
    if fd < 0 {
        return fd;
    }
    let r = sys::write(fd as u64, value.as_bytes());
    sys::close(fd as u64);
    r
}

/// Reads the `stats/<name>` counter of size `kb` (u64::MAX if unreadable).
pub fn thp_stat(kb: u64, name: &str) -> u64 {
    let mut file = [0u8; 64];
    let mut stat = [0; 128];
    let n = {
        let mut p = [0u8; 64];
        let len = name.len().min(58);
        p[..6].copy_from_slice(b"stats/");
        p[6..6 + len].copy_from_slice(&name.as_bytes()[..len]);
        let name = core::str::from_utf8(&p[..6 + len]).unwrap_or("");
        let fd = sys::open(thp_path(&mut stat, Some(kb), name), 0);
        if fd < 0 {
            return u64::MAX;
        }
        let n = sys::read(fd as u64, &mut file);
        sys::close(fd as u64);
        n
    };
    if n <= 0 {
        return u64::MAX;
    }
    file[..n as usize]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0, |v, &d| v * 10 + u64::from(d - b'0'))
}

/// Reads the whole text of the `enabled` file of size `kb` into `out`.
pub fn thp_read_enabled(kb: Option<u64>, out: &mut [u8]) -> usize {
    let mut buf = [0; 128];
    let fd = sys::open(thp_path(&mut buf, kb, "enabled"), 0);
    if fd < 0 {
        return 0;
    }
    let n = sys::read(fd as u64, out);
    sys::close(fd as u64);
    n.max(0) as usize
}
