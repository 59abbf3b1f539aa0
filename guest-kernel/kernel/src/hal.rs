//! The drivers' register-access trait ([`guest_drivers::Hal`]) on this
//! kernel: MMIO and ECAM configuration accesses are volatile loads and
//! stores through the uncached part of the identity map; DMA memory comes
//! from one arena of contiguous frames; waiting is `sti; hlt` until an
//! interrupt (MSI-X or the timer), bounded by timer ticks.

use core::sync::atomic::{Ordering, compiler_fence};

use guest_drivers::{Bdf, Hal, HalError, Register};
use spin::{Mutex, Once};
use x86_64::instructions::interrupts;

use crate::acpi::EcamRegion;
use crate::arch::paging::{IDENTITY_MAP_END, WRITE_BACK_END};
use crate::frame_alloc::{self, FRAME_SIZE};
use crate::{apic, boot};

/// Frames set aside for DMA at the first allocation (1.5 MiB: the
/// drivers' rings and buffers, and `selftest=blkbench`'s 1 MiB requests).
const DMA_ARENA_FRAMES: u64 = 384;
/// Milliseconds per timer tick.
const TICK_MS: u64 = 10;
/// Size of a function's ECAM configuration space.
const CONFIG_SPACE_SIZE: u64 = 4096;

/// The DMA arena: its end, and the next free byte.
#[derive(Debug, Clone, Copy)]
struct Arena {
    end: u64,
    next: u64,
}

static ARENA: Once<Option<Mutex<Arena>>> = Once::new();
/// The arena's bounds once it exists (read without the lock).
static ARENA_BOUNDS: Once<(u64, u64)> = Once::new();

/// 64 bytes on a cache-line boundary (a `movdir64b` source).
#[repr(C, align(64))]
struct CacheLine([u8; 64]);

/// Hardware access for the drivers. Cheap to copy: one per driver.
#[derive(Debug, Clone, Copy)]
pub struct KernelHal {
    ecam: Option<EcamRegion>,
}

impl KernelHal {
    /// Access through the ECAM window boot found in the MCFG (without
    /// one, every configuration read returns all ones).
    pub fn new() -> Self {
        Self {
            ecam: boot::info().pci_ecam,
        }
    }

    /// The ECAM address of `bdf`'s register `offset`, `size` bytes wide,
    /// if the window covers it and the access is aligned.
    fn config_address(&self, bdf: Bdf, offset: u16, size: usize) -> Option<u64> {
        let ecam = self.ecam?;
        let (offset, size) = (u64::from(offset), size as u64);
        let covered = (ecam.bus_start..=ecam.bus_end).contains(&bdf.bus);
        let fits = offset.is_multiple_of(size) && offset + size <= CONFIG_SPACE_SIZE;
        let addr = ecam.base.checked_add(bdf.ecam_offset() + offset)?;
        (covered && fits && is_device_memory(addr, size)).then_some(addr)
    }
}

impl Default for KernelHal {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `[addr, addr + len)` lies in the uncached MMIO part of the
/// identity map, where no RAM (so no Rust object) lives.
fn is_device_memory(addr: u64, len: u64) -> bool {
    addr >= WRITE_BACK_END && addr.checked_add(len).is_some_and(|e| e <= IDENTITY_MAP_END)
}

/// Whether `[addr, addr + len)` lies inside memory [`Hal::dma_alloc`] handed out.
fn is_dma_memory(addr: u64, len: u64) -> bool {
    ARENA_BOUNDS.get().is_some_and(|&(start, end)| {
        addr >= start && addr.checked_add(len).is_some_and(|e| e <= end)
    })
}

fn arena() -> Option<&'static Mutex<Arena>> {
    ARENA
        .call_once(|| {
            let start = frame_alloc::alloc_contiguous(DMA_ARENA_FRAMES)?;
            let end = start + DMA_ARENA_FRAMES * FRAME_SIZE;
            ARENA_BOUNDS.call_once(|| (start, end));
            Some(Mutex::new(Arena { end, next: start }))
        })
        .as_ref()
}

fn mmio_read<T: Register>(addr: u64) -> T {
    if !is_device_memory(addr, T::SIZE as u64) {
        return T::from_u64(u64::MAX);
    }
    // SAFETY: the address is in the identity-mapped, uncached MMIO hole
    // (checked above), where no RAM and so no Rust object lives; the read
    // reaches a device register (or nothing, reading all ones).
    unsafe { core::ptr::read_volatile(addr as *const T) }
}

fn mmio_write<T: Register>(addr: u64, value: T) {
    if is_device_memory(addr, T::SIZE as u64) {
        // SAFETY: as in `mmio_read`: a device register in the MMIO hole,
        // never memory the kernel uses.
        unsafe { core::ptr::write_volatile(addr as *mut T, value) }
    }
}

