//! The COM1 16550 UART, on vm-superio's model.

use std::io::Write;

use vm_superio::{serial::NoEvents, Trigger};
use vmm_sys_util::eventfd::EventFd;

use crate::BusDevice;

/// COM1's first port.
pub const COM1_PORT_BASE: u64 = 0x3f8;
/// A 16550 has eight registers.
pub const COM1_PORT_LEN: u64 = 8;
/// COM1's ISA interrupt line.
pub const COM1_IRQ: u32 = 4;

/// An interrupt line backed by an eventfd (the VMM registers it as a KVM irqfd).
#[derive(Debug)]
pub struct EventFdTrigger(pub EventFd);

impl Trigger for EventFdTrigger {
    type E = std::io::Error;
    fn trigger(&self) -> std::io::Result<()> {
        self.0.write(1)
    }
}

/// A 16550 UART writing the guest's output to `W`.
pub struct Serial<W: Write + Send> {
    inner: vm_superio::Serial<EventFdTrigger, NoEvents, W>,
}

impl<W: Write + Send> std::fmt::Debug for Serial<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serial").finish_non_exhaustive()
    }
}

impl<W: Write + Send> Serial<W> {
    /// A UART raising `interrupt` and writing transmitted bytes to `out`.
    pub fn new(interrupt: EventFdTrigger, out: W) -> Self {
        Self {
            inner: vm_superio::Serial::new(interrupt, out),
        }
    }

    /// Queues host input for the guest to read; returns how many bytes fit in the FIFO.
    pub fn enqueue_input(&mut self, input: &[u8]) -> std::io::Result<usize> {
        self.inner
            .enqueue_raw_bytes(input)
            .map_err(|e| std::io::Error::other(format!("{e:?}")))
    }

    /// The output writer.
    pub fn writer(&self) -> &W {
        self.inner.writer()
    }
}

impl<W: Write + Send> BusDevice for Serial<W> {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let value = u8::try_from(offset).map_or(0xff, |o| self.inner.read(o));
        data.fill(value);
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        let (Ok(offset), Some(value)) = (u8::try_from(offset), data.first()) else {
            return;
        };
        // A failed write to the host's stdout or interrupt eventfd must not
        // stop the guest; the byte is dropped like on a disconnected line.
        let _ = self.inner.write(offset, *value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmm_sys_util::eventfd::EFD_NONBLOCK;

    fn serial() -> Serial<Vec<u8>> {
        let evt = EventFd::new(EFD_NONBLOCK).unwrap();
        Serial::new(EventFdTrigger(evt), Vec::new())
    }

    #[test]
    fn test_serial_thr_write_reaches_output() {
        let mut s = serial();
        for b in b"hi\n" {
            s.write(0, &[*b]);
        }
        assert_eq!(s.writer(), b"hi\n");
    }

    #[test]
    fn test_serial_lsr_reports_transmitter_empty() {
        let mut s = serial();
        let mut lsr = [0u8];
        s.read(5, &mut lsr);
        assert_eq!(lsr[0] & 0x60, 0x60, "THRE and TEMT set");
    }

    #[test]
    fn test_serial_input_is_readable_from_rbr() {
        let mut s = serial();
        assert_eq!(s.enqueue_input(b"x").unwrap(), 1);
        let mut lsr = [0u8];
        s.read(5, &mut lsr);
        assert_eq!(lsr[0] & 1, 1, "data ready");
        let mut rbr = [0u8];
        s.read(0, &mut rbr);
        assert_eq!(rbr[0], b'x');
    }

    #[test]
    fn test_serial_out_of_range_offset_is_ignored() {
        let mut s = serial();
        s.write(0x1_0000, b"a");
        assert!(s.writer().is_empty());
    }
}
