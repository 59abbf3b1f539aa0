//! Facts about the host the VMM runs on.

use std::fs;

/// The host's total RAM in bytes, from /proc/meminfo.
pub fn total_ram() -> Option<u64> {
    parse_mem_total(&fs::read_to_string("/proc/meminfo").ok()?)
}

fn parse_mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_mem_total_reads_kib() {
        let text = "MemFree: 1 kB\nMemTotal:       24576000 kB\n";
        assert_eq!(parse_mem_total(text), Some(24_576_000 * 1024));
    }

    #[test]
    fn test_parse_mem_total_missing_is_none() {
        assert_eq!(parse_mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn test_total_ram_is_known_on_linux() {
        assert!(total_ram().unwrap() > 0);
    }
}
