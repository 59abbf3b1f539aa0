//! Multi-size transparent huge pages: `guest-mm`'s policy and counters
//! ([`guest_mm::thp`]) as the kernel keeps them: one settings value (the
//! sysfs `enabled` files), the per-order stats, and the boot parameters
//! `transparent_hugepage=<always|madvise|never>` and
//! `thp_anon=<sizes>:<policy>[;...]` (also spelt `thp=`; sizes `64K`,
//! `16K-256K` or comma lists, as Linux 6.12 parses them).

use guest_mm::thp::{MthpStat, OrderPolicy, ThpSettings, ThpStats, TopLevel};
use spin::{Mutex, Once};

pub use guest_mm::thp::PMD_ORDER as MAX_ORDER;

/// Smallest mTHP order.
pub const MIN_ORDER: usize = 2;

static SETTINGS: Once<Mutex<ThpSettings>> = Once::new();
/// Per-order fault counters.
pub static STATS: ThpStats = ThpStats::new();

fn cell() -> &'static Mutex<ThpSettings> {
    SETTINGS.call_once(|| Mutex::new(ThpSettings::default()))
}

/// The settings now.
pub fn settings() -> ThpSettings {
    *cell().lock()
}

/// Changes the settings.
pub fn update<R>(f: impl FnOnce(&mut ThpSettings) -> R) -> R {
    f(&mut cell().lock())
}

/// The order of a `hugepages-<kb>kB` directory, if it is one we offer.
pub fn order_of_kb(kb: u64) -> Option<usize> {
    (MIN_ORDER..=MAX_ORDER).find(|&o| 4u64 << o == kb)
}

/// Applies the boot parameters; returns the number of malformed parts
/// (ignored).
pub fn apply_cmdline(cmdline: &str) -> usize {
    let mut bad = 0;
    if let Some(Some(v)) = crate::cmdline::get(cmdline, "transparent_hugepage") {
        match TopLevel::parse(v) {
            Ok(top) => update(|s| s.top = top),
            Err(_) => bad += 1,
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
    let Ok(policy) = OrderPolicy::parse(state) else {
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
            update(|s| s.set_order(order, policy)).ok();
        }
    }
    true
}

/// (anon_fault_alloc, anon_fault_fallback) of `order`.
pub fn stats(order: usize) -> (u64, u64) {
    (
        STATS.get(order, MthpStat::AnonFaultAlloc),
        STATS.get(order, MthpStat::AnonFaultFallback),
    )
}
