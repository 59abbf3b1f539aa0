//! Runs one descriptor against guest memory: no-op, drain, compress and
//! decompress, with the validation and error statuses `iaa_crypto`
//! checks. Produces the completion record; the device writes it and
//! raises the interrupt.

use vm_memory::{Bytes, GuestAddress};

use super::codec::{
    checksum, Aecs, EncodeError, Encoder, EndProcessing, InflateError, Inflater, AECS_ALIGN,
    AECS_SIZE,
};
use super::descriptor::{
    error_code, opcode, status, Completion, Descriptor, FLAG_CRC32C, FLAG_RD_SRC2_SHIFT,
    FLAG_WR_SRC2_MASK, RD_SRC2_AECS,
};
use crate::virtio::GuestMemory;

/// Compression flags (descriptor bytes 38-39).
mod comp {
    /// Statistics mode: a histogram instead of output (not modelled).
    pub const STATS_MODE: u16 = 1 << 0;
    /// End processing (bits 3:2).
    pub const END_SHIFT: u16 = 2;
    /// Huffman-code literals only.
    pub const LITERALS_ONLY: u16 = 1 << 4;
    /// Bits this model accepts: flush (1), end processing, literals only.
    pub const SUPPORTED: u16 = 0b1_1110;
}

/// Decompression flags (descriptor bytes 38-39).
mod decomp {
    /// Decompression enabled (else the filter sees the input raw).
    pub const ENABLE: u16 = 1 << 0;
    /// Decode and checksum, but write nothing.
    pub const SUPPRESS_OUTPUT: u16 = 1 << 9;
    /// Bits this model accepts: enable, flush, the EOB controls (2-4),
    /// suppress output.
    pub const SUPPORTED: u16 = 0b10_0001_1111;
}

/// Counters of the descriptors run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Compress descriptors.
    pub compress: u64,
    /// Decompress descriptors (verifies included).
    pub decompress: u64,
    /// No-op and drain descriptors.
    pub other: u64,
    /// Descriptors that completed with an error status.
    pub errors: u64,
}

/// The engines' scratch: encoder and decoder state and the buffers the
/// operands are copied through.
#[derive(Debug, Default)]
pub struct Engine {
    encoder: Encoder,
    inflater: Inflater,
    src: Vec<u8>,
    compressed: Vec<u8>,
    inflated: Vec<u8>,
    /// What has been run.
    pub stats: EngineStats,
}

/// A fault on an operand.
fn page_fault(addr: u64, write: bool) -> Completion {
    Completion {
        status: status::PAGE_FAULT,
        fault_info: u8::from(write),
        fault_addr: addr,
        ..Completion::default()
    }
}

fn invalid(status: u8, flags: u32) -> Completion {
    Completion {
        status,
        invalid_flags: flags,
        ..Completion::default()
    }
}

/// The CRC the descriptor selects, continuing from `seed`.
fn crc(desc: &Descriptor, seed: u32, data: &[u8]) -> u32 {
    if desc.flags & FLAG_CRC32C != 0 {
        checksum::crc32c(seed, data)
    } else {
        checksum::crc32(seed, data)
    }
}

/// Copies `len` bytes at `addr` into `buf`, or the fault to report.
fn read_operand(
    mem: &GuestMemory,
    buf: &mut Vec<u8>,
    addr: u64,
    len: usize,
) -> Result<(), Completion> {
    if buf.len() < len {
        buf.resize(len, 0);
    }
    let dst = buf.get_mut(..len).ok_or_else(|| page_fault(addr, false))?;
    mem.read_slice(dst, GuestAddress(addr))
        .map_err(|_| page_fault(addr, false))
}

impl Engine {
    /// Runs `desc`; `max_transfer` bounds its sizes. The returned record's
    /// status is never 0.
    pub fn run(&mut self, mem: &GuestMemory, desc: &Descriptor, max_transfer: u64) -> Completion {
        let completion = match desc.opcode {
            opcode::NOOP | opcode::DRAIN => {
                self.stats.other += 1;
                Completion::with_status(status::SUCCESS)
            }
            opcode::COMPRESS => {
                self.stats.compress += 1;
                self.compress(mem, desc, max_transfer)
                    .unwrap_or_else(|error| error)
            }
            opcode::DECOMPRESS => {
                self.stats.decompress += 1;
                self.decompress(mem, desc, max_transfer)
                    .unwrap_or_else(|error| error)
            }
            _ => Completion::with_status(status::BAD_OPCODE),
        };
        if completion.status != status::SUCCESS {
            self.stats.errors += 1;
        }
        completion
    }

    /// Source 1's size, if it is within 1..=max_transfer.
    fn src1_len(desc: &Descriptor, max_transfer: u64) -> Result<usize, Completion> {
        let size = u64::from(desc.src1_size);
        if size == 0 || size > max_transfer {
            return Err(Completion::with_status(status::INVALID_SIZE));
        }
        usize::try_from(size).map_err(|_| Completion::with_status(status::INVALID_SIZE))
    }

    /// The output limit: the destination size, capped at the transfer limit.
    fn dst_limit(desc: &Descriptor, max_transfer: u64) -> usize {
        usize::try_from(u64::from(desc.max_dst_size).min(max_transfer)).unwrap_or(0)
    }

