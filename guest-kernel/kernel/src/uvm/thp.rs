//! Multi-size transparent huge pages for anonymous memory: the policy
//! (Linux's sysfs files `transparent_hugepage/enabled` and
//! `hugepages-<size>kB/enabled`, the boot parameters
//! `transparent_hugepage=` and `thp_anon=` (alias `thp=`)), the fault-time
//! choice of folio order, and per-order counters (`anon_fault_alloc`,
//! `anon_fault_fallback`), as `mm/huge_memory.c` and `mm/memory.c` do it.
//!
//! Orders 2..=9 (16 KiB .. 2 MiB) are offered, as x86_64 Linux does.
//! Linux's defaults: top level `always`, 2048 kB `inherit`, others `never`.

use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use super::folio::MAX_ORDER;
use super::vma::{VM_HUGEPAGE, VM_NOHUGEPAGE, Vma};

/// Smallest mTHP order.
pub const MIN_ORDER: usize = 2;

/// A setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Setting {
    /// Always use this size where it fits.
    Always = 0,
    /// Follow the top-level setting (per-order files only).
    Inherit = 1,
    /// Only in MADV_HUGEPAGE areas.
    Madvise = 2,
    /// Never.
    Never = 3,
}

impl Setting {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Always,
            1 => Self::Inherit,
            2 => Self::Madvise,
            _ => Self::Never,
        }
    }

    /// Parses `always`, `inherit`, `madvise`, `never` (trailing newline ok).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim_end_matches('\n') {
            "always" => Some(Self::Always),
            "inherit" => Some(Self::Inherit),
            "madvise" => Some(Self::Madvise),
            "never" => Some(Self::Never),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Inherit => "inherit",
            Self::Madvise => "madvise",
            Self::Never => "never",
        }
    }
}

static TOP: AtomicU8 = AtomicU8::new(Setting::Always as u8);
static PER_ORDER: [AtomicU8; MAX_ORDER + 1] = {
    let mut a = [const { AtomicU8::new(Setting::Never as u8) }; MAX_ORDER + 1];
    a[MAX_ORDER] = AtomicU8::new(Setting::Inherit as u8);
    a
};

/// Folios of each order allocated at fault time (order 0: plain pages).
static FAULT_ALLOC: [AtomicU64; MAX_ORDER + 1] = [const { AtomicU64::new(0) }; MAX_ORDER + 1];
/// Faults that wanted an order but could not allocate it.
static FAULT_FALLBACK: [AtomicU64; MAX_ORDER + 1] = [const { AtomicU64::new(0) }; MAX_ORDER + 1];

/// The top-level setting (`always`, `madvise` or `never`).
pub fn top() -> Setting {
    Setting::from_u8(TOP.load(Ordering::Relaxed))
}

/// Sets the top level; `inherit` is refused.
pub fn set_top(s: Setting) -> bool {
    if s == Setting::Inherit {
        return false;
    }
    TOP.store(s as u8, Ordering::Relaxed);
    true
}

/// The setting of `order` (MIN_ORDER..=MAX_ORDER).
pub fn order_setting(order: usize) -> Setting {
    Setting::from_u8(PER_ORDER[order].load(Ordering::Relaxed))
}

/// Sets the setting of `order`.
pub fn set_order(order: usize, s: Setting) {
    PER_ORDER[order].store(s as u8, Ordering::Relaxed);
}

/// The order of a `hugepages-<kb>kB` directory, if it is one we offer.
pub fn order_of_kb(kb: u64) -> Option<usize> {
    (MIN_ORDER..=MAX_ORDER).find(|&o| 4u64 << o == kb)
}

/// `enabled` file text: every choice, the current one in brackets.
pub fn render(current: Setting, per_order: bool) -> alloc::string::String {
    let choices: &[Setting] = if per_order {
        &[
            Setting::Always,
            Setting::Inherit,
            Setting::Madvise,
            Setting::Never,
        ]
    } else {
        &[Setting::Always, Setting::Madvise, Setting::Never]
    };
    let mut out = alloc::string::String::new();
    for (i, &c) in choices.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if c == current {
            out.push('[');
            out.push_str(c.name());
            out.push(']');
        } else {
            out.push_str(c.name());
        }
    }
    out.push('\n');
    out
}

