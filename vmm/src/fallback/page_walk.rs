//! A guest page-table walk for the fallback's data accesses (Intel SDM
//! vol. 3, chapter 4). x86 KVM_TRANSLATE checks no access rights (it
//! translates as a supervisor read) and sets no Accessed/Dirty bits, so
//! [`translate`] walks the guest's tables the way the CPU would: it checks
//! the present, reserved, R/W (with CR0.WP), U/S and SMAP rules, builds the
//! #PF error code, and sets the Accessed and Dirty flags on success.
//!
//! Paging-structure entries are read through [`PhysMem`], so the walk tests
//! on a fake memory; [`GuestMemory`] is the real one. An entry that is not
//! in guest RAM faults as not present, as it does under KVM's own walker.
//!
//! Not modelled: protection keys (CR4.PKE/PKS), CET shadow stacks, LAM, and
//! the PAE PDPTE registers (PDPTEs are read from memory, so a guest that
//! rewrites its PDPT without reloading CR3 sees the new entries here).
//! MAXPHYADDR is taken as 52, so reserved physical-address bits below bit
//! 52 are not checked.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use thiserror::Error;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, VolatileMemory};

use super::flags::AC;
use crate::memory::GuestMemory;

/// CR0.WP: supervisor writes honour read-only pages.
const CR0_WP: u64 = 1 << 16;
/// CR0.PG: paging on.
const CR0_PG: u64 = 1 << 31;
/// CR4.PSE: 4-MiB pages under 32-bit paging.
const CR4_PSE: u64 = 1 << 4;
/// CR4.PAE: 64-bit paging-structure entries.
const CR4_PAE: u64 = 1 << 5;
/// CR4.LA57: 5-level paging in IA-32e mode.
const CR4_LA57: u64 = 1 << 12;
/// CR4.SMAP: supervisor data accesses to user pages fault unless RFLAGS.AC.
const CR4_SMAP: u64 = 1 << 21;
/// EFER.LMA: IA-32e mode is active.
const EFER_LMA: u64 = 1 << 10;
/// EFER.NXE: bit 63 of an entry is XD rather than reserved.
const EFER_NXE: u64 = 1 << 11;

/// Entry bit: present.
const P: u64 = 1 << 0;
/// Entry bit: writes allowed.
const RW: u64 = 1 << 1;
/// Entry bit: user-mode accesses allowed.
const US: u64 = 1 << 2;
/// Entry bit: accessed.
const A: u64 = 1 << 5;
/// Entry bit: dirty (in the entry that maps the page).
const D: u64 = 1 << 6;
/// Entry bit: page size (this entry maps a large page).
const PS: u64 = 1 << 7;
/// Entry bit 63: XD, or reserved when EFER.NXE=0.
const XD: u64 = 1 << 63;

/// PAE entry bits 62:52, reserved (MAXPHYADDR taken as 52).
const PAE_HIGH_RSVD: u64 = 0x7ff0_0000_0000_0000;
/// PAE PDPTE bits 2:1 and 8:5, reserved (no R/W, U/S, A, D, PS).
const PAE_PDPTE_RSVD: u64 = 0x1e6;
/// 32-bit 4-MiB PDE bit 21, reserved (bits 20:13 are address bits 39:32).
const PDE32_LARGE_RSVD: u64 = 1 << 21;
/// 2-MiB page entry bits 20:13, reserved.
const LARGE_2M_RSVD: u64 = 0x1f_e000;
/// 1-GiB page entry bits 29:13, reserved.
const LARGE_1G_RSVD: u64 = 0x3fff_e000;
/// Physical-address bits of a 32-bit entry.
const ADDR_MASK_32: u64 = 0xffff_f000;
/// Physical-address bits 51:12 of a 64-bit entry.
const ADDR_MASK_64: u64 = 0x000f_ffff_ffff_f000;
/// CR3 bits 31:5: the PAE PDPT address.
const PAE_CR3_MASK: u64 = 0xffff_ffe0;

/// #PF error code bit: the page was present (protection or reserved bit).
pub const PF_PRESENT: u32 = 1 << 0;
/// #PF error code bit: the access was a write.
pub const PF_WRITE: u32 = 1 << 1;
/// #PF error code bit: the access was in user mode (CPL 3).
pub const PF_USER: u32 = 1 << 2;
/// #PF error code bit: a reserved bit was set in a paging-structure entry.
pub const PF_RSVD: u32 = 1 << 3;

/// How often a walk restarts when another vCPU changes an entry under it.
const MAX_WALKS: usize = 16;

/// No guest RAM backs a guest-physical address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("no guest RAM at physical address {0:#x}")]
pub struct NoRam(pub u64);

/// Guest-physical memory as the walk sees it: naturally aligned 32- and
/// 64-bit paging-structure entries.
pub trait PhysMem {
    /// Reads the 32-bit value at `gpa`.
    fn read_u32(&self, gpa: u64) -> Result<u32, NoRam>;
    /// Reads the 64-bit value at `gpa`.
    fn read_u64(&self, gpa: u64) -> Result<u64, NoRam>;
    /// Replaces the 32-bit value at `gpa` with `new` if it still is `old`
    /// (atomically, as the CPU does); whether it did.
    fn replace_u32(&self, gpa: u64, old: u32, new: u32) -> Result<bool, NoRam>;
    /// Replaces the 64-bit value at `gpa` with `new` if it still is `old`
    /// (atomically, as the CPU does); whether it did.
    fn replace_u64(&self, gpa: u64, old: u64, new: u64) -> Result<bool, NoRam>;
}

impl PhysMem for GuestMemory {
    fn read_u32(&self, gpa: u64) -> Result<u32, NoRam> {
        self.load(GuestAddress(gpa), Ordering::Acquire)
            .map_err(|_| NoRam(gpa))
    }