    fn read_aecs(mem: &GuestMemory, desc: &Descriptor) -> Result<Aecs, Completion> {
        if !desc.src2_addr.is_multiple_of(AECS_ALIGN) || (desc.src2_size as usize) < AECS_SIZE {
            return Err(Completion::with_status(status::ADDR_ALIGN));
        }
        let mut bytes = [0u8; AECS_SIZE];
        mem.read_slice(&mut bytes, GuestAddress(desc.src2_addr))
            .map_err(|_| page_fault(desc.src2_addr, false))?;
        Aecs::parse(&bytes).map_err(|_| Completion::analytics_error(error_code::AECS_ERROR))
    }

    fn compress(
        &mut self,
        mem: &GuestMemory,
        desc: &Descriptor,
        max_transfer: u64,
    ) -> Result<Completion, Completion> {
        let unsupported = desc.op_flags & !comp::SUPPORTED;
        if unsupported != 0 || desc.op_flags & comp::STATS_MODE != 0 {
            return Err(invalid(
                status::INVALID_COMP_FLAGS,
                u32::from(desc.op_flags),
            ));
        }
        if desc.read_src2() != RD_SRC2_AECS || desc.flags & FLAG_WR_SRC2_MASK != 0 {
            let bad = desc.flags & ((0b11 << FLAG_RD_SRC2_SHIFT) | FLAG_WR_SRC2_MASK);
            return Err(invalid(status::INVALID_FLAGS, bad));
        }
        let len = Self::src1_len(desc, max_transfer)?;
        let aecs = Self::read_aecs(mem, desc)?;
        read_operand(mem, &mut self.src, desc.src1_addr, len)?;
        let input = self.src.get(..len).unwrap_or_default();
        let end = match (desc.op_flags >> comp::END_SHIFT) & 0b11 {
            0 => EndProcessing::None,
            1 => EndProcessing::Eob,
            n => EndProcessing::EobStored {
                final_block: n == 3,
            },
        };
        let literals_only = desc.op_flags & comp::LITERALS_ONLY != 0;
        let limit = Self::dst_limit(desc, max_transfer);
        let encoded = self
            .encoder
            .encode(
                &aecs,
                input,
                literals_only,
                end,
                &mut self.compressed,
                limit,
            )
            .map_err(|e| match e {
                EncodeError::Overflow => {
                    Completion::analytics_error(error_code::COMP_OUTPUT_OVERFLOW)
                }
                EncodeError::MissingCode => {
                    Completion::analytics_error(error_code::INVALID_HUFFMAN_CODE)
                }
            })?;
        let output = self.compressed.get(..encoded.len).unwrap_or_default();
        mem.write_slice(output, GuestAddress(desc.dst_addr))
            .map_err(|_| page_fault(desc.dst_addr, true))?;
        Ok(Completion {
            status: status::SUCCESS,
            bytes_completed: desc.src1_size,
            output_size: encoded.len as u32,
            output_bits: encoded.last_bits,
            xor_checksum: checksum::xor16(aecs.xor_seed as u16, input),
            crc: crc(desc, aecs.crc_seed, input),
            ..Completion::default()
        })
    }

    fn decompress(
        &mut self,
        mem: &GuestMemory,
        desc: &Descriptor,
        max_transfer: u64,
    ) -> Result<Completion, Completion> {
        let unsupported = desc.op_flags & !decomp::SUPPORTED;
        if unsupported != 0 || desc.op_flags & decomp::ENABLE == 0 {
            return Err(invalid(
                status::INVALID_COMP_FLAGS,
                u32::from(desc.op_flags),
            ));
        }
        if desc.read_src2() != 0 || desc.flags & FLAG_WR_SRC2_MASK != 0 {
            let bad = desc.flags & ((0b11 << FLAG_RD_SRC2_SHIFT) | FLAG_WR_SRC2_MASK);
            return Err(invalid(status::INVALID_FLAGS, bad));
        }
        let len = Self::src1_len(desc, max_transfer)?;
        read_operand(mem, &mut self.src, desc.src1_addr, len)?;
        let limit = Self::dst_limit(desc, max_transfer);
        if self.inflated.len() < limit {
            self.inflated.resize(limit, 0);
        }
        let input = self.src.get(..len).unwrap_or_default();
        let out = self.inflated.get_mut(..limit).unwrap_or_default();
        let produced = self.inflater.inflate(input, out).map_err(|e| match e {
            InflateError::Overflow => Completion::with_status(status::OUTPUT_OVERFLOW),
            InflateError::Corrupt(code) => Completion::analytics_error(code),
        })?;
        let output = out.get(..produced).unwrap_or_default();
        if desc.op_flags & decomp::SUPPRESS_OUTPUT == 0 {
            mem.write_slice(output, GuestAddress(desc.dst_addr))
                .map_err(|_| page_fault(desc.dst_addr, true))?;
        }
        Ok(Completion {
            status: status::SUCCESS,
            bytes_completed: desc.src1_size,
            output_size: produced as u32,
            output_bits: if produced > 0 { 8 } else { 0 },
            xor_checksum: checksum::xor16(0, output),
            crc: crc(desc, 0, output),
            ..Completion::default()
        })
    }
}
