//! Intel IAA (In-Memory Analytics Accelerator) 1.0: deflate compression
//! offload, driven the way Linux's idxd + iaa_crypto drive it.
//!
//! Set-up ([`Controller`]): reset, capabilities, one group with one engine
//! and one dedicated WQ, ENABLE_DEVICE, ENABLE_WQ; admin commands complete
//! by MSI-X vector 0 or by polling CMDSTS. Work ([`Iaa`]): one 64-byte
//! descriptor per operation, stored to the WQ's portal with a single
//! 64-byte direct store ([`crate::Hal::portal_write`], `movdir64b`), its
//! completion record polled (optionally also signalled by MSI-X). Compress
//! emits one final fixed-Huffman raw deflate block (iaa_crypto's fixed
//! AECS); decompress takes any raw deflate stream; a compress is verified
//! by decompressing it on the device and comparing CRCs, as iaa_crypto does.

mod aecs;
mod caps;
mod desc;
mod device;
mod error;
mod ops;
pub mod regs;

pub use aecs::{fixed_mode as fixed_mode_aecs, AECS_SIZE};
pub use caps::{CapRegisters, Capabilities};
pub use desc::{Completion, Descriptor, DESC_SIZE};
pub use device::Controller;
pub use error::IaaError;
pub use ops::{Iaa, Options, Output, BOUNCE_SIZE};

use crate::pci::PciDevice;

/// Intel's PCI vendor ID.
pub const VENDOR_ID: u16 = 0x8086;
/// IAA 1.0 (Sapphire Rapids), the only IAA ID Linux 6.8 knows.
pub const DEVICE_ID: u16 = 0x0cfe;

/// Whether `device` is an IAA device.
pub fn is_iaa(device: &PciDevice) -> bool {
    device.vendor_id == VENDOR_ID && device.device_id == DEVICE_ID
}
