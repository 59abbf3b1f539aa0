//! ACPI power management for a hardware-reduced platform: the FADT's sleep
//! control/status registers and reset register, as three I/O ports.
//! Writing SLP_EN with the `_S5` sleep type powers the machine off (Linux's
//! `acpi_hw_extended_sleep`); writing the reset value resets it.

use std::sync::Arc;

use crate::{BusDevice, StopRequest, StopSink};

/// First port: sleep control (+0), sleep status (+1), reset (+2).
pub const ACPI_PM_PORT_BASE: u64 = 0x3c0;
/// Number of ports.
pub const ACPI_PM_PORT_LEN: u64 = 3;
/// Offset of the sleep control register.
pub const SLEEP_CONTROL_OFFSET: u64 = 0;
/// Offset of the sleep status register.
pub const SLEEP_STATUS_OFFSET: u64 = 1;
/// Offset of the reset register.
pub const RESET_OFFSET: u64 = 2;
/// The sleep type the DSDT's `_S5` object names (soft off).
pub const S5_SLEEP_TYPE: u8 = 5;
/// The value the FADT tells the guest to write to the reset register.
pub const RESET_VALUE: u8 = 1;
/// Sleep control: SLP_EN.
const SLP_EN: u8 = 1 << 5;
/// Sleep control: SLP_TYP field.
const SLP_TYP_SHIFT: u8 = 2;
const SLP_TYP_MASK: u8 = 0x7;

/// The power-management ports.
pub struct AcpiPm {
    sink: Arc<dyn StopSink>,
}

impl std::fmt::Debug for AcpiPm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcpiPm").finish_non_exhaustive()
    }
}

impl AcpiPm {
    /// Ports reporting power-off and reset to `sink`.
    pub fn new(sink: Arc<dyn StopSink>) -> Self {
        Self { sink }
    }
}

impl BusDevice for AcpiPm {
    /// Nothing to read: no wake status, no pending sleep.
    fn read(&mut self, _offset: u64, data: &mut [u8]) {
        data.fill(0);
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        let Some(&value) = data.first() else { return };
        match offset {
            SLEEP_CONTROL_OFFSET
                if value & SLP_EN != 0
                    && (value >> SLP_TYP_SHIFT) & SLP_TYP_MASK == S5_SLEEP_TYPE =>
            {
                self.sink.request_stop(StopRequest::PowerOff);
            }
            RESET_OFFSET if value == RESET_VALUE => self.sink.request_stop(StopRequest::Reset),
            // Other sleep states are not offered (no _S1.._S4); status
            // writes only clear bits that are never set.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::Collect;

    fn device() -> (AcpiPm, Arc<Collect>) {
        let sink = Arc::new(Collect::default());
        (AcpiPm::new(sink.clone()), sink)
    }

    #[test]
    fn test_slp_en_with_s5_type_powers_off() {
        let (mut dev, sink) = device();
        dev.write(SLEEP_CONTROL_OFFSET, &[(S5_SLEEP_TYPE << 2) | SLP_EN]);
        assert_eq!(*sink.0.lock().unwrap(), vec![StopRequest::PowerOff]);
    }

    #[test]
    fn test_other_sleep_writes_do_nothing() {
        let (mut dev, sink) = device();
        dev.write(SLEEP_CONTROL_OFFSET, &[S5_SLEEP_TYPE << 2]); // no SLP_EN
        dev.write(SLEEP_CONTROL_OFFSET, &[(3 << 2) | SLP_EN]); // S3
        dev.write(SLEEP_STATUS_OFFSET, &[0xff]);
        dev.write(SLEEP_CONTROL_OFFSET, &[]);
        assert!(sink.0.lock().unwrap().is_empty());
    }

    #[test]
    fn test_reset_register_resets_only_with_reset_value() {
        let (mut dev, sink) = device();
        dev.write(RESET_OFFSET, &[0xfe]);
        dev.write(RESET_OFFSET, &[RESET_VALUE]);
        assert_eq!(*sink.0.lock().unwrap(), vec![StopRequest::Reset]);
    }

    #[test]
    fn test_reads_return_zero() {
        let (mut dev, _) = device();
        let mut data = [0xaa; 2];
        dev.read(SLEEP_STATUS_OFFSET, &mut data);
        assert_eq!(data, [0, 0]);
    }
}
