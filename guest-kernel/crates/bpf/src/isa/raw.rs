//! The 8-byte instruction slot as it sits in memory.

/// One raw instruction slot: `{opcode, dst:4 | src:4, off: i16, imm: i32}`,
/// little endian, as in `struct bpf_insn`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RawInsn {
    /// Opcode byte.
    pub code: u8,
    /// Destination register (low nibble of byte 1).
    pub dst: u8,
    /// Source register (high nibble of byte 1).
    pub src: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Signed 32-bit immediate.
    pub imm: i32,
}

impl RawInsn {
    /// Build a slot from its fields (`dst`/`src` are masked to 4 bits).
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
        RawInsn {
            code,
            dst: dst & 0xf,
            src: src & 0xf,
            off,
            imm,
        }
    }

    /// Parse 8 little-endian bytes.
    pub fn from_bytes(b: [u8; 8]) -> RawInsn {
        RawInsn {
            code: b[0],
            dst: b[1] & 0xf,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The 8 little-endian bytes of this slot.
    pub fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.code,
            (self.dst & 0xf) | (self.src << 4),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }
}

/// Split a byte buffer into slots; `None` when its length is not a multiple
/// of 8.
pub fn slots_from_bytes(bytes: &[u8]) -> Option<alloc::vec::Vec<RawInsn>> {
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                RawInsn::from_bytes(b)
            })
            .collect(),
    )
}