    fn read_u64(&self, gpa: u64) -> Result<u64, NoRam> {
        self.load(GuestAddress(gpa), Ordering::Acquire)
            .map_err(|_| NoRam(gpa))
    }

    fn replace_u32(&self, gpa: u64, old: u32, new: u32) -> Result<bool, NoRam> {
        let slice = self
            .get_slice(GuestAddress(gpa), 4)
            .map_err(|_| NoRam(gpa))?;
        let entry = slice
            .get_atomic_ref::<AtomicU32>(0)
            .map_err(|_| NoRam(gpa))?;
        Ok(entry
            .compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire)
            .is_ok())
    }

    fn replace_u64(&self, gpa: u64, old: u64, new: u64) -> Result<bool, NoRam> {
        let slice = self
            .get_slice(GuestAddress(gpa), 8)
            .map_err(|_| NoRam(gpa))?;
        let entry = slice
            .get_atomic_ref::<AtomicU64>(0)
            .map_err(|_| NoRam(gpa))?;
        Ok(entry
            .compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire)
            .is_ok())
    }
}

/// The vCPU state a translation depends on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PagingState {
    /// CR0 (PG, WP).
    pub cr0: u64,
    /// CR3: the root paging structure.
    pub cr3: u64,
    /// CR4 (PSE, PAE, LA57, SMAP).
    pub cr4: u64,
    /// IA32_EFER (LMA, NXE).
    pub efer: u64,
    /// The current privilege level (SS.DPL).
    pub cpl: u8,
    /// RFLAGS (AC, for SMAP).
    pub rflags: u64,
}

/// The kind of data access being translated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAccess {
    /// A data read.
    Read,
    /// A data write.
    Write,
}

/// Why an access cannot go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum WalkError {
    /// The access raises #PF: `linear` goes to CR2.
    #[error("#PF at {linear:#x}, error code {error_code:#x}")]
    PageFault {
        /// The faulting linear address.
        linear: u64,
        /// The #PF error code.
        error_code: u32,
    },
    /// A 64-bit-mode address that is not canonical (#GP, or #SS on the stack).
    #[error("non-canonical address {0:#x}")]
    NonCanonical(u64),
    /// Another vCPU kept changing the entries while the Accessed and Dirty
    /// flags were being set.
    #[error("the paging structures for {0:#x} kept changing during the walk")]
    Unstable(u64),
}

/// How wide the entries of a paging mode are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Width {
    /// 32-bit paging.
    Four,
    /// PAE, 4-level and 5-level paging.
    Eight,
}

/// One level of a paging-structure hierarchy.
#[derive(Debug, Clone, Copy)]
struct Level {
    /// Lowest linear-address bit this level's index takes.
    shift: u32,
    /// Number of index bits.
    index_bits: u32,
    /// Reserved bits of any present entry at this level.
    rsvd: u64,
    /// With PS=1 an entry maps a page here; these are its extra reserved
    /// bits. `None`: PS is reserved (then in `rsvd`), ignored, or PAT.
    large: Option<u64>,
    /// The entry has R/W, U/S and A (false only for PAE PDPTEs).
    flags: bool,
}

/// A paging mode: where the walk starts and what it goes through.
#[derive(Debug, Clone)]
struct Paging {
    /// Entry width.
    width: Width,
    /// Physical address of the root table.
    root: u64,
    /// Physical-address bits of a non-leaf entry.
    addr_mask: u64,
    /// The levels, root first; the last maps 4-KiB pages.
    levels: Vec<Level>,
    /// Linear-address width for canonical checks, or `None` for 32-bit linear
    /// addresses.
    canonical_bits: Option<u32>,
}

/// An entry the walk used.
#[derive(Debug, Clone, Copy)]
struct Used {
    /// Its guest-physical address.
    gpa: u64,
    /// Its value when read.
    value: u64,
    /// Whether it has an Accessed flag.
    flags: bool,
}

/// A walk that reached a page.
#[derive(Debug, Clone)]
struct Walk {
    /// Non-leaf entries used, root first.
    tables: Vec<Used>,
    /// The entry that maps the page.
    leaf: Used,
    /// The physical address.
    phys: u64,
    /// R/W of every entry used.
    writable: bool,
    /// U/S of every entry used.
    user: bool,
}

/// Translates `linear` for a data access of kind `access` under `state`:
/// the guest-physical address, with the Accessed flags (and for writes the
/// Dirty flag) set as the CPU sets them, or why the access cannot proceed.
pub fn translate(
    mem: &impl PhysMem,
    state: &PagingState,
    linear: u64,
    access: DataAccess,
) -> Result<u64, WalkError> {
    let Some(paging) = paging_mode(state) else {
        return Ok(linear & 0xffff_ffff);
    };
    let linear = checked_linear(&paging, linear)?;
    for _ in 0..MAX_WALKS {
        let walk = walk(mem, &paging, state, linear, access)?;
        if !allowed(state, &walk, access) {
            return Err(fault(state, linear, access, PF_PRESENT));
        }
        if mark_used(mem, paging.width, &walk, access)
            .map_err(|_| fault(state, linear, access, 0))?
        {
            return Ok(walk.phys);
        }
    }
    Err(WalkError::Unstable(linear))
}

/// The paging mode `state` selects, or `None` with paging off.
fn paging_mode(state: &PagingState) -> Option<Paging> {
    if state.cr0 & CR0_PG == 0 {
        return None;
    }
    Some(if state.cr4 & CR4_PAE == 0 {
        bits32_paging(state)
    } else if state.efer & EFER_LMA == 0 {
        pae_paging(state)
    } else {
        long_paging(state)
    })
}

