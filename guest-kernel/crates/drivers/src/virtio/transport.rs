//! The virtio PCI modern transport (virtio 1.x, 4.1): vendor capabilities
//! point into the BARs at the common configuration, notification, ISR and
//! device-specific structures. Initialisation follows 3.1.1: reset,
//! ACKNOWLEDGE, DRIVER, features, FEATURES_OK (checked), queues (with
//! their MSI-X vectors), DRIVER_OK.

use super::error::VirtioError;
use super::queue::VirtQueue;
use super::{device_type, F_ACCESS_PLATFORM, F_VERSION_1, NO_VECTOR};
use super::{STATUS_ACKNOWLEDGE, STATUS_DRIVER, STATUS_DRIVER_OK, STATUS_FAILED};
use super::{STATUS_DEVICE_NEEDS_RESET, STATUS_FEATURES_OK};
use crate::hal::{Bdf, Hal, Mmio, Register};
use crate::pci::{regs, MsiTarget, Msix, PciDevice};

/// Vendor capability: cfg_type at +3, bar at +4, offset at +8, length at +12.
const CAP_CFG_TYPE: u16 = 3;
const CAP_BAR: u16 = 4;
const CAP_OFFSET: u16 = 8;
const CAP_LENGTH: u16 = 12;
/// Notify capability: notify_off_multiplier at +16.
const CAP_NOTIFY_MULTIPLIER: u16 = 16;

/// cfg_type values.
const CFG_COMMON: u8 = 1;
const CFG_NOTIFY: u8 = 2;
const CFG_ISR: u8 = 3;
const CFG_DEVICE: u8 = 4;

/// Common configuration registers (struct virtio_pci_common_cfg).
mod common {
    pub const DEVICE_FEATURE_SELECT: u64 = 0x00;
    pub const DEVICE_FEATURE: u64 = 0x04;
    pub const DRIVER_FEATURE_SELECT: u64 = 0x08;
    pub const DRIVER_FEATURE: u64 = 0x0c;
    pub const CONFIG_MSIX_VECTOR: u64 = 0x10;
    pub const NUM_QUEUES: u64 = 0x12;
    pub const DEVICE_STATUS: u64 = 0x14;
    pub const CONFIG_GENERATION: u64 = 0x15;
    pub const QUEUE_SELECT: u64 = 0x16;
    pub const QUEUE_SIZE: u64 = 0x18;
    pub const QUEUE_MSIX_VECTOR: u64 = 0x1a;
    pub const QUEUE_ENABLE: u64 = 0x1c;
    pub const QUEUE_NOTIFY_OFF: u64 = 0x1e;
    pub const QUEUE_DESC: u64 = 0x20;
    pub const QUEUE_DRIVER: u64 = 0x28;
    pub const QUEUE_DEVICE: u64 = 0x30;
    /// Bytes of the structure the driver uses.
    pub const LEN: u64 = 0x38;
}

/// How long a reset may take.
const RESET_TIMEOUT_MS: u64 = 1000;
/// Reads of a 64-bit configuration field before settling for the last.
const CONFIG_READ_TRIES: usize = 8;

/// A virtio device behind the PCI modern transport.
#[derive(Debug)]
pub struct VirtioPci {
    bdf: Bdf,
    device_type: u16,
    common: Mmio,
    notify: Mmio,
    notify_multiplier: u32,
    isr: Mmio,
    device_config: Option<Mmio>,
    msix: Option<Msix>,
}

/// One vendor capability: its BAR, offset and length.
struct VendorCap {
    at: u16,
    bar: u8,
    offset: u32,
    length: u32,
}

fn find_cap<H: Hal>(hal: &H, device: &PciDevice, cfg_type: u8) -> Option<VendorCap> {
    device
        .capabilities_with(regs::CAP_ID_VENDOR)
        .map(|at| {
            let bdf = device.bdf;
            (
                hal.config_read::<u8>(bdf, at + CAP_CFG_TYPE),
                VendorCap {
                    at,
                    bar: hal.config_read(bdf, at + CAP_BAR),
                    offset: hal.config_read(bdf, at + CAP_OFFSET),
                    length: hal.config_read(bdf, at + CAP_LENGTH),
                },
            )
        })
        // The first of a type whose BAR exists (4.1.4: later ones are alternatives).
        .find(|(t, cap)| *t == cfg_type && device.bar(cap.bar).is_some())
        .map(|(_, cap)| cap)
}

fn map_cap<H: Hal>(
    hal: &H,
    device: &PciDevice,
    cap: &VendorCap,
    name: &'static str,
    min_len: u64,
) -> Result<Mmio, VirtioError> {
    let bar = device
        .bar(cap.bar)
        .ok_or(VirtioError::BadCapability(name))?;
    let (offset, length) = (u64::from(cap.offset), u64::from(cap.length));
    if length < min_len || !bar.contains(offset, length) {
        return Err(VirtioError::BadCapability(name));
    }
    Ok(Mmio::map(hal, bar.address + offset, length)?)
}

