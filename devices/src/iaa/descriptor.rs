//! The 64-byte IAA descriptor and the 64-byte completion record, as
//! `struct iax_hw_desc` and `struct iax_completion_record` in Linux's
//! `include/uapi/linux/idxd.h` lay them out (little-endian, packed).

/// Operation flag: completion record address valid.
pub const FLAG_CRAV: u32 = 1 << 2;
/// Operation flag: request a completion record.
pub const FLAG_RCR: u32 = 1 << 3;
/// Operation flag: request a completion interrupt.
pub const FLAG_RCI: u32 = 1 << 4;
/// Operation flags 17:16: how source 2 is read.
pub const FLAG_RD_SRC2_SHIFT: u32 = 16;
/// Source 2 read as an AECS.
pub const RD_SRC2_AECS: u32 = 1;
/// Operation flags 19:18: when source 2 (the AECS) is written back.
pub const FLAG_WR_SRC2_MASK: u32 = 0b11 << 18;
/// Operation flag: CRC-32C (RFC 3720) instead of CRC-32.
pub const FLAG_CRC32C: u32 = 1 << 21;

/// IAA opcodes this model knows (`enum iax_opcode`).
pub mod opcode {
    /// No operation.
    pub const NOOP: u8 = 0x00;
    /// Drain: completes after earlier descriptors.
    pub const DRAIN: u8 = 0x02;
    /// Decompress a raw deflate stream.
    pub const DECOMPRESS: u8 = 0x42;
    /// Compress with the AECS's Huffman tables.
    pub const COMPRESS: u8 = 0x43;
}

/// Completion status codes (`enum iax_completion_status`).
pub mod status {
    /// Success.
    pub const SUCCESS: u8 = 0x01;
    /// Page fault (here: an address outside guest memory).
    pub const PAGE_FAULT: u8 = 0x04;
    /// Analytics error; the error code says which.
    pub const ANALYTICS_ERROR: u8 = 0x0a;
    /// Decompression output would exceed the destination.
    pub const OUTPUT_OVERFLOW: u8 = 0x0b;
    /// Unsupported opcode.
    pub const BAD_OPCODE: u8 = 0x10;
    /// Invalid operation flags.
    pub const INVALID_FLAGS: u8 = 0x11;
    /// Invalid transfer size.
    pub const INVALID_SIZE: u8 = 0x13;
    /// Invalid interrupt handle.
    pub const INT_HANDLE_INVALID: u8 = 0x19;
    /// Completion record address translation fault.
    pub const CR_TRANSLATION: u8 = 0x1a;
    /// Completion record address not 64-byte aligned.
    pub const CR_ALIGN: u8 = 0x1b;
    /// Operand (AECS) misaligned or too small.
    pub const ADDR_ALIGN: u8 = 0x1c;
    /// Invalid (de)compression flags.
    pub const INVALID_COMP_FLAGS: u8 = 0x30;
}

/// Analytics error codes (completion record byte 1 with status 0x0a),
/// as Intel QPL names them.
pub mod error_code {
    /// A code-length code is invalid (a repeat with no previous length).
    pub const BAD_CL_CODE: u8 = 2;
    /// The code-length code lengths do not form a code.
    pub const BAD_CL_CODE_LEN: u8 = 8;
    /// The literal/length code lengths do not form a code.
    pub const BAD_LL_CODE_LEN: u8 = 9;
    /// The distance code lengths do not form a code.
    pub const BAD_D_CODE_LEN: u8 = 10;
    /// An invalid literal/length code.
    pub const BAD_LL_CODE: u8 = 11;
    /// An invalid distance code.
    pub const BAD_D_CODE: u8 = 12;
    /// Block type 3.
    pub const INVALID_BLOCK_TYPE: u8 = 13;
    /// A stored block's LEN and NLEN disagree.
    pub const BAD_STORED_LEN: u8 = 14;
    /// The input ended before the final end-of-block.
    pub const BAD_EOF: u8 = 15;
    /// A match reaches back before the start of the output.
    pub const REF_BEFORE_START: u8 = 18;
    /// The AECS is unusable.
    pub const AECS_ERROR: u8 = 22;
    /// Compression output would exceed the destination.
    pub const COMP_OUTPUT_OVERFLOW: u8 = 0x19;
    /// The AECS gives a symbol the data needs no Huffman code.
    pub const INVALID_HUFFMAN_CODE: u8 = 30;
    /// More literal/length or distance codes than deflate allows.
    pub const TOO_MANY_CODES: u8 = 35;
}

fn u16_at(b: &[u8; 64], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8; 64], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8; 64], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// A descriptor as the device reads it (the 64 bytes copied at submission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    /// Bytes 0-3: PASID (19:0), reserved (30:20), privileged (31).
    pub pasid_priv: u32,
    /// Operation flags (24 bits).
    pub flags: u32,
    /// Opcode.
    pub opcode: u8,
    /// Completion record address.
    pub completion_addr: u64,
    /// Source 1 address.
    pub src1_addr: u64,
    /// Destination address.
    pub dst_addr: u64,
    /// Source 1 size in bytes.
    pub src1_size: u32,
    /// Interrupt handle (the MSI-X vector for MSI-X portals).
    pub int_handle: u16,
    /// Compression or decompression flags.
    pub op_flags: u16,
    /// Source 2 address (the AECS for compress).
    pub src2_addr: u64,
    /// Maximum destination size.
    pub max_dst_size: u32,
    /// Source 2 size.
    pub src2_size: u32,
    /// Filter flags.
    pub filter_flags: u32,
    /// Number of input elements.
    pub num_inputs: u32,
}

