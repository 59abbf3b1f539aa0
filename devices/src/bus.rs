//! An address-range bus that dispatches guest accesses (port I/O or MMIO)
//! to the device owning the range.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use thiserror::Error;

/// A device reachable through a [`Bus`].
pub trait BusDevice: Send {
    /// Handles a read of `data.len()` bytes at `offset` into the device's range.
    fn read(&mut self, offset: u64, data: &mut [u8]);
    /// Handles a write of `data` at `offset` into the device's range.
    fn write(&mut self, offset: u64, data: &[u8]);
}

/// A shared device is a device: wrappers (such as a tracer) can hold the
/// same device another part of the VMM also holds.
impl<T: BusDevice + ?Sized> BusDevice for Arc<Mutex<T>> {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        self.lock()
            .unwrap_or_else(|p| p.into_inner())
            .read(offset, data);
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        self.lock()
            .unwrap_or_else(|p| p.into_inner())
            .write(offset, data);
    }
}

/// Errors from building a bus.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BusError {
    /// The range is empty or wraps around the address space.
    #[error("invalid bus range {base:#x}+{len:#x}")]
    InvalidRange {
        /// First address of the rejected range.
        base: u64,
        /// Length of the rejected range.
        len: u64,
    },
    /// The range overlaps one already on the bus.
    #[error("bus range {base:#x}+{len:#x} overlaps an existing device")]
    Overlap {
        /// First address of the rejected range.
        base: u64,
        /// Length of the rejected range.
        len: u64,
    },
}

/// A shared, lockable device on a bus.
pub type SharedDevice = Arc<Mutex<dyn BusDevice>>;

struct Slot {
    len: u64,
    device: SharedDevice,
}

/// Maps non-overlapping address ranges to devices.
#[derive(Default)]
pub struct Bus {
    slots: BTreeMap<u64, Slot>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ranges: Vec<_> = self.slots.iter().map(|(b, s)| (*b, s.len)).collect();
        f.debug_struct("Bus").field("ranges", &ranges).finish()
    }
}

impl Bus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Places `device` at `[base, base + len)`.
    pub fn insert(&mut self, base: u64, len: u64, device: SharedDevice) -> Result<(), BusError> {
        let end = base
            .checked_add(len)
            .filter(|_| len > 0)
            .ok_or(BusError::InvalidRange { base, len })?;
        let overlaps_prev = self
            .slots
            .range(..end)
            .next_back()
            .is_some_and(|(b, s)| b + s.len > base);
        if overlaps_prev {
            return Err(BusError::Overlap { base, len });
        }
        self.slots.insert(base, Slot { len, device });
        Ok(())
    }

    fn find(&self, addr: u64) -> Option<(u64, &SharedDevice)> {
        let (base, slot) = self.slots.range(..=addr).next_back()?;
        let offset = addr - base;
        (offset < slot.len).then_some((offset, &slot.device))
    }

    /// Dispatches a read; returns false (and fills `data` with 0xff, as an
    /// unclaimed ISA/PCI read does) when no device owns `addr`.
    pub fn read(&self, addr: u64, data: &mut [u8]) -> bool {
        match self.find(addr) {
            Some((offset, device)) => {
                lock(device).read(offset, data);
                true
            }
            None => {
                data.fill(0xff);
                false
            }
        }
    }

    /// Dispatches a write; returns false when no device owns `addr`.
    pub fn write(&self, addr: u64, data: &[u8]) -> bool {
        match self.find(addr) {
            Some((offset, device)) => {
                lock(device).write(offset, data);
                true
            }
            None => false,
        }
    }
}

/// Locks a device, recovering it if another thread panicked while holding it:
/// device state stays usable and the VMM keeps running.
fn lock(device: &SharedDevice) -> std::sync::MutexGuard<'_, dyn BusDevice + 'static> {
    device
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        last_write: Option<(u64, Vec<u8>)>,
    }

    impl BusDevice for Recorder {
        fn read(&mut self, offset: u64, data: &mut [u8]) {
            data.fill(offset as u8);
        }
        fn write(&mut self, offset: u64, data: &[u8]) {
            self.last_write = Some((offset, data.to_vec()));
        }
    }

    fn recorder() -> Arc<Mutex<Recorder>> {
        Arc::new(Mutex::new(Recorder::default()))
    }

    #[test]
    fn test_bus_read_inside_range_passes_offset() {
        let mut bus = Bus::new();
        bus.insert(0x3f8, 8, recorder()).unwrap();
        let mut data = [0u8; 1];
        assert!(bus.read(0x3fd, &mut data));
        assert_eq!(data, [5]);
    }

    #[test]
    fn test_bus_unclaimed_read_returns_all_ones() {
        let bus = Bus::new();
        let mut data = [0u8; 4];
        assert!(!bus.read(0x80, &mut data));
        assert_eq!(data, [0xff; 4]);
    }

    #[test]
    fn test_bus_write_reaches_device_with_offset() {
        let mut bus = Bus::new();
        let dev = recorder();
        bus.insert(0xf4, 4, dev.clone()).unwrap();
        assert!(bus.write(0xf6, &[7]));
        assert!(!bus.write(0xf8, &[7]));
        assert_eq!(dev.lock().unwrap().last_write, Some((2, vec![7])));
    }

    #[test]
    fn test_bus_insert_overlap_is_rejected() {
        let mut bus = Bus::new();
        bus.insert(0x100, 0x10, recorder()).unwrap();
        assert_eq!(
            bus.insert(0x10f, 1, recorder()),
            Err(BusError::Overlap {
                base: 0x10f,
                len: 1
            })
        );
        assert_eq!(
            bus.insert(0xf8, 0x9, recorder()),
            Err(BusError::Overlap {
                base: 0xf8,
                len: 0x9
            })
        );
        bus.insert(0x110, 1, recorder()).unwrap();
        bus.insert(0xf0, 0x10, recorder()).unwrap();
    }

    #[test]
    fn test_bus_insert_empty_or_wrapping_range_is_rejected() {
        let mut bus = Bus::new();
        assert!(matches!(
            bus.insert(0, 0, recorder()),
            Err(BusError::InvalidRange { .. })
        ));
        assert!(matches!(
            bus.insert(u64::MAX, 2, recorder()),
            Err(BusError::InvalidRange { .. })
        ));
    }
}
