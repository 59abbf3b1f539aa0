//! `--trace`: every device register access, one line each on stderr, for
//! the devices whose name contains one of the requested filters.

use std::io::Write;

use devices::trace::{format_value, Access, AccessObserver, Direction, Space};

/// Prints accesses of the selected devices.
#[derive(Debug)]
pub struct StderrTracer {
    /// Substrings of device names to trace; empty traces every device.
    filters: Vec<String>,
}

impl StderrTracer {
    /// A tracer for devices matching any of `filters` (all if empty).
    pub fn new(filters: Vec<String>) -> Self {
        let filters = filters.into_iter().filter(|f| !f.is_empty()).collect();
        Self { filters }
    }
}

/// One trace line: `trace: <device> <space>+<offset> <r|w><size> <value>`.
pub fn format_access(access: &Access<'_>) -> String {
    let space = match access.space {
        Space::Bus => "reg".to_owned(),
        Space::Config => "cfg".to_owned(),
        Space::Bar(n) => format!("bar{n}"),
    };
    let direction = match access.direction {
        Direction::Read => 'r',
        Direction::Write => 'w',
    };
    format!(
        "trace: {} {space}+{:#x} {direction}{} {}",
        access.device,
        access.offset,
        access.data.len(),
        format_value(access.data)
    )
}

impl AccessObserver for StderrTracer {
    fn wants(&self, device: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| device.contains(f.as_str()))
    }

    fn observe(&self, access: &Access<'_>) {
        let line = format_access(access);
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_trace_line_names_device_space_size_and_value() {
        let access = Access {
            device: "01:00.0 virtio-blk",
            space: Space::Bar(0),
            offset: 0x14,
            data: &[0x0f],
            direction: Direction::Write,
        };
        assert_eq!(
            format_access(&access),
            "trace: 01:00.0 virtio-blk bar0+0x14 w1 0x0f"
        );
    }

    #[test]
    fn test_filters_select_by_substring() {
        let tracer = StderrTracer::new(vec!["virtio".into()]);
        assert!(tracer.wants("01:00.0 virtio-blk"));
        assert!(!tracer.wants("serial"));
        assert!(StderrTracer::new(vec![String::new()]).wants("serial"));
    }
}
