//! The register-access trait every driver reaches hardware through: MMIO,
//! PCI configuration space and DMA memory. The kernel implements it with
//! volatile accesses through its identity map and its frame allocator; host
//! tests implement it straight on top of the device models.

use core::fmt;

/// A PCI function's address: bus, device (0..32), function (0..8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bdf {
    /// Bus number.
    pub bus: u8,
    /// Device number, 0 to 31.
    pub device: u8,
    /// Function number, 0 to 7.
    pub function: u8,
}

impl Bdf {
    /// The function at `bus`:`device`.`function`.
    pub const fn new(bus: u8, device: u8, function: u8) -> Self {
        Self {
            bus,
            device,
            function,
        }
    }

    /// This function's offset in an ECAM window (4 KiB per function).
    pub const fn ecam_offset(self) -> u64 {
        ((self.bus as u64) << 20) | ((self.device as u64) << 15) | ((self.function as u64) << 12)
    }
}

impl fmt::Display for Bdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A register width: `u8`, `u16`, `u32` or `u64`. Little-endian on the wire.
pub trait Register: sealed::Sealed + Copy + fmt::Debug + Eq {
    /// Size in bytes.
    const SIZE: usize;
    /// The value truncated from `value`.
    fn from_u64(value: u64) -> Self;
    /// The value widened to `u64`.
    fn to_u64(self) -> u64;
}

macro_rules! register {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Register for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            #[allow(clippy::cast_possible_truncation)]
            fn from_u64(value: u64) -> Self {
                value as $t
            }
            fn to_u64(self) -> u64 {
                u64::from(self)
            }
        }
    )*};
}
register!(u8, u16, u32, u64);

/// Why a platform request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HalError {
    /// No physically contiguous memory of this many bytes is left.
    OutOfMemory(usize),
    /// This physical range cannot be reached as MMIO (not mapped).
    Unmapped {
        /// First byte.
        addr: u64,
        /// Length in bytes.
        len: u64,
    },
}

impl fmt::Display for HalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfMemory(bytes) => write!(f, "no {bytes} bytes of DMA memory left"),
            Self::Unmapped { addr, len } => {
                write!(f, "MMIO range {addr:#x}+{len:#x} is not mapped")
            }
        }
    }
}

impl core::error::Error for HalError {}

/// Hardware access for the drivers.
///
/// Ordering contract: every access below (MMIO, configuration, DMA) takes
/// effect in program order as the device sees it; the implementation adds
/// whatever barriers its platform needs (on x86, compiler barriers around
/// DMA copies: MMIO is uncached and stores are not reordered).
pub trait Hal {
    /// Makes the physical MMIO range `[paddr, paddr + len)` reachable and
    /// returns the address to pass to [`Hal::mmio_read`]/[`Hal::mmio_write`]
    /// for `paddr` (the kernel's identity map returns `paddr`).
    fn map_mmio(&self, paddr: u64, len: u64) -> Result<u64, HalError>;
    /// A `T`-wide MMIO read at `addr` (from [`Hal::map_mmio`]).
    fn mmio_read<T: Register>(&self, addr: u64) -> T;
    /// A `T`-wide MMIO write at `addr` (from [`Hal::map_mmio`]).
    fn mmio_write<T: Register>(&self, addr: u64, value: T);
    /// A `T`-wide configuration read of `bdf` at `offset` (0..4096);
    /// absent functions read all ones.
    fn config_read<T: Register>(&self, bdf: Bdf, offset: u16) -> T;
    /// A `T`-wide configuration write of `bdf` at `offset` (0..4096).
    fn config_write<T: Register>(&self, bdf: Bdf, offset: u16, value: T);
    /// Allocates `size` bytes of zeroed, physically contiguous, page-aligned
    /// DMA memory and returns its physical address. It is never freed.
    fn dma_alloc(&self, size: usize) -> Result<u64, HalError>;
    /// Copies DMA memory at `paddr` into `buf`.
    fn dma_read(&self, paddr: u64, buf: &mut [u8]);
    /// Copies `data` into DMA memory at `paddr`.
    fn dma_write(&self, paddr: u64, data: &[u8]);
    /// A single `T`-wide read of DMA memory (a ring index the device updates).
    fn dma_load<T: Register>(&self, paddr: u64) -> T;
    /// A single `T`-wide write of DMA memory (a ring index the device reads).
    fn dma_store<T: Register>(&self, paddr: u64, value: T);
    /// One 64-byte direct store of `data` to the MMIO address `addr` (from
    /// [`Hal::map_mmio`], 64-byte aligned): the device sees a single
    /// 64-byte write, never pieces (x86 `movdir64b`; a work-queue portal
    /// takes a descriptor only this way).
    fn portal_write(&self, addr: u64, data: &[u8; 64]);
    /// Waits until `done` returns true, at most about `timeout_ms`
    /// milliseconds; returns whether it did. The kernel sleeps until the
    /// next interrupt between checks; host tests let the device run.
    fn wait_until(&self, timeout_ms: u64, done: &mut dyn FnMut() -> bool) -> bool;
}

