//! Counters per mnemonic and per RIP, shared by all vCPUs, with a log line
//! at the 1st, 10th, 100th, ... completion of each mnemonic.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use iced_x86::Mnemonic;

/// How many RIPs the report lists.
const TOP_RIPS: usize = 5;
/// Most distinct RIPs counted: the guest picks RIPs, so the map is bounded;
/// completions at further RIPs count in `other_rips`.
const MAX_RIPS: usize = 4096;

#[derive(Debug, Default)]
struct Counts {
    by_mnemonic: HashMap<Mnemonic, u64>,
    by_rip: HashMap<u64, (Mnemonic, u64)>,
    other_rips: u64,
}

fn name(mnemonic: Mnemonic) -> String {
    format!("{mnemonic:?}").to_lowercase()
}

/// Fallback counters.
#[derive(Debug, Default)]
pub struct FallbackStats {
    counts: Mutex<Counts>,
}

impl FallbackStats {
    /// Counts one completion of `mnemonic` at `rip`; logs at powers of ten.
    pub fn record(&self, mnemonic: Mnemonic, rip: u64) {
        let total = {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            let total = counts.by_mnemonic.entry(mnemonic).or_default();
            *total += 1;
            let total = *total;
            let room = counts.by_rip.len() < MAX_RIPS;
            match counts.by_rip.get_mut(&rip) {
                Some(entry) => entry.1 += 1,
                None if room => {
                    counts.by_rip.insert(rip, (mnemonic, 1));
                }
                None => counts.other_rips += 1,
            }
            total
        };
        // Logged outside the lock: stderr may block.
        if is_power_of_ten(total) {
            eprintln!(
                "vmm: fallback: completed {} (#{total}) at rip {rip:#x}",
                name(mnemonic)
            );
        }
    }

    /// `vmm fallback: int3=1 popcnt=40; top rips: 0x...=popcnt*30, ...`, or
    /// None when nothing needed the fallback.
    pub fn report(&self) -> Option<String> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.by_mnemonic.is_empty() {
            return None;
        }
        let totals: BTreeMap<String, u64> = counts
            .by_mnemonic
            .iter()
            .map(|(m, n)| (name(*m), *n))
            .collect();
        let totals: Vec<String> = totals.iter().map(|(m, n)| format!("{m}={n}")).collect();
        let mut rips: Vec<(&u64, &(Mnemonic, u64))> = counts.by_rip.iter().collect();
        rips.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(b.0)));
        let top: Vec<String> = rips
            .iter()
            .take(TOP_RIPS)
            .map(|(rip, (m, n))| format!("{rip:#x}={}*{n}", name(*m)))
            .collect();
        Some(format!(
            "vmm fallback: {}; top rips: {}",
            totals.join(" "),
            top.join(" ")
        ))
    }
}

fn is_power_of_ten(mut n: u64) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_stats_count_by_mnemonic_and_rank_rips() {
        let s = FallbackStats::default();
        assert!(s.report().is_none());
        for _ in 0..3 {
            s.record(Mnemonic::Popcnt, 0x1000);
        }
        s.record(Mnemonic::Int3, 0x2000);
        assert_eq!(
            s.report().unwrap(),
            "vmm fallback: int3=1 popcnt=3; top rips: 0x1000=popcnt*3 0x2000=int3*1"
        );
    }

    #[test]
    fn test_stats_bound_the_rips_they_keep() {
        let s = FallbackStats::default();
        for rip in 0..(MAX_RIPS as u64 + 10) {
            s.record(Mnemonic::Popcnt, rip);
        }
        let counts = s.counts.lock().unwrap();
        assert_eq!((counts.by_rip.len(), counts.other_rips), (MAX_RIPS, 10));
    }

    #[test]
    fn test_powers_of_ten() {
        assert!(is_power_of_ten(1) && is_power_of_ten(10) && is_power_of_ten(1000));
        assert!(!is_power_of_ten(0) && !is_power_of_ten(20) && !is_power_of_ten(101));
    }
}
