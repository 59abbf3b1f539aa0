//! The compression service (service type 9), stateless as Linux uses it:
//! raw deflate (RFC 1951) compression with compress-and-verify (the
//! output is inflated again and checked before the CNV flag is set), and
//! decompression of a complete raw deflate stream. Responses carry the
//! consumed and produced byte counts and the CRC-32 and Adler-32 of the
//! uncompressed data, continued from the request's initial values.

use libdeflater::{CompressionLvl, Compressor, DecompressionError, Decompressor};

use super::buffers::{BufferError, Buffers};
use super::msg::{ErrCode, Request, Response, HDR_CNV, STATUS_CMP_ERR, STATUS_EOLB};
use crate::virtio::GuestMemory;

/// Compression commands (service_cmd_id).
pub const CMD_STATIC: u8 = 0;
/// Dynamic Huffman compression.
pub const CMD_DYNAMIC: u8 = 1;
/// Decompression.
pub const CMD_DECOMPRESS: u8 = 2;
/// req_par_flags bit 16: compress and verify.
const PAR_CNV: u32 = 1 << 16;

/// The deflate engines, kept across requests (they own scratch memory).
pub struct Engines {
    compressor: Compressor,
    decompressor: Decompressor,
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engines")
    }
}

impl Default for Engines {
    fn default() -> Self {
        Self {
            // Level 1: search depth 1, as Linux configures the slice.
            compressor: Compressor::new(CompressionLvl::new(1).unwrap_or_default()),
            decompressor: Decompressor::new(),
        }
    }
}

/// Serves one compression request.
pub fn process(engines: &mut Engines, mem: &GuestMemory, req: &Request) -> Response {
    let resp = Response::to(req);
    let result = match req.cmd_id() {
        CMD_STATIC | CMD_DYNAMIC => compress(engines, mem, req),
        CMD_DECOMPRESS => decompress(engines, mem, req),
        _ => Err(ErrCode::Fatal),
    };
    match result {
        Ok(done) => resp
            .with_hdr_flags(done.flags)
            .with_status(done.status)
            .with_u32(16, done.consumed)
            .with_u32(20, done.produced)
            .with_u32(24, done.crc32)
            .with_u32(28, done.adler32),
        Err(code) => resp.fail(STATUS_CMP_ERR, code),
    }
}

/// What a successful request reports.
struct Done {
    consumed: u32,
    produced: u32,
    crc32: u32,
    adler32: u32,
    flags: u8,
    status: u8,
}

fn buffer_code(e: BufferError) -> ErrCode {
    match e {
        BufferError::OutOfMemory(_) => ErrCode::Endpoint,
        _ => ErrCode::Fatal,
    }
}

/// The request's input bytes and output buffers with their usable size.
fn buffers(mem: &GuestMemory, req: &Request) -> Result<(Vec<u8>, Buffers, usize), ErrCode> {
    let sgl = req.is_sgl();
    let src = Buffers::parse(mem, req.src_addr(), sgl, req.src_length()).map_err(buffer_code)?;
    let dst = Buffers::parse(mem, req.dst_addr(), sgl, req.dst_length()).map_err(buffer_code)?;
    let input_len = u64::from(req.u32(56));
    let input = src.read(mem, 0, input_len).map_err(buffer_code)?;
    let capacity = u64::from(req.u32(60)).min(dst.total()) as usize;
    Ok((input, dst, capacity))
}

/// Checksums of the uncompressed data, continued from the request's seeds.
fn checksums(req: &Request, data: &[u8]) -> (u32, u32) {
    let mut crc = crc32fast::Hasher::new_with_initial(req.u32(64));
    crc.update(data);
    let mut adler = adler2::Adler32::from_checksum(req.u32(68));
    adler.write_slice(data);
    (crc.finalize(), adler.checksum())
}

fn compress(engines: &mut Engines, mem: &GuestMemory, req: &Request) -> Result<Done, ErrCode> {
    let (input, dst, capacity) = buffers(mem, req)?;
    let bound = engines.compressor.deflate_compress_bound(input.len());
    let mut out = vec![0u8; capacity.min(bound)];
    let produced = engines
        .compressor
        .deflate_compress(&input, &mut out)
        .map_err(|_| ErrCode::Overflow)?;
    out.truncate(produced);
    let verify = req.u32(72) & PAR_CNV != 0;
    if verify {
        let mut check = vec![0u8; input.len()];
        let ok = engines
            .decompressor
            .deflate_decompress(&out, &mut check)
            .is_ok_and(|n| n == input.len() && check == input);
        if !ok {
            return Err(ErrCode::Fatal);
        }
    }
    dst.write(mem, 0, &out).map_err(buffer_code)?;
    let (crc32, adler32) = checksums(req, &input);
    Ok(Done {
        consumed: input.len() as u32,
        produced: produced as u32,
        crc32,
        adler32,
        flags: if verify { HDR_CNV } else { 0 },
        status: 0,
    })
}

fn decompress(engines: &mut Engines, mem: &GuestMemory, req: &Request) -> Result<Done, ErrCode> {
    let (input, dst, capacity) = buffers(mem, req)?;
    let mut out = vec![0u8; capacity];
    let produced = engines
        .decompressor
        .deflate_decompress(&input, &mut out)
        .map_err(|e| match e {
            DecompressionError::InsufficientSpace => ErrCode::Overflow,
            DecompressionError::BadData => ErrCode::InvalidCode,
        })?;
    out.truncate(produced);
    dst.write(mem, 0, &out).map_err(buffer_code)?;
    let (crc32, adler32) = checksums(req, &out);
    Ok(Done {
        consumed: input.len() as u32,
        produced: produced as u32,
        crc32,
        adler32,
        flags: 0,
        status: STATUS_EOLB,
    })
}