/// Applies `transparent_hugepage=<always|madvise|never>` and
/// `thp_anon=<sizes>:<setting>[;...]` (also spelt `thp=`), where sizes are
/// `64K`, `16K-256K` or comma lists, as Linux 6.12 parses them. Returns the
/// number of malformed parts (ignored).
pub fn apply_cmdline(cmdline: &str) -> usize {
    let mut bad = 0;
    if let Some(Some(v)) = crate::cmdline::get(cmdline, "transparent_hugepage") {
        match Setting::parse(v) {
            Some(s) if set_top(s) => {}
            _ => bad += 1,
        }
    }
    for key in ["thp_anon", "thp"] {
        if let Some(Some(v)) = crate::cmdline::get(cmdline, key) {
            for part in v.split(';').filter(|p| !p.is_empty()) {
                if !apply_anon_part(part) {
                    bad += 1;
                }
            }
        }
    }
    bad
}

fn parse_size_order(s: &str) -> Option<usize> {
    let (num, mult) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1),
        b'M' | b'm' => (&s[..s.len() - 1], 1024),
        _ => return None,
    };
    order_of_kb(num.parse::<u64>().ok()? * mult)
}

fn apply_anon_part(part: &str) -> bool {
    let Some((sizes, state)) = part.split_once(':') else {
        return false;
    };
    let Some(setting) = Setting::parse(state) else {
        return false;
    };
    for item in sizes.split(',') {
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (parse_size_order(a), parse_size_order(b)),
            None => (parse_size_order(item), parse_size_order(item)),
        };
        let (Some(lo), Some(hi)) = (lo, hi) else {
            return false;
        };
        for order in lo..=hi {
            set_order(order, setting);
        }
    }
    true
}

/// Bit mask of the orders allowed in `vma` by the policy (before the
/// alignment and emptiness checks of the fault).
pub fn allowed_orders(vma: &Vma) -> u32 {
    if vma.flags & VM_NOHUGEPAGE != 0 {
        return 0;
    }
    let madvised = vma.flags & VM_HUGEPAGE != 0;
    let top = top();
    let mut mask = 0;
    for order in MIN_ORDER..=MAX_ORDER {
        let on = match order_setting(order) {
            Setting::Always => true,
            Setting::Madvise => madvised,
            Setting::Inherit => top == Setting::Always || (top == Setting::Madvise && madvised),
            Setting::Never => false,
        };
        if on {
            mask |= 1 << order;
        }
    }
    mask
}

/// Candidate orders for a fault at `addr` in `vma`, highest first: those
/// `allowed` whose aligned block lies inside the area and whose entries are
/// all empty (`range_empty(start, pages)`); order 0 always ends the list.
pub fn candidates(
    addr: u64,
    vma: &Vma,
    allowed: u32,
    mut range_empty: impl FnMut(u64, u64) -> bool,
) -> impl Iterator<Item = usize> {
    let mut list = [0usize; MAX_ORDER + 1];
    let mut n = 0;
    for order in (MIN_ORDER..=MAX_ORDER).rev() {
        if allowed & 1 << order == 0 {
            continue;
        }
        let size = 4096u64 << order;
        let start = addr & !(size - 1);
        if start >= vma.start && start + size <= vma.end && range_empty(start, 1 << order) {
            list[n] = order;
            n += 1;
        }
    }
    list[n] = 0;
    list.into_iter().take(n + 1)
}

/// Counts a fault served by a folio of `order`.
pub fn count_alloc(order: usize) {
    FAULT_ALLOC[order].fetch_add(1, Ordering::Relaxed);
}

/// Counts a fault that could not get a folio of `order`.
pub fn count_fallback(order: usize) {
    FAULT_FALLBACK[order].fetch_add(1, Ordering::Relaxed);
}

/// (anon_fault_alloc, anon_fault_fallback) of `order`.
pub fn stats(order: usize) -> (u64, u64) {
    (
        FAULT_ALLOC[order].load(Ordering::Relaxed),
        FAULT_FALLBACK[order].load(Ordering::Relaxed),
    )
}
