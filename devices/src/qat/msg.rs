//! Firmware message formats shared by every service (`icp_qat_fw.h`):
//! the common request header and middle part, and the 32-byte response.
//! Requests are read into a fixed array; every field access is bounds
//! checked, so a malformed message can never panic the device.

/// Bytes of a symmetric-crypto or compression request.
pub const REQUEST_BYTES: usize = 128;
/// Bytes of an asymmetric (PKE) request.
pub const PKE_REQUEST_BYTES: usize = 64;
/// Bytes of every response.
pub const RESPONSE_BYTES: usize = 32;
/// The driver's empty-slot signature in the first word of a ring slot.
pub const EMPTY_SIGNATURE: u32 = 0x7f7f_7f7f;

/// Service types (byte 2).
pub const SERVICE_PKE: u8 = 3;
/// Lookaside symmetric crypto.
pub const SERVICE_LA: u8 = 4;
/// Compression.
pub const SERVICE_COMP: u8 = 9;

/// Header flags: the message is valid.
pub const HDR_VALID: u8 = 1 << 7;
/// Response header flags: compress-and-verify was done.
pub const HDR_CNV: u8 = 1 << 6;
/// comn_req_flags bit 0: source/destination are buffer lists (else flat).
pub const REQ_FLAG_SGL: u16 = 1 << 0;

/// comn_status: crypto (cipher/auth) error.
pub const STATUS_CRYPTO_ERR: u8 = 1 << 7;
/// comn_status: PKE error.
pub const STATUS_PKE_ERR: u8 = 1 << 6;
/// comn_status: compression error.
pub const STATUS_CMP_ERR: u8 = 1 << 5;
/// comn_status: translator error.
pub const STATUS_XLAT_ERR: u8 = 1 << 4;
/// comn_status: decompression reached the end of the last block.
pub const STATUS_EOLB: u8 = 1 << 3;

/// Error codes in byte 5 (`cmp_err_code`), from the kernel's icp_qat_fw.h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i8)]
pub enum ErrCode {
    /// Invalid literal/length/distance code in a block (a corrupt stream).
    InvalidCode = -9,
    /// The output buffer is too small.
    Overflow = -11,
    /// A malformed or unsupported request.
    Fatal = -13,
    /// A DMA access fell outside guest memory (endpoint error).
    Endpoint = -15,
}

/// A request as read from a TX ring slot.
#[derive(Debug, Clone)]
pub struct Request {
    bytes: [u8; REQUEST_BYTES],
}

impl Request {
    /// A request from the bytes of its slot (shorter slots are zero padded).
    pub fn new(slot: &[u8]) -> Self {
        let mut bytes = [0u8; REQUEST_BYTES];
        let n = slot.len().min(REQUEST_BYTES);
        bytes[..n].copy_from_slice(&slot[..n]);
        Self { bytes }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &[u8; REQUEST_BYTES] {
        &self.bytes
    }

    /// The byte at `offset` (0 past the end).
    pub fn u8(&self, offset: usize) -> u8 {
        self.bytes.get(offset).copied().unwrap_or(0)
    }

    /// The little-endian u16 at `offset`.
    pub fn u16(&self, offset: usize) -> u16 {
        u16::from_le_bytes([self.u8(offset), self.u8(offset + 1)])
    }

    /// The little-endian u32 at `offset`.
    pub fn u32(&self, offset: usize) -> u32 {
        u32::from_le_bytes(self.array(offset))
    }

    /// The little-endian u64 at `offset`.
    pub fn u64(&self, offset: usize) -> u64 {
        u64::from_le_bytes(self.array(offset))
    }

    /// `N` bytes from `offset` (zeros past the end).
    pub fn array<const N: usize>(&self, offset: usize) -> [u8; N] {
        let mut out = [0u8; N];
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.u8(offset + i);
        }
        out
    }

    /// service_cmd_id (byte 1).
    pub fn cmd_id(&self) -> u8 {
        self.u8(1)
    }

    /// service_type (byte 2).
    pub fn service_type(&self) -> u8 {
        self.u8(2)
    }

    /// serv_specif_flags (bytes 4-5).
    pub fn serv_flags(&self) -> u16 {
        self.u16(4)
    }

