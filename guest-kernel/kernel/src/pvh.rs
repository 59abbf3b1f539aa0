//! The Xen PVH `struct hvm_start_info` handed over in EBX at entry.
//!
//! Layout (all little endian): magic u32, version u32, flags u32,
//! nr_modules u32, modlist_paddr u64, cmdline_paddr u64, rsdp_paddr u64,
//! and from version 1 on: memmap_paddr u64, memmap_entries u32, reserved u32.
//! [`StartInfo::parse`] copies it out with one read after checking the
//! mapping; the tables and strings it points to are read in place.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// `struct hvm_start_info` as laid out in memory (version 1).
#[repr(C)]
#[derive(Clone, Copy)]
struct RawStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

const _: () = assert!(core::mem::size_of::<RawStartInfo>() as u64 == START_INFO_SIZE);

impl StartInfo {
    /// Reads and checks the start info at physical `paddr`.
    pub fn parse(paddr: u64) -> Result<Self, PvhError> {
        if paddr == 0 || !paging::is_identity_mapped(paddr, START_INFO_SIZE) {
            return Err(PvhError::BadAddress(paddr));
        }
        // SAFETY: `[paddr, paddr + START_INFO_SIZE)` is identity-mapped
        // (checked above) and is the VMM's start info; RawStartInfo is plain
        // integers, so any bytes are a valid value, and the read is unaligned.
        let raw = unsafe { core::ptr::read_unaligned(paddr as *const RawStartInfo) };
        if raw.magic != START_INFO_MAGIC {
            return Err(PvhError::BadMagic(raw.magic));
        }
        let (memmap_paddr, memmap_entries) = if raw.version >= 1 {
            (raw.memmap_paddr, raw.memmap_entries)
        } else {
            (0, 0)
        };
        Ok(Self {
            paddr,
            version: raw.version,
            flags: raw.flags,
            nr_modules: raw.nr_modules,
            modlist_paddr: raw.modlist_paddr,
            cmdline_paddr: raw.cmdline_paddr,
            rsdp_paddr: raw.rsdp_paddr,
            memmap_paddr,
            memmap_entries,
        })
    }

    /// The command line (empty if absent, not UTF-8, or unmapped).
    pub fn cmdline(&self) -> &'static str {
        c_string(self.cmdline_paddr)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .unwrap_or("")
    }

    /// Bytes the command line occupies, NUL included (0 if absent or unmapped).
    pub fn cmdline_len(&self) -> u64 {
        c_string_size(self.cmdline_paddr)
    }

    /// The memory map (empty for version 0 or if unmapped).
    pub fn memmap(&self) -> &'static [MemmapEntry] {
        table(self.memmap_paddr, self.memmap_entries)
    }

    /// The module list (empty if none, or if it is unmapped or misaligned).
    pub fn modules(&self) -> &'static [ModlistEntry] {
        table(self.modlist_paddr, self.nr_modules)
    }
}

impl ModlistEntry {
    /// Bytes the module's command line occupies, NUL included (0 if none).
    pub fn cmdline_len(&self) -> u64 {
        c_string_size(self.cmdline_paddr)
    }
}

/// The bytes of the NUL-terminated string at physical `paddr`, NUL excluded
/// and at most [`CMDLINE_MAX`] of them; `None` if `paddr` is 0 or the
/// `CMDLINE_MAX + 1` bytes there are not all identity-mapped.
fn c_string(paddr: u64) -> Option<&'static [u8]> {
    if paddr == 0 || !paging::is_identity_mapped(paddr, CMDLINE_MAX as u64 + 1) {
        return None;
    }
    let base = paddr as *const u8;
    // SAFETY: the VMM placed a string at `paddr`, identity-mapped for
    // CMDLINE_MAX + 1 bytes (checked above), and the frame allocator never
    // hands out that memory (boot reserves it), so it stays valid for 'static.
    unsafe {
        let len = (0..CMDLINE_MAX)
            .find(|&i| *base.add(i) == 0)
            .unwrap_or(CMDLINE_MAX);
        Some(core::slice::from_raw_parts(base, len))
    }
}

/// Size of the string at `paddr`, NUL included, as [`c_string`] reads it (0 if none).
fn c_string_size(paddr: u64) -> u64 {
    c_string(paddr).map_or(0, |bytes| bytes.len() as u64 + 1)
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
