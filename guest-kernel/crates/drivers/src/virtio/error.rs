//! Why a virtio device could not be driven.

use core::fmt;

use crate::hal::{Bdf, HalError};
use crate::pci::MsixError;

/// Errors from the virtio transport and queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtioError {
    /// The function is not a modern virtio device (of the expected type).
    NotVirtio(Bdf),
    /// A required vendor capability (common, notify, ...) is missing.
    MissingCapability(&'static str),
    /// A capability's structure lies outside its BAR, or is too short.
    BadCapability(&'static str),
    /// The device does not offer VIRTIO_F_VERSION_1 (legacy only).
    Legacy,
    /// The device cleared FEATURES_OK: it refuses the feature set.
    FeaturesRejected,
    /// The device did not finish a reset in time.
    ResetTimeout,
    /// The queue does not exist (size 0).
    QueueUnavailable(u16),
    /// The device did not take the queue's MSI-X vector.
    VectorRejected(u16),
    /// Not enough free descriptors for the request.
    QueueFull,
    /// The device did not complete a request in time.
    Timeout,
    /// The device reported DEVICE_NEEDS_RESET.
    NeedsReset,
    /// The device used a descriptor chain we did not make available.
    BadUsedEntry(u32),
    /// MSI-X set-up failed.
    Msix(MsixError),
    /// The platform refused (no DMA memory, unmapped BAR).
    Hal(HalError),
}

impl fmt::Display for VirtioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotVirtio(bdf) => write!(f, "{bdf} is not the expected virtio device"),
            Self::MissingCapability(cap) => write!(f, "no virtio {cap} capability"),
            Self::BadCapability(cap) => write!(f, "virtio {cap} capability outside its BAR"),
            Self::Legacy => f.write_str("device does not offer VIRTIO_F_VERSION_1"),
            Self::FeaturesRejected => {
                f.write_str("device refused the features (FEATURES_OK clear)")
            }
            Self::ResetTimeout => f.write_str("device reset did not complete"),
            Self::QueueUnavailable(q) => write!(f, "queue {q} is not available"),
            Self::VectorRejected(q) => write!(f, "queue {q}: MSI-X vector not accepted"),
            Self::QueueFull => f.write_str("no free descriptors"),
            Self::Timeout => f.write_str("request timed out"),
            Self::NeedsReset => f.write_str("device needs a reset"),
            Self::BadUsedEntry(id) => write!(f, "device used unknown descriptor {id}"),
            Self::Msix(e) => write!(f, "{e}"),
            Self::Hal(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for VirtioError {}

impl From<HalError> for VirtioError {
    fn from(e: HalError) -> Self {
        Self::Hal(e)
    }
}

impl From<MsixError> for VirtioError {
    fn from(e: MsixError) -> Self {
        Self::Msix(e)
    }
}
