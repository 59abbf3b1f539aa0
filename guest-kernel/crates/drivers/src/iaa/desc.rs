//! The 64-byte IAA descriptor a WQ portal takes, and the 64-byte
//! completion record the device writes back (Linux's `struct
//! iax_hw_desc` and `struct iax_completion_record`).

/// Bytes of a descriptor and of a completion record.
pub const DESC_SIZE: usize = 64;

/// Opcode: decompress (raw deflate in, bytes out).
pub const OPCODE_DECOMPRESS: u8 = 0x42;
/// Opcode: compress (bytes in, raw deflate out).
pub const OPCODE_COMPRESS: u8 = 0x43;

/// Operation flag: the completion record address is valid.
pub const FLAG_CRAV: u32 = 1 << 2;
/// Operation flag: write the completion record.
pub const FLAG_RCR: u32 = 1 << 3;
/// Operation flag: raise the interrupt handle's vector on completion.
pub const FLAG_RCI: u32 = 1 << 4;
/// Operation flag: cache control (the destination goes to the cache).
pub const FLAG_CC: u32 = 1 << 8;
/// Operation flag: source 2 is an AECS to read.
pub const FLAG_RD_SRC2_AECS: u32 = 1 << 16;

/// Compression flags: flush the output to a byte boundary, append an EOB
/// (iaa_crypto's `IAA_COMP_FLAGS`).
pub const COMP_FLAGS: u16 = (1 << 1) | (1 << 2);
/// Decompression flags: enable, flush, check for and stop on EOB
/// (iaa_crypto's `IAA_DECOMP_FLAGS`).
pub const DECOMP_FLAGS: u16 = 0xf;
/// Decompression flag: decode and checksum, but write nothing.
pub const DECOMP_SUPPRESS_OUTPUT: u16 = 1 << 9;

/// Completion status: success.
pub const STATUS_SUCCESS: u8 = 0x01;
/// Completion status: analytics error (the error code says which).
pub const STATUS_ANALYTICS_ERROR: u8 = 0x0a;
/// Completion status: decompression output does not fit.
pub const STATUS_OUTPUT_OVERFLOW: u8 = 0x0b;
/// Completion status: the device's watchdog expired.
pub const STATUS_WATCHDOG: u8 = 0x24;
/// Analytics error code: compressed output does not fit.
pub const ERROR_COMP_BUF_OVERFLOW: u8 = 0x19;

/// A descriptor, built field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    /// Operation flags (24 bits).
    pub flags: u32,
    /// Opcode.
    pub opcode: u8,
    /// Where the completion record goes (64-byte aligned).
    pub completion: u64,
    /// Source 1.
    pub src1: u64,
    /// Destination.
    pub dst: u64,
    /// Bytes of source 1.
    pub src1_size: u32,
    /// Interrupt handle (the MSI-X entry, with RCI).
    pub int_handle: u16,
    /// Compression or decompression flags.
    pub op_flags: u16,
    /// Source 2 (the AECS for compress).
    pub src2: u64,
    /// Most bytes the destination takes.
    pub max_dst_size: u32,
    /// Bytes of source 2.
    pub src2_size: u32,
}

impl Descriptor {
    /// The 64 bytes the portal takes (PASID, reserved fields, filter
    /// flags and element count zero, as Linux leaves them).
    pub fn to_bytes(&self) -> [u8; DESC_SIZE] {
        let mut b = [0u8; DESC_SIZE];
        let dword1 = (self.flags & 0x00ff_ffff) | (u32::from(self.opcode) << 24);
        b[4..8].copy_from_slice(&dword1.to_le_bytes());
        b[8..16].copy_from_slice(&self.completion.to_le_bytes());
        b[16..24].copy_from_slice(&self.src1.to_le_bytes());
        b[24..32].copy_from_slice(&self.dst.to_le_bytes());
        b[32..36].copy_from_slice(&self.src1_size.to_le_bytes());
        b[36..38].copy_from_slice(&self.int_handle.to_le_bytes());
        b[38..40].copy_from_slice(&self.op_flags.to_le_bytes());
        b[40..48].copy_from_slice(&self.src2.to_le_bytes());
        b[48..52].copy_from_slice(&self.max_dst_size.to_le_bytes());
        b[52..56].copy_from_slice(&self.src2_size.to_le_bytes());
        b
    }
}

/// The fields of a completion record the driver reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Completion {
    /// Status (0: not done yet).
    pub status: u8,
    /// Error code, with [`STATUS_ANALYTICS_ERROR`].
    pub error_code: u8,
    /// Bytes written to (or, suppressed, meant for) the destination.
    pub output_size: u32,
    /// CRC-32 of the uncompressed data.
    pub crc: u32,
}

impl Completion {
    /// Decodes a record's bytes.
    pub fn from_bytes(b: &[u8; DESC_SIZE]) -> Self {
        let u32_at = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        Self {
            status: b[0],
            error_code: b[1],
            output_size: u32_at(24),
            crc: u32_at(32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_compress_descriptor_matches_iaa_crypto_layout() {
        let desc = Descriptor {
            flags: FLAG_CRAV | FLAG_RCR | FLAG_CC | FLAG_RD_SRC2_AECS,
            opcode: OPCODE_COMPRESS,
            completion: 0x1000,
            src1: 0x2000,
            dst: 0x3000,
            src1_size: 4096,
            int_handle: 0,
            op_flags: COMP_FLAGS,
            src2: 0x4000,
            max_dst_size: 4096,
            src2_size: 1568,
        };
        let b = desc.to_bytes();
        assert_eq!(&b[0..4], &[0; 4], "PASID and priv zero");
        assert_eq!(u32::from_le_bytes(b[4..8].try_into().unwrap()), 0x4301_010c);
        assert_eq!(u64::from_le_bytes(b[8..16].try_into().unwrap()), 0x1000);
        assert_eq!(u16::from_le_bytes(b[38..40].try_into().unwrap()), 0x0006);
        assert_eq!(u32::from_le_bytes(b[52..56].try_into().unwrap()), 0x620);
        assert_eq!(&b[56..], &[0; 8], "filter flags and element count zero");
    }

    #[test]
    fn test_verify_flags_match_iaa_crypto() {
        assert_eq!(FLAG_CRAV | FLAG_RCR | FLAG_CC, 0x10c);
        assert_eq!(DECOMP_FLAGS | DECOMP_SUPPRESS_OUTPUT, 0x020f);
    }

    #[test]
    fn test_completion_reads_status_size_and_crc() {
        let mut b = [0u8; DESC_SIZE];
        b[0] = STATUS_ANALYTICS_ERROR;
        b[1] = ERROR_COMP_BUF_OVERFLOW;
        b[24..28].copy_from_slice(&1234u32.to_le_bytes());
        b[32..36].copy_from_slice(&0xdead_beefu32.to_le_bytes());
        let c = Completion::from_bytes(&b);
        assert_eq!(
            c,
            Completion {
                status: 0x0a,
                error_code: 0x19,
                output_size: 1234,
                crc: 0xdead_beef
            }
        );
    }
}
