//! Raw Linux x86_64 system calls (`syscall`: RAX = number, arguments in
//! RDI, RSI, RDX, R10, R8, R9; RCX and R11 are clobbered) and wrappers.

use core::arch::asm;

/// Linux x86_64 system call numbers used here.
#[allow(missing_docs)]
pub mod nr {
    pub const READ: u64 = 0;
    pub const WRITE: u64 = 1;
    pub const OPEN: u64 = 2;
    pub const CLOSE: u64 = 3;
    pub const MMAP: u64 = 9;
    pub const MPROTECT: u64 = 10;
    pub const MUNMAP: u64 = 11;
    pub const BRK: u64 = 12;
    pub const MADVISE: u64 = 28;
    pub const GETPID: u64 = 39;
    pub const GETRUSAGE: u64 = 98;
    pub const EXIT_GROUP: u64 = 231;
}

/// A system call with six arguments; returns RAX (-errno on failure).
///
/// # Safety
/// The call must not break memory the program relies on (e.g. munmap of
/// its own stack); pointer arguments are checked by the kernel only.
pub unsafe fn syscall6(n: u64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: the kernel preserves every register but RAX, RCX and R11.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as i64 => ret,
            in("rdi") a[0], in("rsi") a[1], in("rdx") a[2],
            in("r10") a[3], in("r8") a[4], in("r9") a[5],
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

/// write(fd, buf, len).
pub fn write(fd: u64, buf: &[u8]) -> i64 {
    // SAFETY: the kernel only reads `buf`.
    unsafe {
        syscall6(
            nr::WRITE,
            [fd, buf.as_ptr() as u64, buf.len() as u64, 0, 0, 0],
        )
    }
}

/// write(fd, addr, len) with a raw address (may be bad on purpose).
pub fn write_raw(fd: u64, addr: u64, len: u64) -> i64 {
    // SAFETY: the kernel only reads from `addr` (and checks it).
    unsafe { syscall6(nr::WRITE, [fd, addr, len, 0, 0, 0]) }
}

/// read(fd, buf).
pub fn read(fd: u64, buf: &mut [u8]) -> i64 {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    unsafe {
        syscall6(
            nr::READ,
            [fd, buf.as_mut_ptr() as u64, buf.len() as u64, 0, 0, 0],
        )
    }
}

/// open(path, flags); `path` must end in a NUL.
pub fn open(path: &[u8], flags: u64) -> i64 {
    // SAFETY: the kernel reads the NUL-terminated path.
    unsafe { syscall6(nr::OPEN, [path.as_ptr() as u64, flags, 0, 0, 0, 0]) }
}

/// close(fd).
pub fn close(fd: u64) -> i64 {
    // SAFETY: closing a descriptor touches no memory.
    unsafe { syscall6(nr::CLOSE, [fd, 0, 0, 0, 0, 0]) }
}

/// mmap of anonymous private memory.
pub fn mmap_anon(addr: u64, len: u64, prot: u64, extra_flags: u64) -> i64 {
    // SAFETY: a new anonymous mapping does not replace memory in use
    // (callers pass MAP_FIXED only over their own mappings).
    unsafe { syscall6(nr::MMAP, [addr, len, prot, 0x22 | extra_flags, u64::MAX, 0]) }
}

/// munmap(addr, len).
///
/// # Safety
/// Nothing may use the range afterwards.
pub unsafe fn munmap(addr: u64, len: u64) -> i64 {
    // SAFETY: per the contract.
    unsafe { syscall6(nr::MUNMAP, [addr, len, 0, 0, 0, 0]) }
}

/// mprotect(addr, len, prot).
pub fn mprotect(addr: u64, len: u64, prot: u64) -> i64 {
    // SAFETY: changing protections cannot make Rust memory unsound by
    // itself; a later access may fault, which is the point.
    unsafe { syscall6(nr::MPROTECT, [addr, len, prot, 0, 0, 0]) }
}

/// madvise(addr, len, advice).
pub fn madvise(addr: u64, len: u64, advice: u64) -> i64 {
    // SAFETY: advice changes how memory is backed; MADV_DONTNEED zeroes
    // it, which callers expect.
    unsafe { syscall6(nr::MADVISE, [addr, len, advice, 0, 0, 0]) }
}

/// getpid().
pub fn getpid() -> i64 {
    // SAFETY: no memory involved.
    unsafe { syscall6(nr::GETPID, [0; 6]) }
}

/// Minor page faults of this process so far (getrusage's ru_minflt).
pub fn minor_faults() -> u64 {
    let mut ru = [0u64; 18];
    // SAFETY: the kernel writes 144 bytes of struct rusage into `ru`.
    unsafe { syscall6(nr::GETRUSAGE, [0, ru.as_mut_ptr() as u64, 0, 0, 0, 0]) };
    ru[8]
}

/// exit_group(code).
pub fn exit_group(code: i32) -> ! {
    // SAFETY: the process ends here.
    unsafe { syscall6(nr::EXIT_GROUP, [code as u64, 0, 0, 0, 0, 0]) };
    loop {
        core::hint::spin_loop();
    }
}
