//! Virtio 1.x over the PCI modern transport: the transport (capabilities,
//! status handshake, feature negotiation, queues, MSI-X vectors), split
//! virtqueues in DMA memory, and the blk, net and rng drivers on top.

mod blk;
mod error;
mod net;
mod queue;
mod rng;
pub mod transport;

pub use blk::{BlkError, VirtioBlk, SECTOR_SIZE};
pub use error::VirtioError;
pub use net::{NetError, VirtioNet, MAX_FRAME};
pub use queue::{Buffer, VirtQueue};
pub use rng::VirtioRng;
pub use transport::VirtioPci;

/// PCI vendor ID of virtio devices.
pub const VIRTIO_VENDOR_ID: u16 = 0x1af4;
/// Modern (virtio 1.x) PCI device IDs are this plus the device type.
pub const MODERN_DEVICE_ID_BASE: u16 = 0x1040;

/// Device type: network card.
pub const DEVICE_TYPE_NET: u16 = 1;
/// Device type: block device.
pub const DEVICE_TYPE_BLOCK: u16 = 2;
/// Device type: entropy source.
pub const DEVICE_TYPE_RNG: u16 = 4;

/// Device status: the guest noticed the device.
pub const STATUS_ACKNOWLEDGE: u8 = 1;
/// Device status: the guest has a driver for it.
pub const STATUS_DRIVER: u8 = 2;
/// Device status: the driver is ready.
pub const STATUS_DRIVER_OK: u8 = 4;
/// Device status: feature negotiation is complete.
pub const STATUS_FEATURES_OK: u8 = 8;
/// Device status: the device hit an error it cannot recover from.
pub const STATUS_DEVICE_NEEDS_RESET: u8 = 64;
/// Device status: the driver gave up on the device.
pub const STATUS_FAILED: u8 = 128;

/// Feature: the device follows virtio 1.x (not legacy).
pub const F_VERSION_1: u64 = 1 << 32;
/// Feature: the device sits behind a platform IOMMU or similar; DMA uses
/// bus addresses, which here equal physical ones.
pub const F_ACCESS_PLATFORM: u64 = 1 << 33;

/// "No MSI-X vector" in the configuration and queue vector registers.
pub const NO_VECTOR: u16 = 0xffff;

/// The virtio device type of a PCI function, if it is a modern virtio device.
pub fn device_type(vendor_id: u16, device_id: u16) -> Option<u16> {
    (vendor_id == VIRTIO_VENDOR_ID && (MODERN_DEVICE_ID_BASE..=0x107f).contains(&device_id))
        .then(|| device_id - MODERN_DEVICE_ID_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_device_type_from_modern_ids_only() {
        assert_eq!(device_type(0x1af4, 0x1042), Some(DEVICE_TYPE_BLOCK));
        assert_eq!(device_type(0x1af4, 0x1001), None, "transitional");
        assert_eq!(device_type(0x1b36, 0x1042), None);
    }
}