impl VirtioPci {
    /// Finds the transport's structures in `device` (a modern virtio
    /// function of type `expected_type`) and maps them. The device is not
    /// touched yet.
    pub fn new<H: Hal>(
        hal: &H,
        device: &PciDevice,
        expected_type: u16,
    ) -> Result<Self, VirtioError> {
        let bdf = device.bdf;
        if device_type(device.vendor_id, device.device_id) != Some(expected_type) {
            return Err(VirtioError::NotVirtio(bdf));
        }
        let cap = |t, name| find_cap(hal, device, t).ok_or(VirtioError::MissingCapability(name));
        let common = map_cap(
            hal,
            device,
            &cap(CFG_COMMON, "common")?,
            "common",
            common::LEN,
        )?;
        let notify_cap = cap(CFG_NOTIFY, "notify")?;
        let notify = map_cap(hal, device, &notify_cap, "notify", 2)?;
        let notify_multiplier = hal.config_read(bdf, notify_cap.at + CAP_NOTIFY_MULTIPLIER);
        let isr = map_cap(hal, device, &cap(CFG_ISR, "ISR")?, "ISR", 1)?;
        let device_config = match find_cap(hal, device, CFG_DEVICE) {
            Some(c) => Some(map_cap(hal, device, &c, "device", 1)?),
            None => None,
        };
        let msix = Msix::new(hal, device).ok();
        // Memory decode was enabled before boot; DMA and MSI-X need bus
        // mastering, and interrupts come by MSI-X, never INTx.
        device.enable(
            hal,
            regs::COMMAND_MEMORY | regs::COMMAND_BUS_MASTER | regs::COMMAND_INTX_DISABLE,
        );
        Ok(Self {
            bdf,
            device_type: expected_type,
            common,
            notify,
            notify_multiplier,
            isr,
            device_config,
            msix,
        })
    }

    /// The PCI function.
    pub fn bdf(&self) -> Bdf {
        self.bdf
    }

    /// The virtio device type.
    pub fn device_type(&self) -> u16 {
        self.device_type
    }

    /// The device status register.
    pub fn status<H: Hal>(&self, hal: &H) -> u8 {
        self.common.read(hal, common::DEVICE_STATUS)
    }

    fn set_status<H: Hal>(&self, hal: &H, status: u8) {
        self.common.write(hal, common::DEVICE_STATUS, status);
    }

    fn add_status<H: Hal>(&self, hal: &H, bits: u8) {
        let status = self.status(hal);
        self.set_status(hal, status | bits);
    }

    /// Resets the device (writes 0, waits until the status reads 0).
    pub fn reset<H: Hal>(&self, hal: &H) -> Result<(), VirtioError> {
        self.set_status(hal, 0);
        if hal.wait_until(RESET_TIMEOUT_MS, &mut || self.status(hal) == 0) {
            Ok(())
        } else {
            Err(VirtioError::ResetTimeout)
        }
    }

    /// The 64 feature bits the device offers.
    pub fn device_features<H: Hal>(&self, hal: &H) -> u64 {
        self.common.write(hal, common::DEVICE_FEATURE_SELECT, 0u32);
        let low: u32 = self.common.read(hal, common::DEVICE_FEATURE);
        self.common.write(hal, common::DEVICE_FEATURE_SELECT, 1u32);
        let high: u32 = self.common.read(hal, common::DEVICE_FEATURE);
        (u64::from(high) << 32) | u64::from(low)
    }

    /// Steps 1-6 of initialisation: reset, ACKNOWLEDGE, DRIVER, accept the
    /// offered subset of `wanted` (plus VERSION_1, and ACCESS_PLATFORM if
    /// offered), FEATURES_OK and its check. Returns the features agreed.
    /// On failure the device is marked FAILED.
    pub fn negotiate<H: Hal>(&self, hal: &H, wanted: u64) -> Result<u64, VirtioError> {
        self.reset(hal)?;
        self.add_status(hal, STATUS_ACKNOWLEDGE);
        self.add_status(hal, STATUS_DRIVER);
        let offered = self.device_features(hal);
        if offered & F_VERSION_1 == 0 {
            self.fail(hal);
            return Err(VirtioError::Legacy);
        }
        let features = offered & (wanted | F_VERSION_1 | F_ACCESS_PLATFORM);
        self.common.write(hal, common::DRIVER_FEATURE_SELECT, 0u32);
        self.common
            .write(hal, common::DRIVER_FEATURE, features as u32);
        self.common.write(hal, common::DRIVER_FEATURE_SELECT, 1u32);
        self.common
            .write(hal, common::DRIVER_FEATURE, (features >> 32) as u32);
        self.add_status(hal, STATUS_FEATURES_OK);
        if self.status(hal) & STATUS_FEATURES_OK == 0 {
            self.fail(hal);
            return Err(VirtioError::FeaturesRejected);
        }
        Ok(features)
    }