/// A shared reference reaches the same hardware (drivers can borrow one
/// platform handle).
impl<H: Hal> Hal for &H {
    fn map_mmio(&self, paddr: u64, len: u64) -> Result<u64, HalError> {
        (**self).map_mmio(paddr, len)
    }
    fn mmio_read<T: Register>(&self, addr: u64) -> T {
        (**self).mmio_read(addr)
    }
    fn mmio_write<T: Register>(&self, addr: u64, value: T) {
        (**self).mmio_write(addr, value)
    }
    fn config_read<T: Register>(&self, bdf: Bdf, offset: u16) -> T {
        (**self).config_read(bdf, offset)
    }
    fn config_write<T: Register>(&self, bdf: Bdf, offset: u16, value: T) {
        (**self).config_write(bdf, offset, value)
    }
    fn dma_alloc(&self, size: usize) -> Result<u64, HalError> {
        (**self).dma_alloc(size)
    }
    fn dma_read(&self, paddr: u64, buf: &mut [u8]) {
        (**self).dma_read(paddr, buf)
    }
    fn dma_write(&self, paddr: u64, data: &[u8]) {
        (**self).dma_write(paddr, data)
    }
    fn dma_load<T: Register>(&self, paddr: u64) -> T {
        (**self).dma_load(paddr)
    }
    fn dma_store<T: Register>(&self, paddr: u64, value: T) {
        (**self).dma_store(paddr, value)
    }
    fn portal_write(&self, addr: u64, data: &[u8; 64]) {
        (**self).portal_write(addr, data)
    }
    fn wait_until(&self, timeout_ms: u64, done: &mut dyn FnMut() -> bool) -> bool {
        (**self).wait_until(timeout_ms, done)
    }
}

/// A mapped MMIO region (a BAR, or part of one), accessed by offset with
/// bounds checks: an access outside the region reads all ones and writes
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mmio {
    /// Address from [`Hal::map_mmio`].
    base: u64,
    /// Length in bytes.
    len: u64,
}

impl Mmio {
    /// Maps `[paddr, paddr + len)` through `hal`.
    pub fn map<H: Hal>(hal: &H, paddr: u64, len: u64) -> Result<Self, HalError> {
        Ok(Self {
            base: hal.map_mmio(paddr, len)?,
            len,
        })
    }

    /// Length of the region in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The part `[offset, offset + len)` of this region, if inside it.
    pub fn sub(&self, offset: u64, len: u64) -> Option<Self> {
        let end = offset.checked_add(len)?;
        (end <= self.len).then_some(Self {
            base: self.base + offset,
            len,
        })
    }

    fn fits<T: Register>(&self, offset: u64) -> bool {
        offset
            .checked_add(T::SIZE as u64)
            .is_some_and(|end| end <= self.len)
    }

    /// A `T`-wide read at `offset`.
    pub fn read<H: Hal, T: Register>(&self, hal: &H, offset: u64) -> T {
        if self.fits::<T>(offset) {
            hal.mmio_read(self.base + offset)
        } else {
            T::from_u64(u64::MAX)
        }
    }

    /// A `T`-wide write at `offset`.
    pub fn write<H: Hal, T: Register>(&self, hal: &H, offset: u64, value: T) {
        if self.fits::<T>(offset) {
            hal.mmio_write(self.base + offset, value);
        }
    }

    /// A 64-byte direct store at `offset` ([`Hal::portal_write`]); returns
    /// false (and stores nothing) unless the 64 bytes lie inside the region
    /// and start 64-byte aligned.
    pub fn portal_write<H: Hal>(&self, hal: &H, offset: u64, data: &[u8; 64]) -> bool {
        let addr = self.base.checked_add(offset);
        let inside = offset.checked_add(64).is_some_and(|end| end <= self.len);
        match addr {
            Some(addr) if inside && addr.is_multiple_of(64) => {
                hal.portal_write(addr, data);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bdf_formats_and_locates_in_ecam() {
        let bdf = Bdf::new(0x12, 0x1f, 7);
        assert_eq!(alloc::format!("{bdf}"), "12:1f.7");
        assert_eq!(bdf.ecam_offset(), 0x012f_f000);
    }

    #[test]
    fn test_register_truncates_and_widens() {
        assert_eq!(u16::from_u64(0x1234_5678), 0x5678);
        assert_eq!(u8::SIZE, 1);
        assert_eq!(0xabu8.to_u64(), 0xab);
    }

    #[test]
    fn test_mmio_sub_region_checks_bounds() {
        let region = Mmio {
            base: 0x1000,
            len: 0x100,
        };
        assert_eq!(
            region.sub(0x80, 0x80),
            Some(Mmio {
                base: 0x1080,
                len: 0x80
            })
        );
        assert_eq!(region.sub(0x80, 0x81), None);
        assert_eq!(region.sub(u64::MAX, 2), None);
        assert!(region.fits::<u64>(0xf8));
        assert!(!region.fits::<u64>(0xf9));
    }
}
