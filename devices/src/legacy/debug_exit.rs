//! An isa-debug-exit-style port: any write ends the VM with the written value.

use std::sync::Arc;

use crate::{BusDevice, StopRequest, StopSink};

/// The port QEMU's `isa-debug-exit,iobase=0xf4` uses, which guests already know.
pub const DEBUG_EXIT_PORT: u64 = 0xf4;
/// Width of the port range (a 32-bit `out` is accepted).
pub const DEBUG_EXIT_PORT_LEN: u64 = 4;

/// The debug-exit device.
pub struct DebugExit {
    sink: Arc<dyn StopSink>,
}

impl std::fmt::Debug for DebugExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DebugExit").finish_non_exhaustive()
    }
}

impl DebugExit {
    /// A debug-exit port reporting to `sink`.
    pub fn new(sink: Arc<dyn StopSink>) -> Self {
        Self { sink }
    }
}

impl BusDevice for DebugExit {
    fn read(&mut self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }

    /// The value is the write's bytes, little-endian (an 8-, 16- or 32-bit `out`).
    fn write(&mut self, _offset: u64, data: &[u8]) {
        let value = data
            .iter()
            .take(4)
            .rev()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        self.sink.request_stop(StopRequest::DebugExit(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Collect;

    #[test]
    fn test_debug_exit_byte_write_requests_stop_with_value() {
        let sink = Arc::new(Collect::default());
        let mut dev = DebugExit::new(sink.clone());
        dev.write(0, &[0x11]);
        assert_eq!(*sink.0.lock().unwrap(), vec![StopRequest::DebugExit(0x11)]);
    }

    #[test]
    fn test_debug_exit_dword_write_is_little_endian() {
        let sink = Arc::new(Collect::default());
        let mut dev = DebugExit::new(sink.clone());
        dev.write(0, &[0x01, 0x02, 0x00, 0x00]);
        assert_eq!(*sink.0.lock().unwrap(), vec![StopRequest::DebugExit(0x201)]);
    }
}
