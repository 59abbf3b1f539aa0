//! Counts of the vCPU exits the VMM handled, by kind, for `--timings`
//! (and `make bench`, which divides them by the work the guest did).

use std::sync::atomic::{AtomicU64, Ordering};

/// Exit counters shared by all vCPU threads.
#[derive(Debug, Default)]
pub struct ExitStats {
    mmio_read: AtomicU64,
    mmio_write: AtomicU64,
    pio: AtomicU64,
    hlt: AtomicU64,
    other: AtomicU64,
}

/// The kinds counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// An MMIO read the VMM answered.
    MmioRead,
    /// An MMIO write the VMM took.
    MmioWrite,
    /// A port I/O exit (one per exit, however many elements).
    Pio,
    /// A HLT exit.
    Hlt,
    /// Anything else (emulation failures, system events, ...).
    Other,
}

impl ExitStats {
    /// Counts one exit of `kind`.
    pub fn count(&self, kind: ExitKind) {
        let counter = match kind {
            ExitKind::MmioRead => &self.mmio_read,
            ExitKind::MmioWrite => &self.mmio_write,
            ExitKind::Pio => &self.pio,
            ExitKind::Hlt => &self.hlt,
            ExitKind::Other => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The line `--timings` prints.
    pub fn report(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "vmm exits: mmio_read={} mmio_write={} pio={} hlt={} other={}",
            get(&self.mmio_read),
            get(&self.mmio_write),
            get(&self.pio),
            get(&self.hlt),
            get(&self.other)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_exit_stats_count_by_kind() {
        let stats = ExitStats::default();
        stats.count(ExitKind::MmioWrite);
        stats.count(ExitKind::MmioWrite);
        stats.count(ExitKind::Pio);
        assert_eq!(
            stats.report(),
            "vmm exits: mmio_read=0 mmio_write=2 pio=1 hlt=0 other=0"
        );
    }
}
