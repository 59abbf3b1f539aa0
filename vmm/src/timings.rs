//! Start-up timings: process start to the guest's first serial byte and to
//! the VM's end (when the VMM sees the guest stop; KVM's own tear-down of the
//! VM, ~20 ms on kvm-pvm, comes after and is left out).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Milestones measured from the VMM's start.
#[derive(Debug)]
pub struct Timings {
    start: Instant,
    first_output: OnceLock<Duration>,
    vm_end: OnceLock<Duration>,
}

impl Timings {
    /// Starts the clock.
    pub fn start_now() -> Self {
        Self {
            start: Instant::now(),
            first_output: OnceLock::new(),
            vm_end: OnceLock::new(),
        }
    }

    /// When the clock started.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Notes the guest's first serial byte (later calls are ignored).
    pub fn mark_output(&self) {
        self.first_output.get_or_init(|| self.start.elapsed());
    }

    /// Notes that the VM has ended (later calls are ignored).
    pub fn mark_vm_end(&self) {
        self.vm_end.get_or_init(|| self.start.elapsed());
    }

    /// The one-line report printed by `--timings`.
    pub fn report(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let first = self
            .first_output
            .get()
            .map_or_else(|| "none".to_string(), |d| format!("{:.3}", ms(*d)));
        let rss = peak_rss_kib().map_or_else(|| "unknown".to_string(), |k| k.to_string());
        format!(
            "vmm timings: first_output_ms={first} exit_ms={:.3} peak_rss_kib={rss}",
            ms(self
                .vm_end
                .get()
                .copied()
                .unwrap_or_else(|| self.start.elapsed()))
        )
    }
}

/// The process's peak resident set size in KiB.
fn peak_rss_kib() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `struct rusage` into the pointer we pass,
    // which points at enough zeroed memory for one.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: getrusage returned 0, so it filled the struct.
    let usage = unsafe { usage.assume_init() };
    u64::try_from(usage.ru_maxrss).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_report_without_output_says_none() {
        let t = Timings::start_now();
        let r = t.report();
        assert!(
            r.starts_with("vmm timings: first_output_ms=none exit_ms="),
            "{r}"
        );
        assert!(!r.contains("peak_rss_kib=unknown"));
    }

    #[test]
    fn test_first_output_is_recorded_once() {
        let t = Timings::start_now();
        t.mark_output();
        let first = *t.first_output.get().unwrap();
        std::thread::sleep(Duration::from_millis(2));
        t.mark_output();
        assert_eq!(*t.first_output.get().unwrap(), first);
    }
}
