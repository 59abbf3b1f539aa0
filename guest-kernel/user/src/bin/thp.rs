//! Multi-size THP checks and fault figures. Each mode sets the policy
//! through the sysfs files, maps 4 MiB, touches (writes) every page of a
//! 2 MiB aligned window in it, and compares the page faults (getrusage)
//! and the per-size `anon_fault_alloc` counters with what the policy
//! implies. Exit 0 if it holds.
//!
//! - `thp 64k`: top `always`, 64 kB `always`, other sizes `never`:
//!   32 faults, 32 new 64 kB folios, none of another size.
//! - `thp never`: every size `never`: 512 faults, no mTHP folio.
//! - `thp nohuge`: every size `always`, but MADV_NOHUGEPAGE on the
//!   window: 512 faults, no mTHP folio.
//! - `thp 2m`: 2048 kB `always`, others `never`: 1 fault, one 2 MiB folio.
//! - `thp show`: prints every `enabled` file (`thp: top <text>`,
//!   `thp: <kb>kB <text>`), e.g. to check the boot parameters.
//! - `thp figures`: faults per MiB touched (and time per MiB) with 4 kB
//!   pages, 64 kB folios and 2 MiB folios over 8 MiB each.

#![no_std]
#![no_main]

use guest_user::{
    Args, THP_SIZES_KB, entry, print, println, sys, thp_read_enabled, thp_set, thp_stat,
};

const MIB: u64 = 1 << 20;
const PROT_RW: u64 = 3;
const MADV_NOHUGEPAGE: u64 = 15;

fn only(kb: Option<u64>, setting: &str) {
    thp_set(None, "always");
    for size in THP_SIZES_KB {
        let s = if Some(size) == kb { setting } else { "never" };
        thp_set(Some(size), s);
    }
}

fn all(setting: &str) {
    thp_set(None, "always");
    for size in THP_SIZES_KB {
        thp_set(Some(size), setting);
    }
}

fn counters() -> [u64; 8] {
    THP_SIZES_KB.map(|kb| thp_stat(kb, "anon_fault_alloc"))
}

/// A 2 MiB-aligned window of `len` bytes inside a fresh mapping.
fn window(len: u64) -> Option<u64> {
    let base = sys::mmap_anon(0, len + 2 * MIB, PROT_RW, 0);
    if base < 0 {
        println!("thp: mmap failed: {base}");
        return None;
    }
    Some((base as u64 + 2 * MIB - 1) & !(2 * MIB - 1))
}

fn touch(start: u64, len: u64) {
    let mut at = start;
    while at < start + len {
        // SAFETY: `at` lies in a private read-write mapping of ours.
        unsafe { core::ptr::write_volatile(at as *mut u8, 1) };
        at += 4096;
    }
}

fn now_ns() -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: clock_gettime writes one struct timespec into `ts`.
    unsafe { sys::syscall6(228, [1, ts.as_mut_ptr() as u64, 0, 0, 0, 0]) };
    ts[0] * 1_000_000_000 + ts[1]
}

/// Touches 2 MiB and checks the fault count and the folios per size.
fn check(name: &str, advice: Option<u64>, faults: u64, folios: [u64; 8]) -> bool {
    let Some(w) = window(2 * MIB) else {
        return false;
    };
    if let Some(a) = advice {
        sys::madvise(w, 2 * MIB, a);
    }
    let before = counters();
    let f0 = sys::minor_faults();
    touch(w, 2 * MIB);
    let got_faults = sys::minor_faults() - f0;
    let after = counters();
    let mut ok = got_faults == faults;
    println!("thp {name}: {got_faults} faults for 2 MiB (expected {faults})");
    for (i, kb) in THP_SIZES_KB.iter().enumerate() {
        let new = after[i] - before[i];
        if new != 0 || folios[i] != 0 {
            println!("thp {name}: {kb}kB folios +{new} (expected +{})", folios[i]);
        }
        ok &= new == folios[i];
    }
    println!("thp {name}: {}", if ok { "ok" } else { "FAILED" });
    ok
}

/// Faults and time per MiB touching 8 MiB with the current policy.
fn figure(label: &str) {
    const LEN: u64 = 8 * MIB;
    let Some(w) = window(LEN) else {
        return;
    };
    let f0 = sys::minor_faults();
    let t0 = now_ns();
    touch(w, LEN);
    let ns = now_ns() - t0;
    let faults = sys::minor_faults() - f0;
    let per_mib_x10 = faults * 10 / (LEN / MIB);
    println!(
        "figure: {label} {}.{} faults per MiB, {} us per MiB",
        per_mib_x10 / 10,
        per_mib_x10 % 10,
        ns / 1000 / (LEN / MIB)
    );
    // SAFETY: nothing uses the window any more.
    unsafe { sys::munmap(w, LEN) };
}

fn main(args: &Args) -> i32 {
    let ok = match args.arg(1) {
        b"64k" => {
            only(Some(64), "always");
            check("64k", None, 32, [0, 0, 32, 0, 0, 0, 0, 0])
        }
        b"never" => {
            all("never");
            check("never", None, 512, [0; 8])
        }
        b"nohuge" => {
            all("always");
            check("nohuge", Some(MADV_NOHUGEPAGE), 512, [0; 8])
        }
        b"2m" => {
            only(Some(2048), "always");
            check("2m", None, 1, [0, 0, 0, 0, 0, 0, 0, 1])
        }
        b"show" => {
            let mut text = [0u8; 64];
            let n = thp_read_enabled(None, &mut text);
            print!(
                "thp: top {}",
                core::str::from_utf8(&text[..n]).unwrap_or("?\n")
            );
            for kb in THP_SIZES_KB {
                let n = thp_read_enabled(Some(kb), &mut text);
                print!(
                    "thp: {kb}kB {}",
                    core::str::from_utf8(&text[..n]).unwrap_or("?\n")
                );
            }
            true
        }
        b"figures" => {
            all("never");
            figure("4K");
            only(Some(64), "always");
            figure("64K");
            only(Some(2048), "always");
            figure("2M");
            true
        }
        _ => {
            println!("usage: thp 64k|never|nohuge|2m|show|figures");
            false
        }
    };
    i32::from(!ok)
}

entry!(main);
