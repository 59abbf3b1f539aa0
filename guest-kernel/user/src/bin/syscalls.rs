//! Exercises the system calls one by one and prints `syscalls: <name> ok`
//! or `... FAILED (<detail>)`; exits with the number of failures.

#![no_std]
#![no_main]

use guest_user::sys::{self, syscall6};
use guest_user::{Args, entry, println, thp_read_enabled};

const PROT_READ: u64 = 1;
const PROT_RW: u64 = 3;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
const MADV_DONTNEED: u64 = 4;
const ENOSYS: i64 = -38;
const ENOTTY: i64 = -25;
const EEXIST: i64 = -17;
const ENOENT: i64 = -2;

fn call(n: u64, a: [u64; 6]) -> i64 {
    // SAFETY: each call below passes pointers to live buffers of the right
    // size, or none.
    unsafe { syscall6(n, a) }
}

fn check(name: &str, ok: bool, detail: i64, failures: &mut i32) {
    if ok {
        println!("syscalls: {name} ok");
    } else {
        *failures += 1;
        println!("syscalls: {name} FAILED ({detail})");
    }
}

fn main(args: &Args) -> i32 {
    let mut f = 0;
    // uname
    let mut uts = [0u8; 6 * 65];
    let r = call(63, [uts.as_mut_ptr() as u64, 0, 0, 0, 0, 0]);
    check(
        "uname",
        r == 0 && uts.starts_with(b"Linux\0") && &uts[4 * 65..4 * 65 + 7] == b"x86_64\0",
        r,
        &mut f,
    );
    // auxv
    let pagesz = args.aux(6).unwrap_or(0);
    let random = args.aux(25).unwrap_or(0);
    check(
        "auxv AT_PAGESZ/AT_RANDOM/AT_PHDR/AT_ENTRY",
        pagesz == 4096 && random != 0 && args.aux(3).is_some() && args.aux(9).is_some(),
        pagesz as i64,
        &mut f,
    );
    // clock_gettime + nanosleep 30 ms
    let mut t0 = [0u64; 2];
    let mut t1 = [0u64; 2];
    call(228, [1, t0.as_mut_ptr() as u64, 0, 0, 0, 0]);
    let req = [0u64, 30_000_000];
    let r = call(35, [req.as_ptr() as u64, 0, 0, 0, 0, 0]);
    call(228, [1, t1.as_mut_ptr() as u64, 0, 0, 0, 0]);
    let slept = (t1[0] * 1_000_000_000 + t1[1]) as i64 - (t0[0] * 1_000_000_000 + t0[1]) as i64;
    check(
        "nanosleep 30ms",
        r == 0 && slept >= 20_000_000,
        slept,
        &mut f,
    );
    // gettimeofday, time, getcwd
    let mut tv = [0u64; 2];
    let r = call(96, [tv.as_mut_ptr() as u64, 0, 0, 0, 0, 0]);
    let t = call(201, [0; 6]);
    check(
        "gettimeofday/time",
        r == 0 && tv[1] < 1_000_000 && (t as u64).abs_diff(tv[0]) <= 1,
        r,
        &mut f,
    );
    let mut cwd = [0xffu8; 8];
    let r = call(79, [cwd.as_mut_ptr() as u64, 8, 0, 0, 0, 0]);
    check("getcwd", r == 2 && &cwd[..2] == b"/\0", r, &mut f);
    // arch_prctl
    let r = call(158, [0x1002, 0x1234_5000, 0, 0, 0, 0]);
    let mut fs = 0u64;
    call(158, [0x1003, &raw mut fs as u64, 0, 0, 0, 0]);
    check(
        "arch_prctl SET_FS/GET_FS",
        r == 0 && fs == 0x1234_5000,
        fs as i64,
        &mut f,
    );
    call(158, [0x1002, 0, 0, 0, 0, 0]);
    // ids
    let pid = sys::getpid();
    let tid = call(218, [0x1000, 0, 0, 0, 0, 0]);
    check(
        "getpid/gettid/set_tid_address",
        pid > 0 && call(186, [0; 6]) == pid && tid == pid,
        pid,
        &mut f,
    );
    check("sched_yield", call(24, [0; 6]) == 0, 0, &mut f);
    // signals are recorded
    let act = [0x1111u64, 0x0400_0000, 0x2222, 0];
    let mut old = [0u64; 4];
    call(13, [10, act.as_ptr() as u64, 0, 8, 0, 0]);
    let r = call(13, [10, 0, old.as_mut_ptr() as u64, 8, 0, 0]);
    check(
        "rt_sigaction records",
        r == 0 && old[0] == 0x1111,
        r,
        &mut f,
    );
    let set = 1u64 << 1;
    let mut oldset = 0u64;
    call(14, [0, &raw const set as u64, 0, 8, 0, 0]);
    let r = call(14, [0, 0, &raw mut oldset as u64, 8, 0, 0]);
    check("rt_sigprocmask records", r == 0 && oldset == set, r, &mut f);
    // ioctl and unknown calls
    let r = call(16, [1, 0x5413, 0, 0, 0, 0]);
    check("ioctl -> ENOTTY", r == ENOTTY, r, &mut f);
    let r = call(999, [0; 6]);
    check("unknown syscall -> ENOSYS", r == ENOSYS, r, &mut f);
    // files: the initramfs and a pseudo file
    let fd = sys::open(b"/bin/hello\0", 0);
    let mut magic = [0u8; 4];
    let n = if fd >= 0 {
        sys::read(fd as u64, &mut magic)
    } else {
        fd
    };
    check(
        "open+read /bin/hello",
        n == 4 && &magic == b"\x7fELF" && sys::close(fd as u64) == 0,
        n,
        &mut f,
    );
    check(
        "open missing -> ENOENT",
        sys::open(b"/nope\0", 0) == ENOENT,
        0,
        &mut f,
    );
    let mut text = [0u8; 64];
    let n = thp_read_enabled(None, &mut text);
    check(
        "read transparent_hugepage/enabled",
        n > 0 && text[..n].contains(&b'['),
        n as i64,
        &mut f,
    );
    // brk grows and shrinks
    let base = call(12, [0; 6]) as u64;
    let grown = call(12, [base + 100_000, 0, 0, 0, 0, 0]) as u64;
    // SAFETY: the break was just moved past these bytes.
    unsafe { core::ptr::write_volatile((base + 99_999) as *mut u8, 7) };
    let shrunk = call(12, [base, 0, 0, 0, 0, 0]) as u64;
    check(
        "brk grow/shrink",
        grown == base + 100_000 && shrunk == base,
        grown as i64,
        &mut f,
    );
    // mmap, mprotect, madvise(DONTNEED), munmap, MAP_FIXED_NOREPLACE
    let m = sys::mmap_anon(0, 3 * 4096, PROT_RW, 0) as u64;
    // SAFETY: `m` is a fresh read-write mapping of three pages.
    unsafe { core::ptr::write_volatile(m as *mut u64, 0xfeed) };
    let r1 = sys::mprotect(m, 4096, PROT_READ);
    // SAFETY: the page is still readable.
    let still = unsafe { core::ptr::read_volatile(m as *const u64) };
    let r2 = sys::mprotect(m, 4096, PROT_RW);
    let r3 = sys::madvise(m, 4096, MADV_DONTNEED);
    // SAFETY: after MADV_DONTNEED the page reads back as zero.
    let zero = unsafe { core::ptr::read_volatile(m as *const u64) };
    check(
        "mprotect/madvise DONTNEED",
        r1 == 0 && r2 == 0 && r3 == 0 && still == 0xfeed && zero == 0,
        zero as i64,
        &mut f,
    );
    let r = sys::mmap_anon(m, 4096, PROT_RW, MAP_FIXED_NOREPLACE);
    // SAFETY: nothing uses the mapping any more.
    let u = unsafe { sys::munmap(m, 3 * 4096) };
    let again = sys::mmap_anon(m, 4096, PROT_RW, MAP_FIXED_NOREPLACE);
    check(
        "munmap/MAP_FIXED_NOREPLACE",
        r == EEXIST && u == 0 && again == m as i64,
        again,
        &mut f,
    );
    // A read fault maps the zero page; the write after it copies (COW).
    let z = sys::mmap_anon(0, 4096, PROT_RW, 0) as u64;
    let f0 = sys::minor_faults();
    // SAFETY: `z` is a fresh read-write page of ours.
    let before = unsafe { core::ptr::read_volatile(z as *const u64) };
    let f1 = sys::minor_faults();
    // SAFETY: as above.
    unsafe { core::ptr::write_volatile(z as *mut u64, 0x5eed) };
    let f2 = sys::minor_faults();
    // SAFETY: as above.
    let after = unsafe { core::ptr::read_volatile(z as *const u64) };
    check(
        "zero page on read, copy on write",
        before == 0 && after == 0x5eed && f1 - f0 == 1 && f2 - f1 == 1,
        (f2 - f0) as i64,
        &mut f,
    );
    println!("syscalls: {f} failed");
    f
}

entry!(main);
