//! Per-order mTHP counters, the 6.9 `hugepages-<size>kB/stats/` files.

use core::sync::atomic::{AtomicU64, Ordering};

use super::PMD_ORDER;

/// One counter file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MthpStat {
    /// A fault got a folio of this order (`anon_fault_alloc`).
    AnonFaultAlloc,
    /// A fault could not get a folio of this order and fell back (`anon_fault_fallback`).
    AnonFaultFallback,
    /// Fell back because charging the folio failed (`anon_fault_fallback_charge`).
    AnonFaultFallbackCharge,
}

impl MthpStat {
    /// The file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::AnonFaultAlloc => "anon_fault_alloc",
            Self::AnonFaultFallback => "anon_fault_fallback",
            Self::AnonFaultFallbackCharge => "anon_fault_fallback_charge",
        }
    }

    /// The stat a file name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::AnonFaultAlloc,
            Self::AnonFaultFallback,
            Self::AnonFaultFallbackCharge,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

const ORDERS: usize = PMD_ORDER + 1;

/// The counters of every order (order 0 and above `PMD_ORDER` are not
/// counted, as `count_mthp_stat` ignores them).
#[derive(Debug)]
pub struct ThpStats {
    counters: [[AtomicU64; ORDERS]; 3],
}

impl Default for ThpStats {
    fn default() -> Self {
        Self::new()
    }
}

impl ThpStats {
    /// All zero.
    pub const fn new() -> Self {
        Self {
            counters: [const { [const { AtomicU64::new(0) }; ORDERS] }; 3],
        }
    }

    /// Counts one event of `stat` at `order`.
    pub fn count(&self, order: usize, stat: MthpStat) {
        if order == 0 || order > PMD_ORDER {
            return;
        }
        self.counters[stat as usize][order].fetch_add(1, Ordering::Relaxed);
    }

    /// The value of `stat` at `order`.
    pub fn get(&self, order: usize, stat: MthpStat) -> u64 {
        self.counters[stat as usize]
            .get(order)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }
}