/// 32-bit paging: a page directory and page tables of 32-bit entries.
fn bits32_paging(state: &PagingState) -> Paging {
    let large = (state.cr4 & CR4_PSE != 0).then_some(PDE32_LARGE_RSVD);
    Paging {
        width: Width::Four,
        root: state.cr3 & ADDR_MASK_32,
        addr_mask: ADDR_MASK_32,
        levels: vec![table_level(22, 10, 0, large), table_level(12, 10, 0, None)],
        canonical_bits: None,
    }
}

/// PAE paging: a 4-entry PDPT, then page directories and page tables.
fn pae_paging(state: &PagingState) -> Paging {
    let rsvd = PAE_HIGH_RSVD | xd_rsvd(state);
    let pdpte = Level {
        shift: 30,
        index_bits: 2,
        rsvd: PAE_HIGH_RSVD | XD | PAE_PDPTE_RSVD,
        large: None,
        flags: false,
    };
    Paging {
        width: Width::Eight,
        root: state.cr3 & PAE_CR3_MASK,
        addr_mask: ADDR_MASK_64,
        levels: vec![
            pdpte,
            table_level(21, 9, rsvd, Some(LARGE_2M_RSVD)),
            table_level(12, 9, rsvd, None),
        ],
        canonical_bits: None,
    }
}

/// 4-level paging, or 5-level with CR4.LA57.
fn long_paging(state: &PagingState) -> Paging {
    let rsvd = xd_rsvd(state);
    let five = state.cr4 & CR4_LA57 != 0;
    let mut levels = Vec::with_capacity(5);
    if five {
        levels.push(table_level(48, 9, rsvd | PS, None));
    }
    levels.extend([
        table_level(39, 9, rsvd | PS, None),
        table_level(30, 9, rsvd, Some(LARGE_1G_RSVD)),
        table_level(21, 9, rsvd, Some(LARGE_2M_RSVD)),
        table_level(12, 9, rsvd, None),
    ]);
    Paging {
        width: Width::Eight,
        root: state.cr3 & ADDR_MASK_64,
        addr_mask: ADDR_MASK_64,
        levels,
        canonical_bits: Some(if five { 57 } else { 48 }),
    }
}

/// A level whose entries have R/W, U/S and A.
fn table_level(shift: u32, index_bits: u32, rsvd: u64, large: Option<u64>) -> Level {
    Level {
        shift,
        index_bits,
        rsvd,
        large,
        flags: true,
    }
}

/// Bit 63 when it is reserved (EFER.NXE=0), else nothing.
fn xd_rsvd(state: &PagingState) -> u64 {
    if state.efer & EFER_NXE == 0 {
        XD
    } else {
        0
    }
}

/// `linear` as the paging mode sees it: its low 32 bits outside IA-32e
/// mode, and in IA-32e mode only if canonical.
fn checked_linear(paging: &Paging, linear: u64) -> Result<u64, WalkError> {
    let Some(bits) = paging.canonical_bits else {
        return Ok(linear & 0xffff_ffff);
    };
    let unused = 64 - bits;
    let extended = ((linear << unused) as i64 >> unused) as u64;
    if extended == linear {
        Ok(linear)
    } else {
        Err(WalkError::NonCanonical(linear))
    }
}

/// The #PF for `linear` with `bits` (P, RSVD) added to the access's W/R and U/S.
fn fault(state: &PagingState, linear: u64, access: DataAccess, bits: u32) -> WalkError {
    let write = if access == DataAccess::Write {
        PF_WRITE
    } else {
        0
    };
    let user = if state.cpl == 3 { PF_USER } else { 0 };
    WalkError::PageFault {
        linear,
        error_code: bits | write | user,
    }
}

/// Walks the tables for `linear` down to the entry that maps its page.
fn walk(
    mem: &impl PhysMem,
    paging: &Paging,
    state: &PagingState,
    linear: u64,
    access: DataAccess,
) -> Result<Walk, WalkError> {
    let mut table = paging.root;
    let mut tables = Vec::with_capacity(paging.levels.len());
    let (mut writable, mut user) = (true, true);
    for level in &paging.levels {
        let index = (linear >> level.shift) & ((1 << level.index_bits) - 1);
        let gpa = table + index * entry_bytes(paging.width);
        let (value, large) = read_checked(mem, paging.width, level, gpa)
            .map_err(|bits| fault(state, linear, access, bits))?;
        if level.flags {
            writable &= value & RW != 0;
            user &= value & US != 0;
        }
        let used = Used {
            gpa,
            value,
            flags: level.flags,
        };
        if large || level.shift == 12 {
            return Ok(Walk {
                tables,
                leaf: used,
                phys: page_frame(paging.width, value, level.shift)
                    | page_offset(linear, level.shift),
                writable,
                user,
            });
        }
        tables.push(used);
        table = value & paging.addr_mask;
    }
    Err(fault(state, linear, access, 0))
}

/// Reads the entry at `gpa` for `level`: its value and whether it maps a
/// (large) page, or the #PF error-code bits of a not-present entry (also
/// one outside RAM) or of one with reserved bits set.
fn read_checked(
    mem: &impl PhysMem,
    width: Width,
    level: &Level,
    gpa: u64,
) -> Result<(u64, bool), u32> {
    let value = read_entry(mem, width, gpa).map_err(|_| 0u32)?;
    if value & P == 0 {
        return Err(0);
    }
    let large = level.large.filter(|_| value & PS != 0);
    if value & (level.rsvd | large.unwrap_or(0)) != 0 {
        return Err(PF_PRESENT | PF_RSVD);
    }
    Ok((value, large.is_some()))
}

/// Bytes per entry.
fn entry_bytes(width: Width) -> u64 {
    match width {
        Width::Four => 4,
        Width::Eight => 8,
    }
}

/// Reads an entry of `width` at `gpa`.
fn read_entry(mem: &impl PhysMem, width: Width, gpa: u64) -> Result<u64, NoRam> {
    match width {
        Width::Four => mem.read_u32(gpa).map(u64::from),
        Width::Eight => mem.read_u64(gpa),
    }
}

