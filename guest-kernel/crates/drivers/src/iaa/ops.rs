//! Descriptor work on the enabled WQ: compress, verify and decompress, at
//! DMA addresses or (through the driver's bounce buffers) on slices.

use super::aecs::{self, AECS_SIZE};
use super::desc::{self, Completion, Descriptor, DESC_SIZE};
use super::device::{Controller, VECTOR_WQ0};
use super::regs;
use super::IaaError;
use crate::compress::Compressor;
use crate::hal::Hal;
use crate::pci::{MsiTarget, PciDevice};

/// Bytes of each bounce buffer: the largest slice compress or decompress takes.
pub const BOUNCE_SIZE: usize = 8192;
/// Control page: the completion record at 0, the AECS at 0x400.
const COMPLETION_AT: u64 = 0;
const AECS_AT: u64 = 0x400;
const CONTROL_SIZE: u64 = 4096;
const _: () = assert!(AECS_AT.is_multiple_of(aecs::AECS_ALIGN));
const _: () = assert!(AECS_AT + AECS_SIZE as u64 <= CONTROL_SIZE);
/// Looks at the completion record before falling back to [`Hal::wait_until`]
/// (the VMM completes a descriptor before the store returns, so the first
/// look normally sees it).
const SPIN_LOOKS: u32 = 64;
/// How long a descriptor may take.
const COMPLETION_TIMEOUT_MS: u64 = 2000;

/// How the driver runs the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Where MSI-X messages go: admin commands then complete by vector 0
    /// (and descriptors may signal vector 1). `None`: everything polled.
    pub msi: Option<MsiTarget>,
    /// Ask for a completion interrupt per descriptor (iaa_crypto's
    /// `async_irq`); the record is still polled. Needs `msi`.
    pub completion_interrupts: bool,
    /// Decompress every compress result on the device and compare CRCs
    /// (iaa_crypto's `verify_compress`, on by default there).
    pub verify: bool,
}

impl Default for Options {
    /// Polled, no completion interrupts, verified: iaa_crypto's defaults
    /// without the interrupt-driven admin commands.
    fn default() -> Self {
        Self {
            msi: None,
            completion_interrupts: false,
            verify: true,
        }
    }
}

/// What a finished operation produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output {
    /// Bytes written to the destination.
    pub len: u32,
    /// CRC-32 of the uncompressed data.
    pub crc: u32,
}

/// An enabled IAA device with its DMA memory.
#[derive(Debug)]
pub struct Iaa<H: Hal> {
    hal: H,
    controller: Controller,
    options: Options,
    /// Control page (completion record, AECS), then the two bounce buffers.
    control: u64,
    src: u64,
    dst: u64,
    /// Offset in the portal page of the next descriptor (Linux cycles too).
    slot: u64,
    enabled: bool,
    descriptors: u64,
}

impl<H: Hal> Iaa<H> {
    /// Brings `device` up (see [`Controller`]) with `options`, and
    /// allocates the completion record, the AECS and the bounce buffers.
    pub fn new(hal: H, device: &PciDevice, options: Options) -> Result<Self, IaaError> {
        let mut controller = Controller::probe(&hal, device)?;
        if let Some(target) = options.msi {
            controller.enable_interrupts(&hal, device, target)?;
        }
        controller.configure(&hal)?;
        controller.enable_device(&hal)?;
        controller.enable_wq(&hal)?;
        let bounce = BOUNCE_SIZE as u64;
        let control = hal.dma_alloc((CONTROL_SIZE + 2 * bounce) as usize)?;
        hal.dma_write(control + AECS_AT, &aecs::fixed_mode());
        Ok(Self {
            hal,
            controller,
            options,
            control,
            src: control + CONTROL_SIZE,
            dst: control + CONTROL_SIZE + bounce,
            slot: 0,
            enabled: true,
            descriptors: 0,
        })
    }

    /// The device's registers and configuration.
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// The platform access this driver uses.
    pub fn hal(&self) -> &H {
        &self.hal
    }

    /// Asks for (or stops asking for) a completion interrupt per
    /// descriptor; it needs MSI-X set up, and the record is polled anyway.
    pub fn set_completion_interrupts(&mut self, on: bool) {
        self.options.completion_interrupts = on;
    }

