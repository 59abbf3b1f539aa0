//! Why the QAT driver failed.

use core::fmt;

use crate::hal::HalError;
use crate::pci::MsixError;

/// Errors from bring-up, ring set-up and requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QatError {
    /// The function is not a QAT 420xx physical function.
    NotQat {
        /// Its vendor ID.
        vendor: u16,
        /// Its device ID.
        device: u16,
    },
    /// A BAR the driver needs (by register index) is not implemented.
    MissingBar(u8),
    /// FUSECTL4 fuses off AE 0 (Linux: "No acceleration units found").
    NoAccelerationEngines(u32),
    /// FUSECTL1 leaves no service the driver can use.
    NoCapabilities(u32),
    /// PM_STATUS never showed INIT_STATE after DRV_ACTIVE.
    PowerUpTimeout,
    /// An AE's admin mailbox still held a message when one was to be sent.
    MailboxBusy(u32),
    /// An AE never answered an admin message.
    AdminTimeout {
        /// The AE.
        ae: u32,
        /// The command.
        cmd: u8,
    },
    /// An AE answered an admin message with a non-zero status.
    AdminFailed {
        /// The AE.
        ae: u32,
        /// The command.
        cmd: u8,
        /// The status byte.
        status: u8,
    },
    /// Bank number past the device's 64.
    BadBank(u8),
    /// Ring slot count not a power of two in 4..=1024.
    BadRingSize(usize),
    /// More requests than free ring slots.
    RingFull {
        /// Requests asked for.
        requests: usize,
        /// Slots free.
        free: usize,
    },
    /// Responses did not all arrive in time.
    Timeout {
        /// Requests submitted.
        submitted: usize,
        /// Responses that arrived.
        completed: usize,
    },
    /// A response carried an opaque value no outstanding request has.
    UnknownResponse(u64),
    /// A request does not fit the per-request DMA area.
    TooLarge {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A buffer list has no segment, or more than the driver supports.
    BadSegments(usize),
    /// A parameter the firmware interface cannot express.
    Unsupported(&'static str),
    /// MSI-X set-up failed.
    Msix(MsixError),
    /// DMA memory or MMIO mapping failed.
    Hal(HalError),
}

impl fmt::Display for QatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotQat { vendor, device } => {
                write!(f, "{vendor:04x}:{device:04x} is not a QAT 420xx PF")
            }
            Self::MissingBar(index) => write!(f, "BAR {index} is not implemented"),
            Self::NoAccelerationEngines(fuses) => {
                write!(f, "no acceleration units found (FUSECTL4 {fuses:#x})")
            }
            Self::NoCapabilities(fuses) => {
                write!(f, "no usable service (FUSECTL1 {fuses:#x})")
            }
            Self::PowerUpTimeout => f.write_str("PM_STATUS never reached INIT_STATE"),
            Self::MailboxBusy(ae) => write!(f, "admin mailbox of AE {ae} is busy"),
            Self::AdminTimeout { ae, cmd } => {
                write!(f, "AE {ae} did not answer admin command {cmd}")
            }
            Self::AdminFailed { ae, cmd, status } => {
                write!(f, "AE {ae} failed admin command {cmd} (status {status})")
            }
            Self::BadBank(bank) => write!(f, "no ring bank {bank}"),
            Self::BadRingSize(slots) => write!(f, "{slots} ring slots is not a valid ring"),
            Self::RingFull { requests, free } => {
                write!(f, "{requests} requests but {free} free ring slots")
            }
            Self::Timeout {
                submitted,
                completed,
            } => write!(f, "{completed} of {submitted} responses arrived in time"),
            Self::UnknownResponse(opaque) => write!(f, "response for unknown request {opaque:#x}"),
            Self::TooLarge { needed, available } => {
                write!(
                    f,
                    "request needs {needed} bytes of DMA, {available} available"
                )
            }
            Self::BadSegments(n) => write!(f, "{n} buffer segments"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::Msix(e) => write!(f, "{e}"),
            Self::Hal(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for QatError {}

impl From<HalError> for QatError {
    fn from(e: HalError) -> Self {
        Self::Hal(e)
    }
}

impl From<MsixError> for QatError {
    fn from(e: MsixError) -> Self {
        Self::Msix(e)
    }
}
