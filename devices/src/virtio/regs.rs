//! The virtio 1.x PCI transport's registers, as the virtio specification
//! (4.1.4) and Linux's `include/uapi/linux/virtio_pci.h` lay them out, and
//! where this transport places each region inside BAR 0.

/// PCI vendor ID of virtio devices (Red Hat, Inc.).
pub const VIRTIO_PCI_VENDOR_ID: u16 = 0x1af4;
/// A non-transitional device's PCI device ID is this plus its virtio type.
pub const VIRTIO_PCI_DEVICE_ID_BASE: u16 = 0x1040;
/// PCI revision of non-transitional devices (the spec asks for 1 or more).
pub const VIRTIO_PCI_REVISION: u8 = 1;
/// Subsystem ID (the spec asks non-transitional devices for 0x40 or more).
pub const VIRTIO_PCI_SUBSYSTEM_ID: u16 = 0x1100;

/// The vendor-specific capability ID that carries virtio structures.
pub const PCI_CAP_ID_VENDOR: u8 = 0x09;
/// `cfg_type`: common configuration.
pub const CAP_COMMON_CFG: u8 = 1;
/// `cfg_type`: notifications.
pub const CAP_NOTIFY_CFG: u8 = 2;
/// `cfg_type`: ISR status.
pub const CAP_ISR_CFG: u8 = 3;
/// `cfg_type`: device-specific configuration.
pub const CAP_DEVICE_CFG: u8 = 4;
/// `cfg_type`: the configuration-space window onto the BARs.
pub const CAP_PCI_CFG: u8 = 5;
/// Bytes of `struct virtio_pci_cap` (the generic vendor capability).
pub const CAP_LEN: u8 = 16;
/// Bytes of `struct virtio_pci_notify_cap` and `struct virtio_pci_cfg_cap`.
pub const CAP_LEN_EXTENDED: u8 = 20;
/// Offset in a `virtio_pci_cap` of its `bar` byte.
pub const CAP_BAR: usize = 4;
/// Offset in a `virtio_pci_cap` of its `offset` field.
pub const CAP_OFFSET: usize = 8;
/// Offset in a `virtio_pci_cap` of its `length` field.
pub const CAP_LENGTH: usize = 12;
/// Offset in a `virtio_pci_cfg_cap` of the `pci_cfg_data` window.
pub const CAP_PCI_CFG_DATA: usize = 16;

/// BAR 0 layout: the common configuration structure.
pub const COMMON_OFFSET: u64 = 0x0000;
/// BAR 0 layout: the ISR status byte.
pub const ISR_OFFSET: u64 = 0x1000;
/// BAR 0 layout: the device-specific configuration.
pub const DEVICE_OFFSET: u64 = 0x2000;
/// BAR 0 layout: the queue notification addresses.
pub const NOTIFY_OFFSET: u64 = 0x3000;
/// BAR 0 layout: the MSI-X vector table.
pub const MSIX_TABLE_OFFSET: u64 = 0x4000;
/// BAR 0 layout: the MSI-X pending-bit array.
pub const MSIX_PBA_OFFSET: u64 = 0x5000;
/// Bytes each region may use (one page each).
pub const REGION_SIZE: u64 = 0x1000;
/// Size of BAR 0 (a power of two above the last region).
pub const BAR_SIZE: u64 = 0x8000;
/// Queue `n` is notified at `NOTIFY_OFFSET + n * NOTIFY_OFF_MULTIPLIER`.
pub const NOTIFY_OFF_MULTIPLIER: u32 = 4;
/// Bytes of the virtio 1.0 common configuration structure we expose.
pub const COMMON_CFG_LEN: u32 = 0x38;
/// Bytes of the ISR status region.
pub const ISR_LEN: u32 = 1;

/// Common configuration: `device_feature_select` (le32, RW).
pub const COMMON_DFSELECT: u64 = 0x00;
/// Common configuration: `device_feature` (le32, RO).
pub const COMMON_DF: u64 = 0x04;
/// Common configuration: `driver_feature_select` (le32, RW).
pub const COMMON_GFSELECT: u64 = 0x08;
/// Common configuration: `driver_feature` (le32, RW).
pub const COMMON_GF: u64 = 0x0c;
/// Common configuration: `config_msix_vector` (le16, RW).
pub const COMMON_MSIX: u64 = 0x10;
/// Common configuration: `num_queues` (le16, RO).
pub const COMMON_NUMQ: u64 = 0x12;
/// Common configuration: `device_status` (u8, RW).
pub const COMMON_STATUS: u64 = 0x14;
/// Common configuration: `config_generation` (u8, RO).
pub const COMMON_CFGGENERATION: u64 = 0x15;
/// Common configuration: `queue_select` (le16, RW).
pub const COMMON_Q_SELECT: u64 = 0x16;
/// Common configuration: `queue_size` (le16, RW).
pub const COMMON_Q_SIZE: u64 = 0x18;
/// Common configuration: `queue_msix_vector` (le16, RW).
pub const COMMON_Q_MSIX: u64 = 0x1a;
/// Common configuration: `queue_enable` (le16, RW).
pub const COMMON_Q_ENABLE: u64 = 0x1c;
/// Common configuration: `queue_notify_off` (le16, RO).
pub const COMMON_Q_NOFF: u64 = 0x1e;
/// Common configuration: `queue_desc` (le64, RW).
pub const COMMON_Q_DESC: u64 = 0x20;
/// Common configuration: `queue_driver` (the avail ring, le64, RW).
pub const COMMON_Q_AVAIL: u64 = 0x28;
/// Common configuration: `queue_device` (the used ring, le64, RW).
pub const COMMON_Q_USED: u64 = 0x30;