/// Replaces an entry of `width` at `gpa` if it still is `old`.
fn replace_entry(
    mem: &impl PhysMem,
    width: Width,
    gpa: u64,
    old: u64,
    new: u64,
) -> Result<bool, NoRam> {
    match width {
        Width::Four => {
            let narrow = |v: u64| u32::try_from(v).map_err(|_| NoRam(gpa));
            mem.replace_u32(gpa, narrow(old)?, narrow(new)?)
        }
        Width::Eight => mem.replace_u64(gpa, old, new),
    }
}

/// The physical address of the page a leaf entry at `shift` maps.
fn page_frame(width: Width, entry: u64, shift: u32) -> u64 {
    let low = (1u64 << shift) - 1;
    match (width, shift) {
        // PSE-36: PDE bits 20:13 are address bits 39:32.
        (Width::Four, 22) => (entry & 0xffc0_0000) | (((entry >> 13) & 0xff) << 32),
        (Width::Four, _) => entry & ADDR_MASK_32 & !low,
        (Width::Eight, _) => entry & ADDR_MASK_64 & !low,
    }
}

/// The bits of `linear` below `shift`: the offset into the page.
fn page_offset(linear: u64, shift: u32) -> u64 {
    linear & ((1u64 << shift) - 1)
}

/// Whether the access rights (SDM vol. 3, 4.6) allow `access` through `walk`.
fn allowed(state: &PagingState, walk: &Walk, access: DataAccess) -> bool {
    let write = access == DataAccess::Write;
    if state.cpl == 3 {
        return walk.user && (!write || walk.writable);
    }
    let smap_blocks = walk.user && state.cr4 & CR4_SMAP != 0 && state.rflags & AC == 0;
    let wp_blocks = write && !walk.writable && state.cr0 & CR0_WP != 0;
    !smap_blocks && !wp_blocks
}