    /// Descriptors submitted so far.
    pub fn descriptors(&self) -> u64 {
        self.descriptors
    }

    /// Disables and resets the device (Linux's unbind); descriptors are
    /// refused afterwards.
    pub fn disable(&mut self) -> Result<(), IaaError> {
        self.enabled = false;
        self.controller.disable(&self.hal)
    }

    /// Compresses `len` bytes at DMA address `src` into at most `max`
    /// bytes at `dst`: one final fixed-Huffman raw deflate block.
    pub fn compress_dma(
        &mut self,
        src: u64,
        len: u32,
        dst: u64,
        max: u32,
    ) -> Result<Output, IaaError> {
        let done = self.submit(Descriptor {
            flags: desc::FLAG_CRAV | desc::FLAG_RCR | desc::FLAG_CC | desc::FLAG_RD_SRC2_AECS,
            opcode: desc::OPCODE_COMPRESS,
            src1: src,
            dst,
            src1_size: len,
            op_flags: desc::COMP_FLAGS,
            src2: self.control + AECS_AT,
            max_dst_size: max,
            src2_size: AECS_SIZE as u32,
            ..self.blank()
        })?;
        let done = check(done, true)?;
        Ok(Output {
            len: done.output_size,
            crc: done.crc,
        })
    }

    /// iaa_crypto's verify: decompresses `len` bytes at `compressed` with
    /// the output suppressed (`original`, `original_len` bytes, is named as
    /// the destination but not written) and checks the CRC equals `crc`.
    pub fn verify_dma(
        &mut self,
        compressed: u64,
        len: u32,
        original: u64,
        original_len: u32,
        crc: u32,
    ) -> Result<(), IaaError> {
        let done = self.submit(Descriptor {
            flags: desc::FLAG_CRAV | desc::FLAG_RCR | desc::FLAG_CC,
            opcode: desc::OPCODE_DECOMPRESS,
            src1: compressed,
            dst: original,
            src1_size: len,
            op_flags: desc::DECOMP_FLAGS | desc::DECOMP_SUPPRESS_OUTPUT,
            max_dst_size: original_len,
            ..self.blank()
        })?;
        let done = check(done, false)?;
        if done.crc != crc {
            return Err(IaaError::VerifyFailed {
                compress: crc,
                verify: done.crc,
            });
        }
        Ok(())
    }

    /// Decompresses the raw deflate stream of `len` bytes at `src` into at
    /// most `max` bytes at `dst`.
    pub fn decompress_dma(
        &mut self,
        src: u64,
        len: u32,
        dst: u64,
        max: u32,
    ) -> Result<Output, IaaError> {
        let done = self.submit(Descriptor {
            flags: desc::FLAG_CRAV | desc::FLAG_RCR | desc::FLAG_CC,
            opcode: desc::OPCODE_DECOMPRESS,
            src1: src,
            dst,
            src1_size: len,
            op_flags: desc::DECOMP_FLAGS,
            max_dst_size: max,
            ..self.blank()
        })?;
        let done = check(done, false)?;
        Ok(Output {
            len: done.output_size,
            crc: done.crc,
        })
    }

    /// A descriptor with the completion record (and, if asked for, the
    /// completion interrupt) filled in.
    fn blank(&self) -> Descriptor {
        let interrupt = self.options.completion_interrupts && self.controller.msix().is_some();
        Descriptor {
            flags: 0,
            opcode: 0,
            completion: self.control + COMPLETION_AT,
            src1: 0,
            dst: 0,
            src1_size: 0,
            int_handle: if interrupt { VECTOR_WQ0 } else { 0 },
            op_flags: 0,
            src2: 0,
            max_dst_size: 0,
            src2_size: 0,
        }
    }

