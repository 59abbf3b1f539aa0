//! Register-access tracing: every guest read or write of a device register
//! can be reported to an observer (the VMM's `--trace`), with the device's
//! name, the space (I/O port, MMIO, PCI config, a BAR), the offset, the
//! size and the value.

use std::sync::Arc;

use crate::BusDevice;

/// Which of a device's register spaces an access went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// A port-I/O or MMIO range on a bus (offset from the range's start).
    Bus,
    /// PCI configuration space.
    Config,
    /// A PCI base address register's region.
    Bar(u8),
}

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The guest read the register.
    Read,
    /// The guest wrote the register.
    Write,
}

/// One register access as the guest made it.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// The device's name (e.g. `serial`, `00:01.0 virtio-blk`).
    pub device: &'a str,
    /// The register space.
    pub space: Space,
    /// Offset into the space.
    pub offset: u64,
    /// The bytes read (after the device answered) or written.
    pub data: &'a [u8],
    /// Read or write.
    pub direction: Direction,
}

/// Receives accesses; implemented by the VMM.
pub trait AccessObserver: Send + Sync {
    /// Whether accesses to `device` are wanted (checked once per access
    /// before anything is formatted).
    fn wants(&self, device: &str) -> bool;
    /// Records one access.
    fn observe(&self, access: &Access<'_>);
}

/// A bus device that reports every access to an observer.
pub struct Traced<D> {
    name: String,
    inner: D,
    observer: Arc<dyn AccessObserver>,
}

impl<D> Traced<D> {
    /// Wraps `inner`, naming it `name` in traces.
    pub fn new(name: impl Into<String>, inner: D, observer: Arc<dyn AccessObserver>) -> Self {
        Self {
            name: name.into(),
            inner,
            observer,
        }
    }
}

impl<D: BusDevice> BusDevice for Traced<D> {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        self.inner.read(offset, data);
        if self.observer.wants(&self.name) {
            self.observer.observe(&Access {
                device: &self.name,
                space: Space::Bus,
                offset,
                data,
                direction: Direction::Read,
            });
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        if self.observer.wants(&self.name) {
            self.observer.observe(&Access {
                device: &self.name,
                space: Space::Bus,
                offset,
                data,
                direction: Direction::Write,
            });
        }
        self.inner.write(offset, data);
    }
}

/// Formats a little-endian access value as hex (up to 8 bytes; longer
/// accesses print their bytes).
pub fn format_value(data: &[u8]) -> String {
    if data.len() <= 8 {
        let mut bytes = [0u8; 8];
        bytes[..data.len()].copy_from_slice(data);
        format!(
            "{:#0width$x}",
            u64::from_le_bytes(bytes),
            width = 2 + 2 * data.len()
        )
    } else {
        data.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl AccessObserver for Log {
        fn wants(&self, device: &str) -> bool {
            device != "quiet"
        }
        fn observe(&self, a: &Access<'_>) {
            self.0.lock().unwrap().push(format!(
                "{} {:?} {:?} {:#x} {}",
                a.device,
                a.direction,
                a.space,
                a.offset,
                format_value(a.data)
            ));
        }
    }

    struct Fixed;
    impl BusDevice for Fixed {
        fn read(&mut self, _: u64, data: &mut [u8]) {
            data.fill(0x42);
        }
        fn write(&mut self, _: u64, _: &[u8]) {}
    }

    #[test]
    fn test_traced_device_reports_reads_with_answer_and_writes() {
        let log = Arc::new(Log::default());
        let mut dev = Traced::new("uart", Fixed, log.clone());
        let mut two = [0u8; 2];
        dev.read(5, &mut two);
        dev.write(1, &[0x0f]);
        let mut quiet = Traced::new("quiet", Fixed, log.clone());
        quiet.write(0, &[1]);
        assert_eq!(
            *log.0.lock().unwrap(),
            vec!["uart Read Bus 0x5 0x4242", "uart Write Bus 0x1 0x0f"]
        );
    }

    #[test]
    fn test_format_value_widths() {
        assert_eq!(format_value(&[0x1]), "0x01");
        assert_eq!(format_value(&[0x78, 0x56, 0x34, 0x12]), "0x12345678");
        assert_eq!(format_value(&[0xab; 9]), "ababababababababab");
    }
}