/// MSI-X "no vector" value for `config_msix_vector` and `queue_msix_vector`.
pub const NO_VECTOR: u16 = 0xffff;

/// Device status: the guest has noticed the device.
pub const STATUS_ACKNOWLEDGE: u8 = 1;
/// Device status: the guest knows how to drive the device.
pub const STATUS_DRIVER: u8 = 2;
/// Device status: the driver is set up and ready to drive the device.
pub const STATUS_DRIVER_OK: u8 = 4;
/// Device status: feature negotiation is complete.
pub const STATUS_FEATURES_OK: u8 = 8;
/// Device status: the device hit an error it cannot recover from.
pub const STATUS_DEVICE_NEEDS_RESET: u8 = 0x40;
/// Device status: the driver gave up on the device.
pub const STATUS_FAILED: u8 = 0x80;

/// ISR status: a queue has used buffers.
pub const ISR_QUEUE: u8 = 1;
/// ISR status: the device configuration changed.
pub const ISR_CONFIG: u8 = 2;

/// Feature bit: the device complies with virtio 1.0 or later.
pub const VIRTIO_F_VERSION_1: u32 = 32;

#[cfg(test)]
mod tests {
    use virtio_bindings::virtio_config;

    use super::*;

    #[test]
    fn test_register_offsets_match_linux_uapi() {
        // The values of include/uapi/linux/virtio_pci.h.
        let ours = [
            COMMON_DFSELECT,
            COMMON_DF,
            COMMON_GFSELECT,
            COMMON_GF,
            COMMON_MSIX,
            COMMON_NUMQ,
            COMMON_STATUS,
            COMMON_CFGGENERATION,
            COMMON_Q_SELECT,
            COMMON_Q_SIZE,
            COMMON_Q_MSIX,
            COMMON_Q_ENABLE,
            COMMON_Q_NOFF,
            COMMON_Q_DESC,
            COMMON_Q_AVAIL,
            COMMON_Q_USED,
        ];
        let linux = [0, 4, 8, 12, 16, 18, 20, 21, 22, 24, 26, 28, 30, 32, 40, 48];
        assert_eq!(ours, linux);
        let caps = [
            CAP_COMMON_CFG,
            CAP_NOTIFY_CFG,
            CAP_ISR_CFG,
            CAP_DEVICE_CFG,
            CAP_PCI_CFG,
        ];
        assert_eq!(caps, [1, 2, 3, 4, 5]);
        assert_eq!((CAP_BAR, CAP_OFFSET, CAP_LENGTH), (4, 8, 12));
        assert_eq!(VIRTIO_F_VERSION_1, virtio_config::VIRTIO_F_VERSION_1);
        assert_eq!(
            u32::from(STATUS_FEATURES_OK),
            virtio_config::VIRTIO_CONFIG_S_FEATURES_OK
        );
        assert_eq!(
            u32::from(STATUS_DRIVER_OK),
            virtio_config::VIRTIO_CONFIG_S_DRIVER_OK
        );
        assert_eq!(
            u32::from(STATUS_DEVICE_NEEDS_RESET),
            virtio_config::VIRTIO_CONFIG_S_NEEDS_RESET
        );
    }

    #[test]
    fn test_regions_fit_in_the_bar() {
        let regions = [
            COMMON_OFFSET,
            ISR_OFFSET,
            DEVICE_OFFSET,
            NOTIFY_OFFSET,
            MSIX_TABLE_OFFSET,
            MSIX_PBA_OFFSET,
        ];
        assert!(regions.windows(2).all(|w| w[0] + REGION_SIZE <= w[1]));
        const { assert!(MSIX_PBA_OFFSET + REGION_SIZE <= BAR_SIZE) };
        const { assert!(BAR_SIZE.is_power_of_two()) };
    }
}
