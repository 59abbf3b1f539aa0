//! Counters per mnemonic and per RIP, shared by all vCPUs, with a log line
//! at the 1st, 10th, 100th, ... completion of each mnemonic.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use iced_x86::Mnemonic;

/// How many RIPs the report lists.
const TOP_RIPS: usize = 5;

#[derive(Debug, Default)]
struct Counts {
    by_mnemonic: BTreeMap<String, u64>,
    by_rip: HashMap<u64, (Mnemonic, u64)>,
}

/// Fallback counters.
#[derive(Debug, Default)]
pub struct FallbackStats {
    counts: Mutex<Counts>,
}

impl FallbackStats {
    /// Counts one completion of `mnemonic` at `rip`; logs at powers of ten.
    pub fn record(&self, mnemonic: Mnemonic, rip: u64) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let name = format!("{mnemonic:?}").to_lowercase();
        let total = counts.by_mnemonic.entry(name.clone()).or_default();
        *total += 1;
        let total = *total;
        counts.by_rip.entry(rip).or_insert((mnemonic, 0)).1 += 1;
        if is_power_of_ten(total) {
            eprintln!("vmm: fallback: completed {name} (#{total}) at rip {rip:#x}");
        }
    }

    /// `vmm fallback: int3=1 popcnt=40; top rips: 0x...=popcnt*30, ...`, or
    /// None when nothing needed the fallback.
    pub fn report(&self) -> Option<String> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.by_mnemonic.is_empty() {
            return None;
        }
        let totals: Vec<String> = counts
            .by_mnemonic
            .iter()
            .map(|(m, n)| format!("{m}={n}"))
            .collect();
        let mut rips: Vec<(&u64, &(Mnemonic, u64))> = counts.by_rip.iter().collect();
        rips.sort_by(|a, b| b.1 .1.cmp(&a.1 .1).then(a.0.cmp(b.0)));
        let top: Vec<String> = rips
            .iter()
            .take(TOP_RIPS)
            .map(|(rip, (m, n))| format!("{rip:#x}={}*{n}", format!("{m:?}").to_lowercase()))
            .collect();
        Some(format!(
            "vmm fallback: {}; top rips: {}",
            totals.join(" "),
            top.join(" ")
        ))
    }
}

fn is_power_of_ten(mut n: u64) -> bool {
    while n >= 10 && n % 10 == 0 {
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
    fn test_powers_of_ten() {
        assert!(is_power_of_ten(1) && is_power_of_ten(10) && is_power_of_ten(1000));
        assert!(!is_power_of_ten(0) && !is_power_of_ten(20) && !is_power_of_ten(101));
    }
}
