//! uname, arch_prctl, clock_gettime, gettimeofday, time, getcwd,
//! nanosleep, rt_sigaction, rt_sigprocmask, getrusage.

use guest_abi::errno::EINVAL;
use guest_abi::nr::{ARCH_GET_FS, ARCH_SET_FS};

use super::{Args, SysResult};
use crate::apic;
use crate::arch::user;
use crate::proc::Process;
use crate::uvm::pt::USER_END;
use crate::uvm::uaccess::{copy_from_user, copy_to_user};

/// Nanoseconds per timer tick (100 Hz).
const TICK_NS: u64 = 10_000_000;
/// Nanoseconds per LAPIC timer count (1 GHz bus / 16).
const COUNT_NS: u64 = 16;
/// Signals numbered 1..=64; SIGKILL and SIGSTOP cannot be caught.
const NSIG: u64 = 64;
const SIGKILL: u64 = 9;
const SIGSTOP: u64 = 19;

pub fn uname(p: &mut Process, a: Args) -> SysResult {
    // struct utsname: six fields of 65 bytes.
    let fields: [&[u8]; 6] = [
        b"Linux",
        b"guest",
        b"6.8.0-guest-kernel",
        b"#1 guest-kernel 0.1.0",
        b"x86_64",
        b"(none)",
    ];
    let mut buf = [0u8; 6 * 65];
    for (i, f) in fields.iter().enumerate() {
        buf[i * 65..i * 65 + f.len()].copy_from_slice(f);
    }
    copy_to_user(&mut p.mm, a.0[0], &buf)?;
    Ok(0)
}

pub fn arch_prctl(p: &mut Process, a: Args) -> SysResult {
    let [code, addr, ..] = a.0;
    match code {
        ARCH_SET_FS => {
            if addr >= USER_END {
                return Err(guest_abi::errno::EPERM);
            }
            p.fs_base = addr;
            user::set_fs_base(addr);
            Ok(0)
        }
        ARCH_GET_FS => {
            copy_to_user(&mut p.mm, addr, &user::fs_base().to_le_bytes())?;
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

/// Nanoseconds since boot: timer ticks plus the current tick's progress.
pub fn now_ns() -> u64 {
    let ticks = apic::ticks();
    let elapsed = u64::from(apic::TIMER_INITIAL_COUNT.saturating_sub(apic::timer_current_count()));
    ticks * TICK_NS + elapsed * COUNT_NS
}

pub fn clock_gettime(p: &mut Process, a: Args) -> SysResult {
    let [clock, tp, ..] = a.0;
    if clock > 11 {
        return Err(EINVAL);
    }
    let ns = now_ns();
    let mut ts = [0u8; 16];
    ts[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    ts[8..].copy_from_slice(&(ns % 1_000_000_000).to_le_bytes());
    copy_to_user(&mut p.mm, tp, &ts)?;
    Ok(0)
}

pub fn gettimeofday(p: &mut Process, a: Args) -> SysResult {
    let [tv, tz, ..] = a.0;
    let ns = now_ns();
    if tv != 0 {
        let mut buf = [0u8; 16];
        buf[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
        buf[8..].copy_from_slice(&(ns % 1_000_000_000 / 1000).to_le_bytes());
        copy_to_user(&mut p.mm, tv, &buf)?;
    }
    if tz != 0 {
        copy_to_user(&mut p.mm, tz, &[0u8; 8])?;
    }
    Ok(0)
}

pub fn time(p: &mut Process, a: Args) -> SysResult {
    let seconds = now_ns() / 1_000_000_000;
    if a.0[0] != 0 {
        copy_to_user(&mut p.mm, a.0[0], &seconds.to_le_bytes())?;
    }
    Ok(seconds)
}

/// getcwd: the working directory is always `/`; returns the length with
/// the NUL, as the system call does.
pub fn getcwd(p: &mut Process, a: Args) -> SysResult {
    let [buf, size, ..] = a.0;
    if size < 2 {
        return Err(guest_abi::errno::ERANGE);
    }
    copy_to_user(&mut p.mm, buf, b"/\0")?;
    Ok(2)
}

pub fn nanosleep(p: &mut Process, a: Args) -> SysResult {
    let [req, rem, ..] = a.0;
    let mut ts = [0u8; 16];
    copy_from_user(&mut p.mm, &mut ts, req)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().unwrap_or_default());
    let nsec = i64::from_le_bytes(ts[8..].try_into().unwrap_or_default());
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    let ns = (sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64);
    let until = apic::ticks() + ns.div_ceil(TICK_NS);
    while apic::ticks() < until {
        x86_64::instructions::interrupts::enable_and_hlt();
        x86_64::instructions::interrupts::disable();
    }
    if rem != 0 {
        copy_to_user(&mut p.mm, rem, &[0u8; 16])?;
    }
    Ok(0)
}

pub fn rt_sigaction(p: &mut Process, a: Args) -> SysResult {
    let [sig, act, oldact, sigsetsize, ..] = a.0;
    if sigsetsize != 8 || sig == 0 || sig > NSIG {
        return Err(EINVAL);
    }
    if oldact != 0 {
        let old = p.sigactions.get(&sig).copied().unwrap_or([0; 32]);
        copy_to_user(&mut p.mm, oldact, &old)?;
    }
    if act != 0 {
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(EINVAL);
        }
        let mut new = [0u8; 32];
        copy_from_user(&mut p.mm, &mut new, act)?;
        p.sigactions.insert(sig, new);
    }
    Ok(0)
}

pub fn rt_sigprocmask(p: &mut Process, a: Args) -> SysResult {
    let [how, set, oldset, sigsetsize, ..] = a.0;
    if sigsetsize != 8 {
        return Err(EINVAL);
    }
    let old = p.sigmask;
    if set != 0 {
        let mut b = [0u8; 8];
        copy_from_user(&mut p.mm, &mut b, set)?;
        let mask = u64::from_le_bytes(b) & !(1 << (SIGKILL - 1) | 1 << (SIGSTOP - 1));
        p.sigmask = match how {
            0 => old | mask,
            1 => old & !mask,
            2 => mask,
            _ => return Err(EINVAL),
        };
    }
    if oldset != 0 {
        copy_to_user(&mut p.mm, oldset, &old.to_le_bytes())?;
    }
    Ok(0)
}

pub fn getrusage(p: &mut Process, a: Args) -> SysResult {
    let [who, usage, ..] = a.0;
    // RUSAGE_SELF 0, RUSAGE_CHILDREN -1, RUSAGE_THREAD 1.
    let faults = match who as i64 {
        0 | 1 => p.mm.faults,
        -1 => 0,
        _ => return Err(EINVAL),
    };
    // struct rusage: two timevals, then 14 longs; ru_minflt is the 5th.
    let mut ru = [0u8; 144];
    ru[64..72].copy_from_slice(&faults.to_le_bytes());
    copy_to_user(&mut p.mm, usage, &ru)?;
    Ok(0)
}
