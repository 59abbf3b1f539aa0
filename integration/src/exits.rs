//! The VMM's `--timings` counters, for the benchmarks that count what a
//! guest operation costs in VM exits: boot once with 0 operations and once
//! with N, and divide the difference by N.

use std::path::Path;
use std::process::Command;

/// Exit counters and run time from `vmm exits:` and `vmm timings:` lines.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Exits {
    /// MMIO reads the VMM answered.
    pub mmio_read: f64,
    /// MMIO writes the VMM took.
    pub mmio_write: f64,
    /// Port I/O exits.
    pub pio: f64,
    /// Other exits (emulation failures the fallback completed, ...).
    pub other: f64,
    /// `exit_ms`: the VM's run time.
    pub exit_ms: f64,
}

fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))?
        .parse()
        .ok()
}

impl Exits {
    /// Reads the counters from the VMM's stderr.
    pub fn parse(stderr: &str) -> Option<Self> {
        let exits = stderr.lines().find(|l| l.starts_with("vmm exits: "))?;
        let timings = stderr.lines().find(|l| l.starts_with("vmm timings: "))?;
        Some(Self {
            mmio_read: field(exits, "mmio_read")?,
            mmio_write: field(exits, "mmio_write")?,
            pio: field(exits, "pio")?,
            other: field(exits, "other")?,
            exit_ms: field(timings, "exit_ms")?,
        })
    }

    /// (self - base) / n, field by field.
    pub fn per_op(self, base: Self, n: f64) -> Self {
        Self {
            mmio_read: (self.mmio_read - base.mmio_read) / n,
            mmio_write: (self.mmio_write - base.mmio_write) / n,
            pio: (self.pio - base.pio) / n,
            other: (self.other - base.other) / n,
            exit_ms: (self.exit_ms - base.exit_ms) / n,
        }
    }

    /// Exits that device work costs: MMIO plus other (PIO is the console).
    pub fn device(self) -> f64 {
        self.mmio_read + self.mmio_write + self.other
    }
}

/// Boots `kernel` under `vmm` with `--timings`, `cmdline` and `extra`
/// arguments and environment; panics (with the output) unless it exits 0.
/// Returns the counters and the console.
pub fn boot_counting(
    vmm: &Path,
    kernel: &Path,
    cmdline: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> (Exits, String) {
    let out = Command::new(vmm)
        .arg("--kernel")
        .arg(kernel)
        .args(["--cmdline", cmdline, "--timings", "--timeout", "300"])
        .args(extra)
        .envs(envs.iter().copied())
        .output()
        .expect("running the VMM");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(0),
        "`{cmdline}` failed:\n{stdout}{stderr}"
    );
    let exits = Exits::parse(&stderr).expect("no `vmm exits:` line");
    (exits, stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_and_divide() {
        let stderr = "vmm timings: first_output_ms=1.0 exit_ms=30.5 peak_rss_kib=1\n\
                      vmm exits: mmio_read=10 mmio_write=20 pio=5 hlt=0 other=4\n";
        let with = Exits::parse(stderr).unwrap();
        assert_eq!(with.exit_ms, 30.5);
        let base = Exits {
            mmio_read: 10.0,
            mmio_write: 10.0,
            pio: 5.0,
            other: 0.0,
            exit_ms: 10.5,
        };
        let per = with.per_op(base, 2.0);
        assert_eq!((per.mmio_write, per.other, per.exit_ms), (5.0, 2.0, 10.0));
        assert_eq!(per.device(), 7.0);
        assert!(Exits::parse("nothing").is_none());
    }
}
