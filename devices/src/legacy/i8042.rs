//! The i8042 keyboard controller, reduced to what a VMM needs: the CPU reset
//! line (command 0xfe on port 0x64), which real PCs and Linux use to reboot.

use std::sync::Arc;

use vm_superio::{I8042Device, Trigger};

use crate::{BusDevice, StopRequest, StopSink};

/// First port of the controller (data port 0x60; command/status at 0x64).
pub const I8042_PORT_BASE: u64 = 0x60;
/// The controller spans 0x60..=0x64.
pub const I8042_PORT_LEN: u64 = 5;

/// Turns vm-superio's reset event into a stop request.
struct ResetToStop(Arc<dyn StopSink>);

impl Trigger for ResetToStop {
    type E = std::convert::Infallible;
    fn trigger(&self) -> Result<(), Self::E> {
        self.0.request_stop(StopRequest::Reset);
        Ok(())
    }
}

/// The i8042 device on the port bus.
pub struct I8042 {
    inner: I8042Device<ResetToStop>,
}

impl std::fmt::Debug for I8042 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I8042").finish_non_exhaustive()
    }
}

impl I8042 {
    /// An i8042 whose reset command is reported to `sink`.
    pub fn new(sink: Arc<dyn StopSink>) -> Self {
        Self {
            inner: I8042Device::new(ResetToStop(sink)),
        }
    }
}

impl BusDevice for I8042 {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let value = u8::try_from(offset).map_or(0, |o| self.inner.read(o));
        data.fill(value);
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        if let (Ok(offset), Some(value)) = (u8::try_from(offset), data.first()) {
            // The trigger cannot fail (Infallible).
            let _ = self.inner.write(offset, *value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Collect;

    #[test]
    fn test_i8042_reset_command_requests_reset() {
        let sink = Arc::new(Collect::default());
        let mut dev = I8042::new(sink.clone());
        dev.write(4, &[0xfe]);
        assert_eq!(*sink.0.lock().unwrap(), vec![StopRequest::Reset]);
    }

    #[test]
    fn test_i8042_other_writes_do_nothing() {
        let sink = Arc::new(Collect::default());
        let mut dev = I8042::new(sink.clone());
        dev.write(4, &[0xd1]);
        dev.write(0, &[0xfe]);
        dev.write(0x1_0000_0004, &[0xfe]);
        assert!(sink.0.lock().unwrap().is_empty());
    }
}
