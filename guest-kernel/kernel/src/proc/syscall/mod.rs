//! System calls by Linux x86_64 number: RAX = number, arguments in RDI,
//! RSI, RDX, R10, R8, R9, result (or -errno) in RAX. Unknown numbers get
//! -ENOSYS and are counted per process.

pub mod bpf;
mod fs;
mod misc;
mod mm;

use guest_abi::errno::ENOSYS;
use guest_abi::nr;

use super::trap::Action;
use super::{Process, WaitStatus};
use crate::arch::trap::TrapFrame;

/// A system call's arguments.
#[derive(Debug, Clone, Copy)]
pub struct Args(pub [u64; 6]);

/// A handler's result: a value or an errno (positive).
pub type SysResult = Result<u64, i64>;

/// Runs the system call in `frame` for `p` and stores its result in RAX.
pub fn dispatch(p: &mut Process, frame: &mut TrapFrame) -> Action {
    let a = Args([
        frame.rdi, frame.rsi, frame.rdx, frame.r10, frame.r8, frame.r9,
    ]);
    let number = frame.rax;
    let result = match number {
        nr::READ => fs::read(p, a),
        nr::WRITE => fs::write(p, a),
        nr::OPEN => fs::open(p, a.0[0], a.0[1]),
        nr::OPENAT => fs::openat(p, a),
        nr::CLOSE => p.files.close(a.0[0]).map(|()| 0),
        nr::FSTAT => fs::fstat(p, a),
        nr::LSEEK => fs::lseek(p, a),
        nr::READV => fs::readv(p, a),
        nr::WRITEV => fs::writev(p, a),
        nr::IOCTL => fs::ioctl(p, a),
        nr::MMAP => mm::mmap(p, a),
        nr::MUNMAP => p.mm.munmap(a.0[0], a.0[1]).map(|()| 0),
        nr::MPROTECT => p.mm.mprotect(a.0[0], a.0[1], a.0[2]).map(|()| 0),
        nr::MADVISE => p.mm.madvise(a.0[0], a.0[1], a.0[2]).map(|()| 0),
        nr::BRK => Ok(p.mm.set_brk(a.0[0])),
        nr::EXIT | nr::EXIT_GROUP => return Action::End(WaitStatus::exited(a.0[0])),
        nr::GETPID | nr::GETTID => Ok(u64::from(p.pid)),
        nr::GETUID | nr::GETGID | nr::GETEUID | nr::GETEGID => Ok(0),
        nr::UNAME => misc::uname(p, a),
        nr::ARCH_PRCTL => misc::arch_prctl(p, a),
        nr::SET_TID_ADDRESS => {
            p.clear_child_tid = a.0[0];
            Ok(u64::from(p.pid))
        }
        nr::CLOCK_GETTIME => misc::clock_gettime(p, a),
        nr::GETTIMEOFDAY => misc::gettimeofday(p, a),
        nr::TIME => misc::time(p, a),
        nr::GETCWD => misc::getcwd(p, a),
        nr::NANOSLEEP => misc::nanosleep(p, a),
        nr::SCHED_YIELD => Ok(0),
        nr::RT_SIGACTION => misc::rt_sigaction(p, a),
        nr::RT_SIGPROCMASK => misc::rt_sigprocmask(p, a),
        nr::GETRUSAGE => misc::getrusage(p, a),
        nr::BPF => bpf::bpf(p, a),
        _ => {
            *p.unknown_syscalls.entry(number).or_insert(0) += 1;
            Err(ENOSYS)
        }
    };
    frame.rax = match result {
        Ok(value) => value,
        Err(errno) => (-errno) as u64,
    };
    Action::Resume
}
