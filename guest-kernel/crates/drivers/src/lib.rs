//! Our guest kernel's drivers: PCI enumeration, MSI-X, virtio over the PCI
//! modern transport (blk, net, rng), and the Intel IAA compression
//! accelerator behind the [`compress::Compressor`] interface, and the Intel
//! QAT 420xx crypto and compression accelerator ([`qat`]).
//!
//! Drivers reach hardware only through [`hal::Hal`]: in the kernel that is
//! volatile MMIO through the identity map and the frame allocator; on the
//! host the same drivers run against the device models of the `devices`
//! crate (the co-simulation tests in `tests/`).

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod compress;
pub mod hal;
pub mod iaa;
pub mod pattern;
pub mod pci;
pub mod qat;
pub mod virtio;

pub use hal::{Bdf, Hal, HalError, Mmio, Register};
