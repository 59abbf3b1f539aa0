//! Why the IAA device could not be set up or an operation failed.

use core::fmt;

use super::regs::Command;
use crate::hal::{Bdf, HalError};
use crate::pci::MsixError;

/// Errors from the IAA driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IaaError {
    /// The function is not an IAA device (8086:0cfe).
    NotIaa(Bdf),
    /// A BAR the driver needs (0: registers, 2: portals) is missing or too small.
    MissingBar(u8),
    /// GENCAP says the configuration is read-only.
    NotConfigurable,
    /// The device lacks something the driver needs (WQs, groups, engines, ...).
    Unsupported(&'static str),
    /// TABLE_OFFSET puts GRPCFG or WQCFG outside BAR0.
    BadTables,
    /// GENSTS reads halted: the device needs a reset it cannot do itself.
    Halted,
    /// An admin command did not complete in time.
    CommandTimeout(Command),
    /// An admin command completed with this CMDSTS error code.
    CommandFailed(Command, u8),
    /// ENABLE_DEVICE succeeded but GENSTS does not read enabled.
    NotEnabled(u32),
    /// The driver has no WQ ready (not enabled, or disabled since).
    NoWorkQueue,
    /// A buffer is larger than the driver's DMA bounce buffers, or empty.
    BadLength(usize),
    /// The portal refused the store (it lies outside BAR2).
    PortalUnmapped,
    /// A descriptor's completion record did not arrive in time.
    CompletionTimeout,
    /// Compress: the output does not fit the destination (iaa_crypto's -E2BIG).
    CompressedTooLarge,
    /// Decompress: the output does not fit the destination (-EOVERFLOW).
    OutputOverflow,
    /// The device's watchdog expired (-ETIMEDOUT).
    Watchdog,
    /// The completion status is an error the driver does not map further
    /// (analytics errors carry the error code).
    Status {
        /// Completion status byte.
        status: u8,
        /// Error code byte.
        error_code: u8,
    },
    /// Verification: decompressing the output gave another CRC than the
    /// compress reported.
    VerifyFailed {
        /// CRC the compress reported.
        compress: u32,
        /// CRC of the verifying decompress.
        verify: u32,
    },
    /// MSI-X set-up failed.
    Msix(MsixError),
    /// The platform refused (no DMA memory, unmapped BAR).
    Hal(HalError),
}

impl IaaError {
    /// Whether a compress failed only because the data does not compress
    /// into the space given (zswap then stores the page as it is).
    pub fn is_incompressible(&self) -> bool {
        matches!(self, Self::CompressedTooLarge)
    }
}

impl fmt::Display for IaaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotIaa(bdf) => write!(f, "{bdf} is not an IAA device"),
            Self::MissingBar(bar) => write!(f, "IAA BAR {bar} missing or too small"),
            Self::NotConfigurable => f.write_str("IAA configuration is read-only"),
            Self::Unsupported(what) => write!(f, "IAA device has no usable {what}"),
            Self::BadTables => f.write_str("IAA configuration tables lie outside BAR 0"),
            Self::Halted => f.write_str("IAA device is halted"),
            Self::CommandTimeout(cmd) => write!(f, "IAA command {cmd:?} timed out"),
            Self::CommandFailed(cmd, code) => {
                write!(f, "IAA command {cmd:?} failed with status {code:#04x}")
            }
            Self::NotEnabled(sts) => write!(f, "IAA device not enabled (GENSTS {sts:#x})"),
            Self::NoWorkQueue => f.write_str("IAA work queue not enabled"),
            Self::BadLength(len) => write!(f, "{len} bytes do not fit the IAA buffers"),
            Self::PortalUnmapped => f.write_str("IAA portal outside BAR 2"),
            Self::CompletionTimeout => f.write_str("IAA completion record never written"),
            Self::CompressedTooLarge => f.write_str("compressed data does not fit"),
            Self::OutputOverflow => f.write_str("decompressed data does not fit"),
            Self::Watchdog => f.write_str("IAA watchdog expired"),
            Self::Status { status, error_code } => {
                write!(f, "IAA status {status:#04x}, error {error_code:#04x}")
            }
            Self::VerifyFailed { compress, verify } => {
                write!(
                    f,
                    "IAA verify CRC {verify:#010x} != compress CRC {compress:#010x}"
                )
            }
            Self::Msix(e) => write!(f, "{e}"),
            Self::Hal(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for IaaError {}

impl From<HalError> for IaaError {
    fn from(e: HalError) -> Self {
        Self::Hal(e)
    }
}

impl From<MsixError> for IaaError {
    fn from(e: MsixError) -> Self {
        Self::Msix(e)
    }
}