    /// Clears the completion record, stores the descriptor to the portal
    /// in one 64-byte write and polls the record's status byte.
    fn submit(&mut self, mut descriptor: Descriptor) -> Result<Completion, IaaError> {
        if !self.enabled {
            return Err(IaaError::NoWorkQueue);
        }
        if descriptor.int_handle != 0 {
            descriptor.flags |= desc::FLAG_RCI;
        }
        let record = self.control + COMPLETION_AT;
        self.hal.dma_write(record, &[0u8; DESC_SIZE]);
        let portal = self.controller.portal();
        if !portal.portal_write(&self.hal, self.slot, &descriptor.to_bytes()) {
            return Err(IaaError::PortalUnmapped);
        }
        self.slot = (self.slot + DESC_SIZE as u64) % regs::PORTAL_SIZE;
        self.descriptors += 1;
        let hal = &self.hal;
        let mut written = || hal.dma_load::<u8>(record) != 0;
        let arrived = (0..SPIN_LOOKS).any(|_| written())
            || hal.wait_until(COMPLETION_TIMEOUT_MS, &mut written);
        if !arrived {
            return Err(IaaError::CompletionTimeout);
        }
        let mut bytes = [0u8; DESC_SIZE];
        self.hal.dma_read(record, &mut bytes);
        Ok(Completion::from_bytes(&bytes))
    }

    /// Copies `data` into the source bounce buffer.
    fn stage(&self, data: &[u8]) -> Result<u32, IaaError> {
        if data.is_empty() || data.len() > BOUNCE_SIZE {
            return Err(IaaError::BadLength(data.len()));
        }
        self.hal.dma_write(self.src, data);
        Ok(data.len() as u32)
    }

    /// Copies the destination bounce buffer's first `len` bytes to `out`.
    fn unstage(&self, len: u32, out: &mut [u8]) -> Result<usize, IaaError> {
        let len = len as usize;
        let out = out.get_mut(..len).ok_or(IaaError::BadLength(len))?;
        self.hal.dma_read(self.dst, out);
        Ok(len)
    }
}

/// Maps a completion to a result the way iaa_crypto's `check_completion`
/// does (`compress` decides whether an analytics overflow means -E2BIG).
fn check(done: Completion, compress: bool) -> Result<Completion, IaaError> {
    match done.status {
        desc::STATUS_SUCCESS => Ok(done),
        desc::STATUS_WATCHDOG => Err(IaaError::Watchdog),
        desc::STATUS_ANALYTICS_ERROR
            if compress && done.error_code == desc::ERROR_COMP_BUF_OVERFLOW =>
        {
            Err(IaaError::CompressedTooLarge)
        }
        desc::STATUS_OUTPUT_OVERFLOW => Err(IaaError::OutputOverflow),
        status => Err(IaaError::Status {
            status,
            error_code: done.error_code,
        }),
    }
}

/// The destination size to give the device for `out`.
fn room(out: &[u8]) -> u32 {
    out.len().min(BOUNCE_SIZE) as u32
}

impl<H: Hal> Compressor for Iaa<H> {
    type Error = IaaError;

    fn name(&self) -> &'static str {
        "deflate-iaa"
    }

    fn compress(&mut self, page: &[u8], out: &mut [u8]) -> Result<usize, IaaError> {
        let len = self.stage(page)?;
        let done = self.compress_dma(self.src, len, self.dst, room(out))?;
        if self.options.verify {
            self.verify_dma(self.dst, done.len, self.src, len, done.crc)?;
        }
        self.unstage(done.len, out)
    }

    fn decompress(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize, IaaError> {
        let len = self.stage(input)?;
        let done = self.decompress_dma(self.src, len, self.dst, room(out))?;
        self.unstage(done.len, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion(status: u8, error_code: u8) -> Completion {
        Completion {
            status,
            error_code,
            output_size: 7,
            crc: 9,
        }
    }

    #[test]
    fn test_check_maps_statuses_like_iaa_crypto() {
        assert_eq!(check(completion(1, 0), true), Ok(completion(1, 0)));
        assert_eq!(
            check(completion(0x0a, 0x19), true),
            Err(IaaError::CompressedTooLarge)
        );
        assert_eq!(
            check(completion(0x0a, 0x19), false),
            Err(IaaError::Status {
                status: 0x0a,
                error_code: 0x19
            }),
            "only a compress overflow is -E2BIG"
        );
        assert_eq!(
            check(completion(0x0b, 0), false),
            Err(IaaError::OutputOverflow)
        );
        assert_eq!(check(completion(0x24, 0), true), Err(IaaError::Watchdog));
        assert!(IaaError::CompressedTooLarge.is_incompressible());
    }

    #[test]
    fn test_room_caps_destination_at_bounce_size() {
        assert_eq!(room(&[0; 100]), 100);
        assert_eq!(room(&[0; 3 * BOUNCE_SIZE]), BOUNCE_SIZE as u32);
    }
}
