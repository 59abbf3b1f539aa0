//! Device models for the VMM.
//!
//! Nothing here touches KVM: a model sees register reads and writes through
//! [`BusDevice`], and reports VM-level events (a debug-exit write, a reset
//! request) through [`StopSink`]. So every model unit-tests on any host.

#![forbid(unsafe_code)]

pub mod bus;
pub mod iaa;
pub mod legacy;
pub mod pci;
pub mod qat;
#[cfg(test)]
mod test_util;
pub mod trace;
pub mod virtio;

pub use bus::{Bus, BusDevice, BusError};

/// Why a device asks the VMM to stop the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
    /// The guest wrote `value` to the debug-exit port.
    DebugExit(u32),
    /// The guest asked for a system reset (i8042 command 0xfe, ACPI reset register).
    Reset,
    /// The guest powered the machine off (ACPI S5).
    PowerOff,
}

/// Receives stop requests from devices; implemented by the VMM.
pub trait StopSink: Send + Sync {
    /// Records `request`; the VMM stops the guest as soon as it can.
    fn request_stop(&self, request: StopRequest);
}
