//! The PCI functions of this machine, enumerated once through the ECAM
//! window from the MCFG (none without one), and the virtio and IAA
//! devices among them.

use alloc::vec::Vec;

use guest_drivers::pci::{PciDevice, enumerate};
use guest_drivers::{iaa, virtio};
use spin::Once;

use crate::boot;
use crate::hal::KernelHal;

static DEVICES: Once<Vec<PciDevice>> = Once::new();

/// Every function found, bridges before what sits below them.
pub fn devices() -> &'static [PciDevice] {
    DEVICES.call_once(|| {
        if boot::info().pci_ecam.is_some() {
            enumerate(&KernelHal::new())
        } else {
            Vec::new()
        }
    })
}

/// The modern virtio devices of `device_type`, in PCI order.
pub fn virtio_devices(device_type: u16) -> impl Iterator<Item = &'static PciDevice> {
    devices()
        .iter()
        .filter(move |d| virtio::device_type(d.vendor_id, d.device_id) == Some(device_type))
}

/// The IAA devices (8086:0cfe), in PCI order.
pub fn iaa_devices() -> impl Iterator<Item = &'static PciDevice> {
    devices().iter().filter(|d| iaa::is_iaa(d))
}

/// The QAT 420xx physical functions (8086:4946), in PCI order.
pub fn qat_devices() -> impl Iterator<Item = &'static PciDevice> {
    devices().iter().filter(|d| guest_drivers::qat::is_qat(d))
}
