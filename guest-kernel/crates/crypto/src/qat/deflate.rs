//! `deflate` on the device (Linux's `qat_deflate`): stateless static
//! compression with compress-and-verify, and decompression, each one
//! request with single-segment lists. A compression the device did not
//! verify (no CNV flag) counts as failed, as in Linux.

use alloc::sync::Arc;

use guest_drivers::qat::comp::{self, CompCmd, CompResult};
use guest_drivers::qat::dma::put_buffer_list;
use guest_drivers::qat::Segment;
use guest_drivers::Hal;

use super::{device_error, QatEngine, Service, PRIORITY};
use crate::api::{AlgInfo, Compression};
use crate::error::CryptoError;

/// `deflate` on the device.
pub struct QatDeflate<H: Hal>(pub Arc<QatEngine<H>>);

impl<H: Hal + Send> QatDeflate<H> {
    fn run(&self, cmd: CompCmd, src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError> {
        self.0.with_slot(Service::Dc, |slot| {
            let input = slot.put(src)?;
            let (hal, cursor) = slot.parts();
            let output = cursor.take(dst.len().max(1), 64).map_err(device_error)?;
            let src_seg = Segment {
                addr: input,
                len: src.len() as u32,
            };
            let dst_seg = Segment {
                addr: output,
                len: dst.len() as u32,
            };
            let src_list = put_buffer_list(hal, cursor, &[src_seg]).map_err(device_error)?;
            let dst_list = put_buffer_list(hal, cursor, &[dst_seg]).map_err(device_error)?;
            let request =
                comp::request(cmd, src_list, src.len() as u32, dst_list, dst.len() as u32);
            let result = CompResult::decode(&slot.submit(request)?);
            if result.cmp_err == comp::ERR_OVERFLOW {
                return Err(CryptoError::Overflow);
            }
            if !result.ok() {
                return Err(match cmd {
                    CompCmd::Decompress => CryptoError::Corrupt,
                    CompCmd::Compress => CryptoError::Device(alloc::format!(
                        "compression error {} status {:#x}",
                        result.cmp_err,
                        result.status
                    )),
                });
            }
            if cmd == CompCmd::Compress && result.hdr_flags & comp::HDR_CNV == 0 {
                return Err(CryptoError::Device(
                    "compression not verified (no CNV)".into(),
                ));
            }
            let produced = result.produced as usize;
            if produced > dst.len() {
                return Err(CryptoError::Overflow);
            }
            slot.hal().dma_read(output, &mut dst[..produced]);
            Ok(produced)
        })
    }
}

impl<H: Hal + Send + 'static> Compression for QatDeflate<H> {
    fn info(&self) -> AlgInfo {
        AlgInfo {
            name: "deflate",
            driver: "qat_deflate",
            priority: PRIORITY,
        }
    }

    fn compress(&self, src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError> {
        self.run(CompCmd::Compress, src, dst)
    }

    fn decompress(&self, src: &[u8], dst: &mut [u8]) -> Result<usize, CryptoError> {
        self.run(CompCmd::Decompress, src, dst)
    }
}