/// Sets Accessed in every entry `walk` used and Dirty in its leaf for a
/// write, writing only entries that change. `false` if an entry changed
/// since it was read (the walk must restart).
fn mark_used(
    mem: &impl PhysMem,
    width: Width,
    walk: &Walk,
    access: DataAccess,
) -> Result<bool, NoRam> {
    let dirty = if access == DataAccess::Write { D } else { 0 };
    let tables = walk.tables.iter().map(|used| (used, A));
    for (used, bits) in tables.chain([(&walk.leaf, A | dirty)]) {
        let new = used.value | bits;
        if !used.flags || new == used.value {
            continue;
        }
        if !replace_entry(mem, width, used.gpa, used.value, new)? {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    use vm_memory::GuestMemoryMmap;

    use super::*;

    const RAM_END: u64 = 0x100_0000;
    const CR0_PE: u64 = 1;

    /// Byte-addressed fake RAM below `RAM_END`, counting entry writes.
    #[derive(Default)]
    struct FakeMem {
        bytes: RefCell<HashMap<u64, u8>>,
        writes: Cell<usize>,
        /// Replacements that fail (as if another vCPU changed the entry).
        lost_races: Cell<usize>,
    }

    impl FakeMem {
        fn get(&self, gpa: u64, len: u64) -> Result<u64, NoRam> {
            if gpa + len > RAM_END {
                return Err(NoRam(gpa));
            }
            let bytes = self.bytes.borrow();
            Ok((0..len).rev().fold(0, |v, i| {
                (v << 8) | u64::from(bytes.get(&(gpa + i)).copied().unwrap_or(0))
            }))
        }

        fn set(&self, gpa: u64, len: u64, value: u64) {
            let mut bytes = self.bytes.borrow_mut();
            for i in 0..len {
                bytes.insert(gpa + i, (value >> (8 * i)) as u8);
            }
        }

        fn set32(&self, gpa: u64, value: u32) {
            self.set(gpa, 4, u64::from(value));
        }

        fn set64(&self, gpa: u64, value: u64) {
            self.set(gpa, 8, value);
        }

        fn get32(&self, gpa: u64) -> u32 {
            self.read_u32(gpa).unwrap()
        }

        fn get64(&self, gpa: u64) -> u64 {
            self.read_u64(gpa).unwrap()
        }

        fn replace(&self, gpa: u64, len: u64, old: u64, new: u64) -> Result<bool, NoRam> {
            if self.get(gpa, len)? != old {
                return Ok(false);
            }
            if self.lost_races.get() > 0 {
                self.lost_races.set(self.lost_races.get() - 1);
                return Ok(false);
            }
            self.set(gpa, len, new);
            self.writes.set(self.writes.get() + 1);
            Ok(true)
        }
    }

    impl PhysMem for FakeMem {
        fn read_u32(&self, gpa: u64) -> Result<u32, NoRam> {
            self.get(gpa, 4).map(|v| v as u32)
        }
        fn read_u64(&self, gpa: u64) -> Result<u64, NoRam> {
            self.get(gpa, 8)
        }
        fn replace_u32(&self, gpa: u64, old: u32, new: u32) -> Result<bool, NoRam> {
            self.replace(gpa, 4, u64::from(old), u64::from(new))
        }
        fn replace_u64(&self, gpa: u64, old: u64, new: u64) -> Result<bool, NoRam> {
            self.replace(gpa, 8, old, new)
        }
    }

    const R: DataAccess = DataAccess::Read;
    const W: DataAccess = DataAccess::Write;
    /// Present, writable, user.
    const PWU: u64 = P | RW | US;

    fn state(cr0: u64, cr4: u64, efer: u64) -> PagingState {
        PagingState {
            cr0: cr0 | CR0_PE,
            cr3: 0x1000,
            cr4,
            efer,
            cpl: 0,
            rflags: 2,
        }
    }

    fn paging32(cr4: u64) -> PagingState {
        state(CR0_PG | CR0_WP, cr4, 0)
    }

    fn pae(efer: u64) -> PagingState {
        PagingState {
            cr3: 0x1020,
            ..state(CR0_PG | CR0_WP, CR4_PAE, efer)
        }
    }

    fn long4() -> PagingState {
        state(CR0_PG | CR0_WP, CR4_PAE, EFER_LMA | EFER_NXE | 0x100)
    }

    fn long5() -> PagingState {
        state(
            CR0_PG | CR0_WP,
            CR4_PAE | CR4_LA57,
            EFER_LMA | EFER_NXE | 0x100,
        )
    }

    fn pf(linear: u64, error_code: u32) -> Result<u64, WalkError> {
        Err(WalkError::PageFault { linear, error_code })
    }

    /// 4-level tables for 0x0000_7f12_3456_7abc: PML4 0x1000, PDPT 0x2000,
    /// PD 0x3000, PT 0x4000, page 0x9000 (with `leaf` flags), all others PWU.
    const VA4: u64 = 0x0000_7f12_3456_7abc;

    fn idx(va: u64, shift: u32) -> u64 {
        (va >> shift) & 0x1ff
    }

    fn map4(mem: &FakeMem, leaf: u64) {
        mem.set64(0x1000 + 8 * idx(VA4, 39), 0x2000 | PWU);
        mem.set64(0x2000 + 8 * idx(VA4, 30), 0x3000 | PWU);
        mem.set64(0x3000 + 8 * idx(VA4, 21), 0x4000 | PWU);
        mem.set64(0x4000 + 8 * idx(VA4, 12), 0x9000 | leaf);
    }

    /// The four entries `map4` uses, root first.
    fn entries4() -> [u64; 4] {
        [
            0x1000 + 8 * idx(VA4, 39),
            0x2000 + 8 * idx(VA4, 30),
            0x3000 + 8 * idx(VA4, 21),
            0x4000 + 8 * idx(VA4, 12),
        ]
    }

    #[test]
    fn test_paging_off_is_identity_on_32_bits() {
        let mem = FakeMem::default();
        let s = state(0, 0, 0);
        assert_eq!(translate(&mem, &s, 0xdead_beef, W), Ok(0xdead_beef));
        assert_eq!(translate(&mem, &s, 0x1_0000_0010, R), Ok(0x10));
        assert_eq!(mem.writes.get(), 0);
    }

    #[test]
    fn test_32bit_4k_page_sets_accessed_then_dirty() {
        let mem = FakeMem::default();
        mem.set32(0x1000 + 4 * 0x123, 0x2000 | PWU as u32);
        mem.set32(0x2000 + 4 * 0x145, 0x0077_7000 | PWU as u32);
        let va = 0x48d4_5abc;
        let s = paging32(0);
        assert_eq!(translate(&mem, &s, va, R), Ok(0x0077_7abc));
        assert_eq!(mem.get32(0x1000 + 4 * 0x123), 0x2000 | (PWU | A) as u32);
        assert_eq!(
            mem.get32(0x2000 + 4 * 0x145),
            0x0077_7000 | (PWU | A) as u32
        );
        assert_eq!(translate(&mem, &s, va, W), Ok(0x0077_7abc));
        assert_eq!(mem.get32(0x1000 + 4 * 0x123), 0x2000 | (PWU | A) as u32);
        assert_eq!(
            mem.get32(0x2000 + 4 * 0x145),
            0x0077_7000 | (PWU | A | D) as u32
        );
        assert_eq!(mem.writes.get(), 3);
        // Nothing changes any more: nothing is written.
        assert_eq!(translate(&mem, &s, va, W), Ok(0x0077_7abc));
        assert_eq!(mem.writes.get(), 3);
    }

    #[test]
    fn test_32bit_4m_page_with_pse_and_pse36() {
        let mem = FakeMem::default();
        let pde = 0x1000 + 4 * (0x8765_4321u64 >> 22);
        // 4-MiB page at 0x12_0040_0000 (bits 20:13 = 0x12).
        mem.set32(pde, 0x0040_0000 | (0x12 << 13) | (PWU | PS) as u32);
        let s = paging32(CR4_PSE);
        assert_eq!(
            translate(&mem, &s, 0x8765_4321, W),
            Ok(0x12_0040_0000 | 0x25_4321)
        );
        assert_eq!(
            mem.get32(pde),
            0x0040_0000 | (0x12 << 13) | (PWU | PS | A | D) as u32
        );
        // Bit 21 of a 4-MiB PDE is reserved.
        mem.set32(pde, 0x0040_0000 | (1 << 21) | (PWU | PS) as u32);
        assert_eq!(
            translate(&mem, &s, 0x8765_4321, R),
            pf(0x8765_4321, PF_PRESENT | PF_RSVD)
        );
    }

    #[test]
    fn test_32bit_ps_is_ignored_without_cr4_pse() {
        let mem = FakeMem::default();
        mem.set32(0x1000, 0x2000 | (PWU | PS) as u32);
        mem.set32(0x2000 + 4 * 5, 0x5000 | PWU as u32);
        assert_eq!(translate(&mem, &paging32(0), 0x5010, R), Ok(0x5010));
        // With CR4.PSE it maps a 4-MiB page (PDE bit 13 is address bit 32).
        assert_eq!(
            translate(&mem, &paging32(CR4_PSE), 0x5010, R),
            Ok(0x1_0000_5010)
        );
    }

    #[test]
    fn test_32bit_linear_address_wraps_at_4g() {
        let mem = FakeMem::default();
        mem.set32(0x1000, 0x2000 | PWU as u32);
        mem.set32(0x2000, 0x7000 | PWU as u32);
        assert_eq!(translate(&mem, &paging32(0), 0x1_0000_0004, R), Ok(0x7004));
    }

    #[test]
    fn test_32bit_not_present_at_each_level() {
        let mem = FakeMem::default();
        let s = paging32(0);
        assert_eq!(translate(&mem, &s, 0x1234, R), pf(0x1234, 0));
        mem.set32(0x1000, 0x2000 | PWU as u32);
        assert_eq!(translate(&mem, &s, 0x1234, W), pf(0x1234, PF_WRITE));
        assert_eq!(mem.writes.get(), 0, "a failed walk sets no A bit");
    }

    #[test]
    fn test_pae_4k_and_2m_pages() {
        let mem = FakeMem::default();
        // PDPT at 0x1020 (CR3 bits 31:5); PDPTE 2 covers 0x8000_0000.
        mem.set64(0x1020 + 8 * 2, 0x3000 | P);
        mem.set64(0x3000 + 8, 0x4000 | PWU);
        mem.set64(0x4000 + 8 * 3, 0x1_2345_6000 | PWU | XD);
        mem.set64(0x3000 + 8 * 2, 0x2_0040_0000 | PWU | PS);
        let s = pae(EFER_NXE);
        assert_eq!(translate(&mem, &s, 0x8020_3abc, W), Ok(0x1_2345_6abc));
        assert_eq!(mem.get64(0x1020 + 16), 0x3000 | P, "PDPTEs have no A bit");
        assert_eq!(mem.get64(0x3000 + 8), 0x4000 | PWU | A);
        assert_eq!(mem.get64(0x4000 + 24), 0x1_2345_6000 | PWU | XD | A | D);
        assert_eq!(translate(&mem, &s, 0x8041_2345, R), Ok(0x2_0041_2345));
        assert_eq!(mem.get64(0x3000 + 16), 0x2_0040_0000 | PWU | PS | A);
    }

    #[test]
    fn test_pae_reserved_bits() {
        let mem = FakeMem::default();
        mem.set64(0x1020, 0x3000 | P);
        mem.set64(0x3000, 0x4000 | PWU);
        mem.set64(0x4000, 0x5000 | PWU | XD);
        let rsvd = pf(0x10, PF_PRESENT | PF_RSVD);
        // XD is reserved without EFER.NXE.
        assert_eq!(translate(&mem, &pae(0), 0x10, R), rsvd);
        assert_eq!(translate(&mem, &pae(EFER_NXE), 0x10, R), Ok(0x5010));
        // PDPTE bits 2:1 are reserved.
        mem.set64(0x1020, 0x3000 | P | RW);
        assert_eq!(translate(&mem, &pae(EFER_NXE), 0x10, R), rsvd);
        // A 2-MiB PDE's bits 20:13 are reserved.
        mem.set64(0x1020, 0x3000 | P);
        mem.set64(0x3000, 0x20_0000 | (1 << 13) | PWU | PS);
        assert_eq!(translate(&mem, &pae(EFER_NXE), 0x10, R), rsvd);
        // PAE entry bits 62:52 are reserved.
        mem.set64(0x3000, 0x20_0000 | (1 << 52) | PWU | PS);
        assert_eq!(translate(&mem, &pae(EFER_NXE), 0x10, R), rsvd);
    }

    #[test]
    fn test_pae_not_present_pdpte() {
        let mem = FakeMem::default();
        assert_eq!(
            translate(&mem, &pae(EFER_NXE), 0xc000_0000, W),
            pf(0xc000_0000, PF_WRITE)
        );
    }

    #[test]
    fn test_long_mode_4k_page_sets_accessed_everywhere() {
        let mem = FakeMem::default();
        map4(&mem, PWU);
        assert_eq!(translate(&mem, &long4(), VA4, R), Ok(0x9abc));
        let [pml4e, pdpte, pde, pte] = entries4();
        assert_eq!(mem.get64(pml4e), 0x2000 | PWU | A);
        assert_eq!(mem.get64(pdpte), 0x3000 | PWU | A);
        assert_eq!(mem.get64(pde), 0x4000 | PWU | A);
        assert_eq!(mem.get64(pte), 0x9000 | PWU | A);
        assert_eq!(translate(&mem, &long4(), VA4, W), Ok(0x9abc));
        assert_eq!(mem.get64(pde), 0x4000 | PWU | A, "D only in the leaf");
        assert_eq!(mem.get64(pte), 0x9000 | PWU | A | D);
        assert_eq!(mem.writes.get(), 5);
    }

    #[test]
    fn test_long_mode_2m_and_1g_pages() {
        let mem = FakeMem::default();
        let [pml4e, pdpte, pde, _] = entries4();
        mem.set64(pml4e, 0x2000 | PWU);
        mem.set64(pdpte, 0x3000 | PWU);
        mem.set64(pde, 0x4_0020_0000 | PWU | PS | (1 << 12));
        assert_eq!(
            translate(&mem, &long4(), VA4, W),
            Ok(0x4_0020_0000 | (VA4 & 0x1f_ffff))
        );
        assert_eq!(mem.get64(pde), 0x4_0020_0000 | PWU | PS | (1 << 12) | A | D);
        mem.set64(pdpte, 0x80_4000_0000 | PWU | PS);
        assert_eq!(
            translate(&mem, &long4(), VA4, R),
            Ok(0x80_4000_0000 | (VA4 & 0x3fff_ffff))
        );
        assert_eq!(mem.get64(pdpte), 0x80_4000_0000 | PWU | PS | A);
    }

    #[test]
    fn test_long_mode_reserved_bits() {
        let mem = FakeMem::default();
        let [pml4e, pdpte, pde, _] = entries4();
        map4(&mem, PWU);
        let rsvd = |code| pf(VA4, code | PF_PRESENT | PF_RSVD);
        // PS is reserved in a PML4E.
        mem.set64(pml4e, 0x2000 | PWU | PS);
        assert_eq!(translate(&mem, &long4(), VA4, W), rsvd(PF_WRITE));
        mem.set64(pml4e, 0x2000 | PWU);
        // A 1-GiB page's bits 29:13 are reserved.
        mem.set64(pdpte, 0x4000_0000 | (1 << 20) | PWU | PS);
        assert_eq!(translate(&mem, &long4(), VA4, R), rsvd(0));
        mem.set64(pdpte, 0x3000 | PWU);
        // A 2-MiB page's bits 20:13 are reserved.
        mem.set64(pde, 0x20_0000 | (1 << 13) | PWU | PS);
        assert_eq!(translate(&mem, &long4(), VA4, R), rsvd(0));
        // XD is reserved without EFER.NXE.
        mem.set64(pde, 0x4000 | PWU | XD);
        let no_nxe = state(CR0_PG | CR0_WP, CR4_PAE, EFER_LMA);
        assert_eq!(translate(&mem, &no_nxe, VA4, R), rsvd(0));
        assert_eq!(translate(&mem, &long4(), VA4, R), Ok(0x9abc));
    }

    #[test]
    fn test_long_mode_not_present_at_each_level() {
        for level in 0..4 {
            let mem = FakeMem::default();
            map4(&mem, PWU);
            let gpa = entries4()[level];
            mem.set64(gpa, mem.get64(gpa) & !P);
            let user = PagingState { cpl: 3, ..long4() };
            assert_eq!(translate(&mem, &long4(), VA4, R), pf(VA4, 0));
            assert_eq!(translate(&mem, &long4(), VA4, W), pf(VA4, PF_WRITE));
            assert_eq!(translate(&mem, &user, VA4, R), pf(VA4, PF_USER));
            assert_eq!(translate(&mem, &user, VA4, W), pf(VA4, PF_WRITE | PF_USER));
            assert_eq!(mem.writes.get(), 0, "level {level}");
        }
    }

    #[test]
    fn test_tables_outside_ram_fault_as_not_present() {
        let mem = FakeMem::default();
        let [pml4e, ..] = entries4();
        mem.set64(pml4e, 0x8000_0000 | PWU);
        assert_eq!(translate(&mem, &long4(), VA4, W), pf(VA4, PF_WRITE));
        let s = PagingState {
            cr3: 0xfee0_0000,
            ..long4()
        };
        assert_eq!(translate(&mem, &s, VA4, R), pf(VA4, 0));
    }

    #[test]
    fn test_leaf_outside_ram_translates_for_mmio() {
        let mem = FakeMem::default();
        map4(&mem, PWU);
        let [.., pte] = entries4();
        mem.set64(pte, 0xfed0_0000 | PWU);
        assert_eq!(translate(&mem, &long4(), VA4, W), Ok(0xfed0_0abc));
    }

    #[test]
    fn test_non_canonical_addresses() {
        let mem = FakeMem::default();
        map4(&mem, PWU);
        assert_eq!(
            translate(&mem, &long4(), 0x0000_8000_0000_0000, R),
            Err(WalkError::NonCanonical(0x0000_8000_0000_0000))
        );
        assert_eq!(
            translate(&mem, &long4(), 0xffff_8000_0000_0000, R),
            pf(0xffff_8000_0000_0000, 0),
            "canonical: walks (and faults)"
        );
        assert_eq!(
            translate(&mem, &long5(), 0x0100_0000_0000_0000, R),
            Err(WalkError::NonCanonical(0x0100_0000_0000_0000))
        );
    }

    #[test]
    fn test_five_level_paging() {
        let mem = FakeMem::default();
        let va = 0xff12_3456_789a_bcde_u64;
        let idx5 = idx(va, 48);
        mem.set64(0x1000 + 8 * idx5, 0x5000 | PWU);
        mem.set64(0x5000 + 8 * idx(va, 39), 0x6000 | PWU);
        mem.set64(0x6000 + 8 * idx(va, 30), 0x7000 | PWU);
        mem.set64(0x7000 + 8 * idx(va, 21), 0x8000 | PWU);
        mem.set64(0x8000 + 8 * idx(va, 12), 0xa000 | PWU);
        assert_eq!(translate(&mem, &long5(), va, W), Ok(0xacde));
        assert_eq!(mem.get64(0x1000 + 8 * idx5), 0x5000 | PWU | A);
        assert_eq!(mem.get64(0x8000 + 8 * idx(va, 12)), 0xa000 | PWU | A | D);
        // PS is reserved in a PML5E.
        mem.set64(0x1000 + 8 * idx5, 0x5000 | PWU | PS);
        assert_eq!(
            translate(&mem, &long5(), va, R),
            pf(va, PF_PRESENT | PF_RSVD)
        );
        // Without LA57 the same address is not canonical.
        assert_eq!(
            translate(&mem, &long4(), va, R),
            Err(WalkError::NonCanonical(va))
        );
    }

    #[test]
    fn test_supervisor_writes_to_read_only_pages_fault_only_with_wp() {
        let mem = FakeMem::default();
        map4(&mem, P | US);
        let no_wp = state(CR0_PG, CR4_PAE, EFER_LMA | EFER_NXE);
        assert_eq!(translate(&mem, &no_wp, VA4, W), Ok(0x9abc));
        assert_eq!(
            translate(&mem, &long4(), VA4, W),
            pf(VA4, PF_PRESENT | PF_WRITE)
        );
        assert_eq!(translate(&mem, &long4(), VA4, R), Ok(0x9abc));
    }

    #[test]
    fn test_read_only_at_an_upper_level_write_protects_the_page() {
        let mem = FakeMem::default();
        map4(&mem, PWU);
        let [_, pdpte, ..] = entries4();
        mem.set64(pdpte, 0x3000 | P | US);
        let before = mem.get64(entries4()[3]);
        assert_eq!(
            translate(&mem, &long4(), VA4, W),
            pf(VA4, PF_PRESENT | PF_WRITE)
        );
        assert_eq!(mem.get64(entries4()[3]), before, "no D on a fault");
    }

    #[test]
    fn test_user_accesses() {
        let mem = FakeMem::default();
        map4(&mem, P | US);
        let user = PagingState { cpl: 3, ..long4() };
        assert_eq!(translate(&mem, &user, VA4, R), Ok(0x9abc));
        // CR0.WP does not matter in user mode.
        let user_no_wp = PagingState {
            cr0: CR0_PE | CR0_PG,
            ..user
        };
        let ro = pf(VA4, PF_PRESENT | PF_WRITE | PF_USER);
        assert_eq!(translate(&mem, &user_no_wp, VA4, W), ro);
        // A supervisor page (U/S=0 at any level) faults on any user access.
        map4(&mem, PWU);
        let [_, _, pde, _] = entries4();
        mem.set64(pde, 0x4000 | P | RW);
        assert_eq!(
            translate(&mem, &user, VA4, R),
            pf(VA4, PF_PRESENT | PF_USER)
        );
        assert_eq!(
            translate(&mem, &user, VA4, W),
            pf(VA4, PF_PRESENT | PF_WRITE | PF_USER)
        );
        assert_eq!(translate(&mem, &long4(), VA4, W), Ok(0x9abc));
    }

    #[test]
    fn test_smap_blocks_supervisor_access_to_user_pages_unless_ac() {
        let mem = FakeMem::default();
        map4(&mem, PWU);
        let smap = PagingState {
            cr4: CR4_PAE | CR4_SMAP,
            ..long4()
        };
        assert_eq!(translate(&mem, &smap, VA4, R), pf(VA4, PF_PRESENT));
        assert_eq!(
            translate(&mem, &smap, VA4, W),
            pf(VA4, PF_PRESENT | PF_WRITE)
        );
        let ac = PagingState {
            rflags: 2 | AC,
            ..smap
        };
        assert_eq!(translate(&mem, &ac, VA4, W), Ok(0x9abc));
        assert_eq!(translate(&mem, &long4(), VA4, W), Ok(0x9abc));
        // User mode is not affected; supervisor pages are not affected.
        let user = PagingState { cpl: 3, ..smap };
        assert_eq!(translate(&mem, &user, VA4, R), Ok(0x9abc));
        map4(&mem, P | RW);
        assert_eq!(translate(&mem, &smap, VA4, W), Ok(0x9abc));
    }

    #[test]
    fn test_smap_with_wp_on_read_only_user_page() {
        let mem = FakeMem::default();
        map4(&mem, P | US);
        let ac = PagingState {
            cr4: CR4_PAE | CR4_SMAP,
            rflags: 2 | AC,
            ..long4()
        };
        assert_eq!(translate(&mem, &ac, VA4, R), Ok(0x9abc));
        assert_eq!(translate(&mem, &ac, VA4, W), pf(VA4, PF_PRESENT | PF_WRITE));
    }

    #[test]
    fn test_smap_in_32bit_paging() {
        let mem = FakeMem::default();
        mem.set32(0x1000, 0x2000 | PWU as u32);
        mem.set32(0x2000, 0x3000 | PWU as u32);
        let s = paging32(CR4_SMAP);
        assert_eq!(translate(&mem, &s, 0x10, R), pf(0x10, PF_PRESENT));
        let ac = PagingState { rflags: AC, ..s };
        assert_eq!(translate(&mem, &ac, 0x10, R), Ok(0x3010));
    }

    #[test]
    fn test_a_race_restarts_the_walk() {
        let mem = FakeMem::default();
        map4(&mem, PWU);
        mem.lost_races.set(2);
        assert_eq!(translate(&mem, &long4(), VA4, W), Ok(0x9abc));
        assert_eq!(mem.get64(entries4()[3]), 0x9000 | PWU | A | D);
        mem.set64(entries4()[3], 0x9000 | PWU);
        mem.lost_races.set(usize::MAX);
        assert_eq!(
            translate(&mem, &long4(), VA4, W),
            Err(WalkError::Unstable(VA4))
        );
    }

    #[test]
    fn test_guest_memory_walk_and_bounds() {
        let mem: GuestMemory =
            GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x10_0000)]).unwrap();
        let [pml4e, pdpte, pde, pte] = entries4();
        for (gpa, value) in [
            (pml4e, 0x2000 | PWU),
            (pdpte, 0x3000 | PWU),
            (pde, 0x4000 | PWU),
            (pte, 0x9000 | PWU),
        ] {
            mem.write_obj(value, GuestAddress(gpa)).unwrap();
        }
        assert_eq!(translate(&mem, &long4(), VA4, W), Ok(0x9abc));
        assert_eq!(mem.read_u64(pte), Ok(0x9000 | PWU | A | D));
        assert_eq!(mem.read_u64(pml4e), Ok(0x2000 | PWU | A));
        assert_eq!(mem.replace_u32(0x100, 1, 2), Ok(false));
        assert_eq!(mem.replace_u32(0x100, 0, 2), Ok(true));
        assert_eq!(mem.read_u32(0x100), Ok(2));
        assert_eq!(mem.read_u64(0x10_0000), Err(NoRam(0x10_0000)));
        assert_eq!(mem.read_u32(0x10_0000), Err(NoRam(0x10_0000)));
        assert_eq!(mem.replace_u64(0x10_0000, 0, 1), Err(NoRam(0x10_0000)));
        assert_eq!(
            mem.replace_u32(u64::MAX - 1, 0, 1),
            Err(NoRam(u64::MAX - 1))
        );
        mem.write_obj(0x20_0000 | PWU, GuestAddress(pml4e)).unwrap();
        assert_eq!(translate(&mem, &long4(), VA4, R), pf(VA4, 0));
    }
}
