//! Intel QuickAssist 420xx (GEN4) physical function, following Linux's
//! `qat_420xx` driver: bring-up through the fuses, the power-up handshake
//! and the admin mailbox ([`Qat::probe`]), ring pairs in DMA memory
//! ([`RingPair`]: a batch of requests, one doorbell), and the firmware's
//! message formats for symmetric crypto ([`la`]) and deflate ([`comp`]).

pub mod admin;
pub mod comp;
mod device;
pub mod dma;
mod error;
pub mod la;
pub mod regs;
mod ring;

pub use device::{is_qat, DeviceInfo, Qat, DEVICE_420XX, MSIX_VECTORS, VENDOR_INTEL};
pub use dma::{DmaCursor, DmaRegion, Segment};
pub use error::QatError;
pub use ring::{
    response_opaque, Request, Response, RingPair, EMPTY_SIG, REQUEST_SIZE, RESPONSE_SIZE,
};

/// comn_status of a response (offset 6): 0 when everything went well.
pub fn response_status(resp: &Response) -> u8 {
    resp[6]
}