impl Descriptor {
    /// Decodes the 64 bytes written to a portal.
    pub fn parse(b: &[u8; 64]) -> Self {
        let dword1 = u32_at(b, 4);
        Self {
            pasid_priv: u32_at(b, 0),
            flags: dword1 & 0x00ff_ffff,
            opcode: b[7],
            completion_addr: u64_at(b, 8),
            src1_addr: u64_at(b, 16),
            dst_addr: u64_at(b, 24),
            src1_size: u32_at(b, 32),
            int_handle: u16_at(b, 36),
            op_flags: u16_at(b, 38),
            src2_addr: u64_at(b, 40),
            max_dst_size: u32_at(b, 48),
            src2_size: u32_at(b, 52),
            filter_flags: u32_at(b, 56),
            num_inputs: u32_at(b, 60),
        }
    }

    /// Encodes the descriptor (what a driver writes; tests use it).
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.pasid_priv.to_le_bytes());
        let dword1 = (self.flags & 0x00ff_ffff) | (u32::from(self.opcode) << 24);
        b[4..8].copy_from_slice(&dword1.to_le_bytes());
        b[8..16].copy_from_slice(&self.completion_addr.to_le_bytes());
        b[16..24].copy_from_slice(&self.src1_addr.to_le_bytes());
        b[24..32].copy_from_slice(&self.dst_addr.to_le_bytes());
        b[32..36].copy_from_slice(&self.src1_size.to_le_bytes());
        b[36..38].copy_from_slice(&self.int_handle.to_le_bytes());
        b[38..40].copy_from_slice(&self.op_flags.to_le_bytes());
        b[40..48].copy_from_slice(&self.src2_addr.to_le_bytes());
        b[48..52].copy_from_slice(&self.max_dst_size.to_le_bytes());
        b[52..56].copy_from_slice(&self.src2_size.to_le_bytes());
        b[56..60].copy_from_slice(&self.filter_flags.to_le_bytes());
        b[60..64].copy_from_slice(&self.num_inputs.to_le_bytes());
        b
    }

    /// How source 2 is read (flags 17:16).
    pub fn read_src2(&self) -> u32 {
        (self.flags >> FLAG_RD_SRC2_SHIFT) & 0b11
    }
}

/// The completion record the device writes (status byte last).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Completion {
    /// Status (0 means "not done", so never 0 here).
    pub status: u8,
    /// Analytics error code (with status 0x0a).
    pub error_code: u8,
    /// Fault information: bit 0 set for a faulting write.
    pub fault_info: u8,
    /// Source bytes consumed.
    pub bytes_completed: u32,
    /// Faulting address.
    pub fault_addr: u64,
    /// The offending flag bits (status 0x11 or 0x30).
    pub invalid_flags: u32,
    /// Bytes written (or, with output suppressed, that would be).
    pub output_size: u32,
    /// Valid bits in the last output byte (1 to 8; 0 with no output).
    pub output_bits: u8,
    /// 16-bit XOR checksum of the uncompressed data.
    pub xor_checksum: u16,
    /// CRC of the uncompressed data.
    pub crc: u32,
}

impl Completion {
    /// A record with just `status`.
    pub fn with_status(status: u8) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }

    /// An analytics error with `code`.
    pub fn analytics_error(code: u8) -> Self {
        Self {
            status: status::ANALYTICS_ERROR,
            error_code: code,
            ..Self::default()
        }
    }

    /// The 64-byte record.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0] = self.status;
        b[1] = self.error_code;
        b[2] = self.fault_info;
        b[4..8].copy_from_slice(&self.bytes_completed.to_le_bytes());
        b[8..16].copy_from_slice(&self.fault_addr.to_le_bytes());
        b[16..20].copy_from_slice(&self.invalid_flags.to_le_bytes());
        b[24..28].copy_from_slice(&self.output_size.to_le_bytes());
        b[28] = self.output_bits;
        b[30..32].copy_from_slice(&self.xor_checksum.to_le_bytes());
        b[32..36].copy_from_slice(&self.crc.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_descriptor_round_trips_through_bytes() {
        let d = Descriptor {
            pasid_priv: 0,
            flags: 0x01010c,
            opcode: opcode::COMPRESS,
            completion_addr: 0x1000,
            src1_addr: 0x2000,
            dst_addr: 0x3000,
            src1_size: 4096,
            int_handle: 1,
            op_flags: 6,
            src2_addr: 0x4000,
            max_dst_size: 4096,
            src2_size: 1568,
            filter_flags: 0,
            num_inputs: 0,
        };
        let bytes = d.to_bytes();
        assert_eq!(&bytes[4..8], &0x4301010cu32.to_le_bytes());
        assert_eq!(Descriptor::parse(&bytes), d);
        assert_eq!(d.read_src2(), RD_SRC2_AECS);
    }

    #[test]
    fn test_completion_record_fields_sit_where_iaa_crypto_reads_them() {
        let c = Completion {
            status: status::SUCCESS,
            output_size: 0x123,
            crc: 0xdead_beef,
            ..Completion::default()
        };
        let b = c.to_bytes();
        assert_eq!(b[0], 1);
        assert_eq!(&b[24..28], &0x123u32.to_le_bytes());
        assert_eq!(&b[32..36], &0xdead_beefu32.to_le_bytes());
    }
}
