//! x86_64 system call numbers (`arch/x86/entry/syscalls/syscall_64.tbl`).

#![allow(missing_docs)]

pub const READ: u64 = 0;
pub const WRITE: u64 = 1;
pub const OPEN: u64 = 2;
pub const CLOSE: u64 = 3;
pub const FSTAT: u64 = 5;
pub const POLL: u64 = 7;
pub const LSEEK: u64 = 8;
pub const MMAP: u64 = 9;
pub const MPROTECT: u64 = 10;
pub const MUNMAP: u64 = 11;
pub const BRK: u64 = 12;
pub const RT_SIGACTION: u64 = 13;
pub const RT_SIGPROCMASK: u64 = 14;
pub const IOCTL: u64 = 16;
pub const READV: u64 = 19;
pub const WRITEV: u64 = 20;
pub const SCHED_YIELD: u64 = 24;
pub const MADVISE: u64 = 28;
pub const NANOSLEEP: u64 = 35;
pub const GETPID: u64 = 39;
pub const EXIT: u64 = 60;
pub const UNAME: u64 = 63;
pub const GETCWD: u64 = 79;
pub const GETTIMEOFDAY: u64 = 96;
pub const GETRUSAGE: u64 = 98;
pub const GETUID: u64 = 102;
pub const GETGID: u64 = 104;
pub const GETEUID: u64 = 107;
pub const GETEGID: u64 = 108;
pub const ARCH_PRCTL: u64 = 158;
pub const GETTID: u64 = 186;
pub const TIME: u64 = 201;
pub const SET_TID_ADDRESS: u64 = 218;
pub const CLOCK_GETTIME: u64 = 228;
pub const EXIT_GROUP: u64 = 231;
pub const OPENAT: u64 = 257;
pub const BPF: u64 = 321;

/// `arch_prctl` code: set the FS base.
pub const ARCH_SET_FS: u64 = 0x1002;
/// `arch_prctl` code: read the FS base.
pub const ARCH_GET_FS: u64 = 0x1003;
/// `openat`'s "relative to the working directory".
pub const AT_FDCWD: i64 = -100;
