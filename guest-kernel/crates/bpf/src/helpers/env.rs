//! What helpers need from the kernel around them.

use alloc::string::String;
use alloc::vec::Vec;

/// Services the run-time side of helpers calls on.
pub trait HelperEnv {
    /// Monotonic nanoseconds (`bpf_ktime_get_ns`).
    fn ktime_get_ns(&mut self) -> u64;
    /// A pseudo-random number (`bpf_get_prandom_u32`).
    fn prandom_u32(&mut self) -> u32;
    /// The CPU the program runs on (per-CPU maps).
    fn cpu(&self) -> u32;
    /// One line of `bpf_trace_printk` output.
    fn trace(&mut self, line: &str);
}

/// A deterministic environment: a clock that advances 1000 ns per read, an
/// xorshift generator, CPU 0, and trace lines collected in memory.
#[derive(Clone, Debug)]
pub struct TestEnv {
    /// Next clock value.
    pub now_ns: u64,
    /// Generator state (never 0).
    pub seed: u64,
    /// CPU reported to per-CPU maps.
    pub cpu: u32,
    /// Lines printed so far.
    pub trace: Vec<String>,
}

impl Default for TestEnv {
    fn default() -> TestEnv {
        TestEnv {
            now_ns: 1_000_000,
            seed: 0x9e37_79b9_7f4a_7c15,
            cpu: 0,
            trace: Vec::new(),
        }
    }
}

impl HelperEnv for TestEnv {
    fn ktime_get_ns(&mut self) -> u64 {
        self.now_ns += 1000;
        self.now_ns
    }

    fn prandom_u32(&mut self) -> u32 {
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.seed = x;
        (x >> 32) as u32
    }

    fn cpu(&self) -> u32 {
        self.cpu
    }

    fn trace(&mut self, line: &str) {
        self.trace.push(String::from(line));
    }
}
