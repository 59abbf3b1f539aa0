//! The Xen PVH `struct hvm_start_info` handed over in EBX at entry.
//!
//! Layout (all little endian): magic u32, version u32, flags u32,
//! nr_modules u32, modlist_paddr u64, cmdline_paddr u64, rsdp_paddr u64,
//! and from version 1 on: memmap_paddr u64, memmap_entries u32, reserved u32.

use core::fmt;

use crate::arch::paging;

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;
/// Size of `struct hvm_start_info` (version 1).
pub const START_INFO_SIZE: u64 = 56;
/// Longest command line we read, excluding the NUL.
pub const CMDLINE_MAX: usize = 4096;
/// Memory-map entry type for usable RAM.
pub const MEMMAP_TYPE_RAM: u32 = 1;

/// One `struct hvm_memmap_table_entry`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemmapEntry {
    /// Physical start address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// Type (1 = RAM, as in E820).
    pub kind: u32,
    /// Must be zero.
    pub reserved: u32,
}

/// One `struct hvm_modlist_entry`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModlistEntry {
    /// Physical start address of the module.
    pub paddr: u64,
    /// Size of the module in bytes.
    pub size: u64,
    /// Physical address of the module's command line, or 0.
    pub cmdline_paddr: u64,
    /// Must be zero.
    pub reserved: u64,
}

/// Why the start info could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PvhError {
    /// The pointer in EBX was 0 or not identity-mapped.
    BadAddress(u64),
    /// The magic number did not match.
    BadMagic(u32),
}

impl fmt::Display for PvhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadAddress(a) => write!(f, "PVH start info at bad address {a:#x}"),
            Self::BadMagic(m) => write!(f, "PVH start info magic {m:#x} != {START_INFO_MAGIC:#x}"),
        }
    }
}

/// The fields of `hvm_start_info` this kernel uses (copied out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartInfo {
    /// Physical address of the structure itself.
    pub paddr: u64,
    /// Structure version (memmap fields exist from 1 on).
    pub version: u32,
    /// SIF_* flags.
    pub flags: u32,
    /// Number of modules at `modlist_paddr`.
    pub nr_modules: u32,
    /// Physical address of the module list.
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line, or 0.
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP, or 0.
    pub rsdp_paddr: u64,
    /// Physical address of the memory map (version >= 1).
    pub memmap_paddr: u64,
    /// Number of memory-map entries (version >= 1).
    pub memmap_entries: u32,
}

fn read_u32(addr: u64) -> u32 {
    // SAFETY: callers pass addresses inside the start info, which `parse`
    // checked is identity-mapped; unaligned reads are allowed.
    unsafe { core::ptr::read_unaligned(addr as *const u32) }
}

fn read_u64(addr: u64) -> u64 {
    // SAFETY: as in `read_u32`.
    unsafe { core::ptr::read_unaligned(addr as *const u64) }
}

impl StartInfo {
    /// Reads and checks the start info at physical `paddr`.
    pub fn parse(paddr: u64) -> Result<Self, PvhError> {
        if paddr == 0 || !paging::is_identity_mapped(paddr, START_INFO_SIZE) {
            return Err(PvhError::BadAddress(paddr));
        }
        let magic = read_u32(paddr);
        if magic != START_INFO_MAGIC {
            return Err(PvhError::BadMagic(magic));
        }
        let version = read_u32(paddr + 4);
        let (memmap_paddr, memmap_entries) = if version >= 1 {
            (read_u64(paddr + 40), read_u32(paddr + 48))
        } else {
            (0, 0)
        };
        Ok(Self {
            paddr,
            version,
            flags: read_u32(paddr + 8),
            nr_modules: read_u32(paddr + 12),
            modlist_paddr: read_u64(paddr + 16),
            cmdline_paddr: read_u64(paddr + 24),
            rsdp_paddr: read_u64(paddr + 32),
            memmap_paddr,
            memmap_entries,
        })
    }

    /// The command line (empty if absent, not UTF-8, or unmapped).
    pub fn cmdline(&self) -> &'static str {
        let addr = self.cmdline_paddr;
        if addr == 0 || !paging::is_identity_mapped(addr, CMDLINE_MAX as u64 + 1) {
            return "";
        }
        let base = addr as *const u8;
        // SAFETY: the VMM placed a NUL-terminated string at `addr`, which is
        // identity-mapped for CMDLINE_MAX + 1 bytes; the frame allocator never
        // hands out that memory, so it stays valid for 'static.
        let bytes = unsafe {
            let len = (0..CMDLINE_MAX)
                .find(|&i| *base.add(i) == 0)
                .unwrap_or(CMDLINE_MAX);
            core::slice::from_raw_parts(base, len)
        };
        core::str::from_utf8(bytes).unwrap_or("")
    }

    /// Length in bytes of the command line including its NUL (0 if absent).
    pub fn cmdline_len(&self) -> u64 {
        if self.cmdline_paddr == 0 {
            0
        } else {
            self.cmdline().len() as u64 + 1
        }
    }

    /// The memory map (empty for version 0 or if unmapped).
    pub fn memmap(&self) -> &'static [MemmapEntry] {
        table(self.memmap_paddr, self.memmap_entries)
    }

    /// The module list (empty if none).
    pub fn modules(&self) -> &'static [ModlistEntry] {
        table(self.modlist_paddr, self.nr_modules)
    }
}

/// A table of `count` `T`s at physical `paddr`, or empty if it is not mapped.
fn table<T>(paddr: u64, count: u32) -> &'static [T] {
    let len = u64::from(count) * core::mem::size_of::<T>() as u64;
    let aligned = paddr.is_multiple_of(core::mem::align_of::<T>() as u64);
    if paddr == 0 || count == 0 || !aligned || !paging::is_identity_mapped(paddr, len) {
        return &[];
    }
    // SAFETY: the VMM placed `count` initialised, aligned entries at `paddr`
    // (identity-mapped, checked above); that memory is never reused, so the
    // slice stays valid for 'static. Any bit pattern is a valid T here.
    unsafe { core::slice::from_raw_parts(paddr as *const T, count as usize) }
}