    /// Points every MSI-X table entry at `target`, enables MSI-X, and turns
    /// configuration-change interrupts off. Queues then choose their
    /// entry in [`VirtioPci::setup_queue`].
    pub fn enable_msix<H: Hal>(&self, hal: &H, target: MsiTarget) -> Result<u16, VirtioError> {
        let msix = self
            .msix
            .ok_or(VirtioError::Msix(crate::pci::MsixError::NoCapability(
                self.bdf,
            )))?;
        msix.enable_masked(hal);
        for entry in 0..msix.entries() {
            msix.program(hal, entry, target)?;
        }
        msix.unmask_function(hal);
        self.common
            .write(hal, common::CONFIG_MSIX_VECTOR, NO_VECTOR);
        Ok(msix.entries())
    }

    /// The function's MSI-X table, if it has one.
    pub fn msix(&self) -> Option<&Msix> {
        self.msix.as_ref()
    }

    /// Number of queues the device has.
    pub fn num_queues<H: Hal>(&self, hal: &H) -> u16 {
        self.common.read(hal, common::NUM_QUEUES)
    }

    /// Sets up queue `index` with at most `max_size` entries (rounded down
    /// to the device's maximum and a power of two) in fresh DMA memory,
    /// interrupting through MSI-X entry `vector` (or not at all), and
    /// enables it.
    pub fn setup_queue<H: Hal>(
        &self,
        hal: &H,
        index: u16,
        max_size: u16,
        vector: Option<u16>,
    ) -> Result<VirtQueue, VirtioError> {
        self.common.write(hal, common::QUEUE_SELECT, index);
        let device_max: u16 = self.common.read(hal, common::QUEUE_SIZE);
        let limit = device_max.min(max_size);
        if limit == 0 {
            return Err(VirtioError::QueueUnavailable(index));
        }
        let size = 1u16 << (15 - limit.leading_zeros());
        let base = hal.dma_alloc(VirtQueue::memory_size(size))?;
        let notify_off: u16 = self.common.read(hal, common::QUEUE_NOTIFY_OFF);
        let notify_at = u64::from(notify_off) * u64::from(self.notify_multiplier);
        let notify = self
            .notify
            .sub(notify_at, 2)
            .ok_or(VirtioError::BadCapability("notify"))?;
        let queue = VirtQueue::new(index, size, base, notify);
        let (desc, driver, device) = queue.addresses();
        self.common.write(hal, common::QUEUE_SIZE, size);
        write64(hal, &self.common, common::QUEUE_DESC, desc);
        write64(hal, &self.common, common::QUEUE_DRIVER, driver);
        write64(hal, &self.common, common::QUEUE_DEVICE, device);
        let vector = vector.unwrap_or(NO_VECTOR);
        self.common.write(hal, common::QUEUE_MSIX_VECTOR, vector);
        if vector != NO_VECTOR
            && self.common.read::<H, u16>(hal, common::QUEUE_MSIX_VECTOR) != vector
        {
            return Err(VirtioError::VectorRejected(index));
        }
        self.common.write(hal, common::QUEUE_ENABLE, 1u16);
        Ok(queue)
    }

    /// The last step: the driver is ready. Fails if the device asks for a reset.
    pub fn driver_ok<H: Hal>(&self, hal: &H) -> Result<(), VirtioError> {
        self.add_status(hal, STATUS_DRIVER_OK);
        if self.status(hal) & STATUS_DEVICE_NEEDS_RESET != 0 {
            return Err(VirtioError::NeedsReset);
        }
        Ok(())
    }

    /// Marks the device FAILED (the driver gave up).
    pub fn fail<H: Hal>(&self, hal: &H) {
        self.add_status(hal, STATUS_FAILED);
    }

    /// Reads the ISR status (clears it; only meaningful without MSI-X).
    pub fn isr<H: Hal>(&self, hal: &H) -> u8 {
        self.isr.read(hal, 0)
    }

    /// A `T`-wide read of the device-specific configuration at `offset`
    /// (all ones if there is none, or past its end).
    pub fn config<H: Hal, T: Register>(&self, hal: &H, offset: u64) -> T {
        match &self.device_config {
            Some(cfg) => cfg.read(hal, offset),
            None => T::from_u64(u64::MAX),
        }
    }

    /// A 64-bit field of the device configuration, read as two 32-bit
    /// halves and retried (a few times) until the configuration
    /// generation is stable around them.
    pub fn config_u64<H: Hal>(&self, hal: &H, offset: u64) -> u64 {
        let mut value = 0;
        for _ in 0..CONFIG_READ_TRIES {
            let before: u8 = self.common.read(hal, common::CONFIG_GENERATION);
            let low: u32 = self.config(hal, offset);
            let high: u32 = self.config(hal, offset + 4);
            value = (u64::from(high) << 32) | u64::from(low);
            let after: u8 = self.common.read(hal, common::CONFIG_GENERATION);
            if before == after {
                break;
            }
        }
        value
    }
}

/// A 64-bit common-configuration field, written as two 32-bit halves (low first).
fn write64<H: Hal>(hal: &H, mmio: &Mmio, offset: u64, value: u64) {
    mmio.write(hal, offset, value as u32);
    mmio.write(hal, offset + 4, (value >> 32) as u32);
}