    /// comn_req_flags (bytes 6-7).
    pub fn req_flags(&self) -> u16 {
        self.u16(6)
    }

    /// The content descriptor's address (bytes 8-15).
    pub fn cd_addr(&self) -> u64 {
        self.u64(8)
    }

    /// The opaque data the response echoes (bytes 24-31).
    pub fn opaque(&self) -> u64 {
        self.u64(24)
    }

    /// Source data address: a buffer list, or flat data (bytes 32-39).
    pub fn src_addr(&self) -> u64 {
        self.u64(32)
    }

    /// Destination data address (bytes 40-47).
    pub fn dst_addr(&self) -> u64 {
        self.u64(40)
    }

    /// Flat source length (bytes 48-51).
    pub fn src_length(&self) -> u32 {
        self.u32(48)
    }

    /// Flat destination length (bytes 52-55).
    pub fn dst_length(&self) -> u32 {
        self.u32(52)
    }

    /// Whether source and destination are buffer lists.
    pub fn is_sgl(&self) -> bool {
        self.req_flags() & REQ_FLAG_SGL != 0
    }
}

/// A response being built: header echoing the request, status, and the
/// 16 service-specific bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    bytes: [u8; RESPONSE_BYTES],
}

impl Response {
    /// A successful response to `request`.
    pub fn to(request: &Request) -> Self {
        let mut bytes = [0u8; RESPONSE_BYTES];
        bytes[1] = 1; // CPM firmware
        bytes[2] = request.service_type();
        bytes[3] = HDR_VALID;
        bytes[7] = request.cmd_id();
        bytes[8..16].copy_from_slice(&request.opaque().to_le_bytes());
        Self { bytes }
    }

    /// The response's bytes.
    pub fn bytes(&self) -> &[u8; RESPONSE_BYTES] {
        &self.bytes
    }

    /// Marks an error: `status` bits in comn_status and `code` in byte 5.
    pub fn fail(mut self, status: u8, code: ErrCode) -> Self {
        self.bytes[5] = code as i8 as u8;
        self.bytes[6] |= status;
        self
    }

    /// Sets status bits in comn_status.
    pub fn with_status(mut self, status: u8) -> Self {
        self.bytes[6] |= status;
        self
    }

    /// Sets header flag bits (e.g. [`HDR_CNV`]).
    pub fn with_hdr_flags(mut self, flags: u8) -> Self {
        self.bytes[3] |= flags;
        self
    }

    /// Writes `value` little-endian at `offset` (16..32: service-specific).
    pub fn with_u32(mut self, offset: usize, value: u32) -> Self {
        if let Some(slot) = self.bytes.get_mut(offset..offset + 4) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        self
    }

    /// Writes `value` little-endian at `offset`.
    pub fn with_u64(mut self, offset: usize, value: u64) -> Self {
        if let Some(slot) = self.bytes.get_mut(offset..offset + 8) {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        self
    }

    /// Sets byte `offset` to `value`.
    pub fn with_byte(mut self, offset: usize, value: u8) -> Self {
        if let Some(slot) = self.bytes.get_mut(offset) {
            *slot = value;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_response_echoes_header_and_never_reads_empty() {
        let mut raw = [0u8; 128];
        raw[1] = 2;
        raw[2] = SERVICE_LA;
        raw[24..32].copy_from_slice(&0x1122_3344_5566_7788u64.to_le_bytes());
        let req = Request::new(&raw);
        let resp = Response::to(&req).fail(STATUS_CRYPTO_ERR, ErrCode::Fatal);
        let b = resp.bytes();
        assert_eq!((b[2], b[3], b[6], b[7]), (SERVICE_LA, HDR_VALID, 0x80, 2));
        assert_eq!(b[5] as i8, -13);
        assert_eq!(
            u64::from_le_bytes(b[8..16].try_into().unwrap()),
            0x1122_3344_5566_7788
        );
        assert_ne!(
            u32::from_le_bytes(b[..4].try_into().unwrap()),
            EMPTY_SIGNATURE
        );
        assert_eq!(req.u64(125), 0, "reads past the end are zero");
    }
}