impl Hal for KernelHal {
    fn map_mmio(&self, paddr: u64, len: u64) -> Result<u64, HalError> {
        if is_device_memory(paddr, len) {
            Ok(paddr)
        } else {
            Err(HalError::Unmapped { addr: paddr, len })
        }
    }

    fn mmio_read<T: Register>(&self, addr: u64) -> T {
        mmio_read(addr)
    }

    fn mmio_write<T: Register>(&self, addr: u64, value: T) {
        mmio_write(addr, value);
    }

    fn config_read<T: Register>(&self, bdf: Bdf, offset: u16) -> T {
        match self.config_address(bdf, offset, T::SIZE) {
            Some(addr) => mmio_read(addr),
            None => T::from_u64(u64::MAX),
        }
    }

    fn config_write<T: Register>(&self, bdf: Bdf, offset: u16, value: T) {
        if let Some(addr) = self.config_address(bdf, offset, T::SIZE) {
            mmio_write(addr, value);
        }
    }

    fn dma_alloc(&self, size: usize) -> Result<u64, HalError> {
        let mut arena = arena().ok_or(HalError::OutOfMemory(size))?.lock();
        let bytes = (size as u64).next_multiple_of(FRAME_SIZE);
        let addr = arena.next;
        if bytes == 0 || arena.end - addr < bytes {
            return Err(HalError::OutOfMemory(size));
        }
        arena.next = addr + bytes;
        // SAFETY: [addr, addr + bytes) is arena memory no one has been
        // handed yet: frames taken from the allocator for DMA only,
        // identity-mapped write-back RAM.
        unsafe { core::ptr::write_bytes(addr as *mut u8, 0, bytes as usize) };
        Ok(addr)
    }

    fn dma_read(&self, paddr: u64, buf: &mut [u8]) {
        if !is_dma_memory(paddr, buf.len() as u64) {
            buf.fill(0xff);
            return;
        }
        compiler_fence(Ordering::SeqCst);
        // SAFETY: the source is DMA arena memory (checked above), which no
        // Rust object occupies; `buf` is a distinct, valid slice.
        unsafe { core::ptr::copy_nonoverlapping(paddr as *const u8, buf.as_mut_ptr(), buf.len()) };
        compiler_fence(Ordering::SeqCst);
    }

    fn dma_write(&self, paddr: u64, data: &[u8]) {
        if !is_dma_memory(paddr, data.len() as u64) {
            return;
        }
        compiler_fence(Ordering::SeqCst);
        // SAFETY: the destination is DMA arena memory (checked above), which
        // no Rust object occupies; `data` is a distinct, valid slice.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), paddr as *mut u8, data.len()) };
        compiler_fence(Ordering::SeqCst);
    }

    fn dma_load<T: Register>(&self, paddr: u64) -> T {
        if !is_dma_memory(paddr, T::SIZE as u64) || !paddr.is_multiple_of(T::SIZE as u64) {
            return T::from_u64(u64::MAX);
        }
        // SAFETY: an aligned location in the DMA arena (checked above); the
        // device may write it concurrently, hence the volatile access.
        unsafe { core::ptr::read_volatile(paddr as *const T) }
    }

    fn dma_store<T: Register>(&self, paddr: u64, value: T) {
        if !is_dma_memory(paddr, T::SIZE as u64) || !paddr.is_multiple_of(T::SIZE as u64) {
            return;
        }
        // SAFETY: as in `dma_load`.
        unsafe { core::ptr::write_volatile(paddr as *mut T, value) }
    }

    fn portal_write(&self, addr: u64, data: &[u8; 64]) {
        if !is_device_memory(addr, 64) || !addr.is_multiple_of(64) {
            return;
        }
        // A 64-byte aligned copy: the source then never straddles a page.
        let line = CacheLine(*data);
        // SAFETY: `movdir64b` reads the 64 bytes of `line` (a live, aligned
        // local) and writes 64 bytes at `addr`, a 64-byte aligned device
        // address in the uncached MMIO hole (checked above), where no Rust
        // object lives. Without `nomem`, the asm also orders every earlier
        // DMA write before the store, as Linux's wmb() does.
        unsafe {
            core::arch::asm!(
                "movdir64b rax, zmmword ptr [rdx]",
                in("rax") addr,
                in("rdx") line.0.as_ptr(),
                options(nostack, preserves_flags),
            );
        }
    }

    fn wait_until(&self, timeout_ms: u64, done: &mut dyn FnMut() -> bool) -> bool {
        if done() {
            return true;
        }
        if !interrupts::are_enabled() {
            // Nothing could wake a hlt: one last look.
            return done();
        }
        let start = apic::ticks();
        let limit = timeout_ms.div_ceil(TICK_MS) + 1;
        loop {
            interrupts::disable();
            if done() {
                interrupts::enable();
                return true;
            }
            if apic::ticks() - start > limit {
                interrupts::enable();
                return false;
            }
            // An interrupt that arrived since the check is taken right
            // after `sti`, so it ends this hlt.
            interrupts::enable_and_hlt();
        }
    }
}
