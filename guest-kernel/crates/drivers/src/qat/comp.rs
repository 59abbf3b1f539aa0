//! Compression messages (`icp_qat_fw_comp.h`, Linux's `adf_gen4_dc.c` and
//! `qat_comp_req.h`): stateless raw deflate, compress and decompress, with
//! the slice configuration inline in the request and the data in buffer
//! lists; the response reports the bytes consumed and produced.

use super::ring::{Request, Response};

/// Service type of compression requests.
pub const SERVICE_COMP: u8 = 9;
/// comn_req_flags: SGL buffer lists, 16 bytes of inline CD data.
const COMN_SGL_INLINE_CD: u16 = 0x3;
/// serv_specif_flags: stateless session, auto-select-best.
const COMP_FLAGS: u16 = 1 << 3;
/// req_par_flags: SOP, EOP, BFINAL, CNV, CNV recovery.
const REQ_PAR_FLAGS: u32 = 0x3_0043;
/// Initial Adler-32.
const INITIAL_ADLER: u32 = 1;

/// GEN4 compression slice config, lower word: ILZ77, search depth 1,
/// EDMM, skip hash update, 3-byte literal skip (byte-swapped, as
/// `ICP_QAT_FW_COMP_20_BUILD_CONFIG_LOWER` returns it).
const COMP_CONFIG_LOWER: u32 = 0x0107u32.swap_bytes();
/// Upper word: lazy 258, nice 259.
const COMP_CONFIG_UPPER: u32 = ((258u32 << 9) | 259).swap_bytes();
/// Decompression config, lower word: deflate format.
const DECOMP_CONFIG_LOWER: u32 = (1u32 << 5).swap_bytes();

/// Response hdr_flags: compress-and-verify was done.
pub const HDR_CNV: u8 = 1 << 6;
/// Response comn_status: compression error.
pub const STATUS_COMP_ERROR: u8 = 1 << 5;
/// Response comn_status: translator error.
pub const STATUS_XLAT_ERROR: u8 = 1 << 4;
/// cmp_err_code: the output buffer is too small.
pub const ERR_OVERFLOW: i8 = -11;

/// Compression command IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CompCmd {
    /// Static-Huffman deflate (what Linux sends for compression).
    Compress = 0,
    /// Decompress a raw deflate stream.
    Decompress = 2,
}

/// The 128-byte request: `src_len` bytes from the `src` buffer list into
/// at most `dst_len` bytes of the `dst` list.
pub fn request(cmd: CompCmd, src: u64, src_len: u32, dst: u64, dst_len: u32) -> Request {
    let mut msg = [0u8; 128];
    msg[1] = cmd as u8;
    msg[2] = SERVICE_COMP;
    msg[3] = super::la::HDR_VALID;
    msg[4..6].copy_from_slice(&COMP_FLAGS.to_le_bytes());
    msg[6..8].copy_from_slice(&COMN_SGL_INLINE_CD.to_le_bytes());
    let (lower, upper) = match cmd {
        CompCmd::Compress => (COMP_CONFIG_LOWER, COMP_CONFIG_UPPER),
        CompCmd::Decompress => (DECOMP_CONFIG_LOWER, 0),
    };
    msg[8..12].copy_from_slice(&lower.to_le_bytes());
    msg[12..16].copy_from_slice(&upper.to_le_bytes());
    msg[32..40].copy_from_slice(&src.to_le_bytes());
    msg[40..48].copy_from_slice(&dst.to_le_bytes());
    msg[48..52].copy_from_slice(&src_len.to_le_bytes());
    msg[52..56].copy_from_slice(&dst_len.to_le_bytes());
    msg[56..60].copy_from_slice(&src_len.to_le_bytes());
    msg[60..64].copy_from_slice(&dst_len.to_le_bytes());
    msg[68..72].copy_from_slice(&INITIAL_ADLER.to_le_bytes());
    msg[72..76].copy_from_slice(&REQ_PAR_FLAGS.to_le_bytes());
    msg
}

/// A decoded compression response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompResult {
    /// hdr_flags (bit 6: CNV).
    pub hdr_flags: u8,
    /// Translator error code.
    pub xlat_err: i8,
    /// Compression error code (0: none).
    pub cmp_err: i8,
    /// comn_status.
    pub status: u8,
    /// Input bytes consumed.
    pub consumed: u32,
    /// Output bytes produced.
    pub produced: u32,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Adler-32 of the uncompressed data.
    pub adler32: u32,
}

impl CompResult {
    /// Decodes a response.
    pub fn decode(resp: &Response) -> Self {
        let word =
            |at: usize| u32::from_le_bytes([resp[at], resp[at + 1], resp[at + 2], resp[at + 3]]);
        Self {
            hdr_flags: resp[3],
            xlat_err: resp[4] as i8,
            cmp_err: resp[5] as i8,
            status: resp[6],
            consumed: word(16),
            produced: word(20),
            crc32: word(24),
            adler32: word(28),
        }
    }

    /// Whether the device reported success.
    pub fn ok(&self) -> bool {
        self.status & (STATUS_COMP_ERROR | STATUS_XLAT_ERROR) == 0 && self.cmp_err == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_compress_request_matches_linux_template() {
        let msg = request(CompCmd::Compress, 0x1000, 35, 0x2000, 64);
        assert_eq!(&msg[1..8], &[0, 9, 0x80, 0x08, 0, 3, 0]);
        assert_eq!(&msg[8..12], &[0, 0, 1, 7]);
        assert_eq!(&msg[12..16], &[0, 2, 5, 3]);
        assert_eq!(&msg[56..64], &[35, 0, 0, 0, 64, 0, 0, 0]);
        assert_eq!(&msg[72..76], &[0x43, 0, 3, 0]);
        let dec = request(CompCmd::Decompress, 0x1000, 23, 0x2000, 64);
        assert_eq!(dec[1], 2);
        assert_eq!(&dec[8..16], &[0, 0, 0, 0x20, 0, 0, 0, 0]);
    }

    #[test]
    fn test_response_decodes_counters_and_errors() {
        let mut resp = [0u8; 32];
        resp[3] = 0xc0;
        resp[5] = ERR_OVERFLOW as u8;
        resp[6] = STATUS_COMP_ERROR;
        resp[16] = 23;
        resp[20] = 35;
        let result = CompResult::decode(&resp);
        assert_eq!(result.cmp_err, -11);
        assert_eq!((result.consumed, result.produced), (23, 35));
        assert!(!result.ok());
        assert_eq!(result.hdr_flags & HDR_CNV, HDR_CNV);
    }
}
