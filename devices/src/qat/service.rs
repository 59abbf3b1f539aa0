//! Dispatch of one ring request to its service by the header's
//! service_type: lookaside crypto, compression, or asymmetric crypto
//! (answered with the PKE error status: the kernel then falls back to
//! software RSA/DH). Anything else gets every service's error bit.

use super::dc::{self, Engines};
use super::la;
use super::msg::{
    ErrCode, Request, Response, PKE_REQUEST_BYTES, REQUEST_BYTES, SERVICE_COMP, SERVICE_LA,
    SERVICE_PKE, STATUS_CMP_ERR, STATUS_CRYPTO_ERR, STATUS_PKE_ERR, STATUS_XLAT_ERR,
};
use crate::virtio::GuestMemory;

/// Bytes of the request in a ring slot whose header says `service_type`.
pub fn request_len(service_type: u8) -> usize {
    if service_type == SERVICE_PKE {
        PKE_REQUEST_BYTES
    } else {
        REQUEST_BYTES
    }
}

/// Serves `req`; the 32-byte response to put on the RX ring.
pub fn process(engines: &mut Engines, mem: &GuestMemory, req: &Request) -> Response {
    match req.service_type() {
        SERVICE_LA => la::process(mem, req),
        SERVICE_COMP => dc::process(engines, mem, req),
        SERVICE_PKE => pke_error(req),
        _ => Response::to(req).fail(
            STATUS_CRYPTO_ERR | STATUS_PKE_ERR | STATUS_CMP_ERR | STATUS_XLAT_ERR,
            ErrCode::Fatal,
        ),
    }
}

/// The PKE response (`icp_qat_fw_pke_resp`): status flags at bytes 4-5
/// with the error bit 6 of byte 5, opaque at 8, src at 16, dst at 24.
fn pke_error(req: &Request) -> Response {
    Response::to(req)
        .with_byte(5, STATUS_PKE_ERR)
        .with_byte(7, 0)
        .with_u64(16, req.u64(32))
        .with_u64(24, req.u64(40))
}
