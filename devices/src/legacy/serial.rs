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

/// A byte register of a byte-wide device: a wider access touches the next
/// registers too, as on an ISA bus. None past the device's 8 registers.
fn register(offset: u64, index: usize) -> Option<u8> {
    offset
        .checked_add(index as u64)
        .filter(|o| *o < COM1_PORT_LEN)
        .and_then(|o| u8::try_from(o).ok())
}

impl<W: Write + Send> BusDevice for Serial<W> {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = register(offset, i).map_or(0xff, |r| self.inner.read(r));
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        for (i, value) in data.iter().enumerate() {
            if let Some(r) = register(offset, i) {
                // A failed write to the host's stdout or interrupt eventfd must
                // not stop the guest; the byte is dropped like on a cut line.
                let _ = self.inner.write(r, *value);
            }
        }
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
    fn test_serial_word_write_reaches_two_registers() {
        let mut s = serial();
        s.write(3, &[0x80, 0x00]); // LCR = DLAB, then MCR
        s.write(0, &[0x0c]); // divisor latch low, not THR
        let mut lcr = [0u8];
        s.read(3, &mut lcr);
        assert_eq!(lcr[0], 0x80);
        assert!(s.writer().is_empty(), "DLAB set: no byte transmitted");
    }

    #[test]
    fn test_serial_out_of_range_offset_is_ignored() {
        let mut s = serial();
        s.write(0x1_0000, b"a");
        assert!(s.writer().is_empty());
    }
}
