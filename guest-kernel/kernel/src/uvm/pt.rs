//! A user address space's 4-level page table. Tables live in frames the
//! kernel reaches through its identity map; slot 511 of every PML4 is the
//! kernel alias (shared, supervisor-only: [`crate::arch::user`]).
//!
//! The kernel never runs on these tables (it switches CR3 on every entry
//! and exit), so a changed entry needs no `invlpg`: the CR3 write on the
//! way back to user mode flushes the TLB.

use crate::arch::user::{ALIAS_PML4_SLOT, kernel_pml4};
use crate::uvm::folio;

/// Present.
pub const P: u64 = 1 << 0;
/// Writable.
pub const RW: u64 = 1 << 1;
/// User-accessible.
pub const US: u64 = 1 << 2;
/// Accessed.
pub const A: u64 = 1 << 5;
/// Dirty.
pub const D: u64 = 1 << 6;
/// Large page (in a PDPT/PD entry).
pub const PS: u64 = 1 << 7;
/// Software bit: copy on write (read-only now, writable by the VMA: a
/// write fault copies the page).
pub const COW: u64 = 1 << 9;
/// Software bit: the page belongs to a folio above order 0 (its
/// bookkeeping is in the address space's folio map).
pub const LARGE: u64 = 1 << 10;
/// No execute (with EFER.NXE).
pub const NX: u64 = 1 << 63;
/// The frame bits of an entry.
pub const ADDR: u64 = 0x000f_ffff_ffff_f000;
/// End of the user half (PML4 slots 0..256).
pub const USER_END: u64 = 1 << 47;

/// Flags of a table (non-leaf) entry: permissions are decided at the leaf.
const TABLE: u64 = P | RW | US;

fn entry(table: u64, index: usize) -> *mut u64 {
    (table + index as u64 * 8) as *mut u64
}

fn read(table: u64, index: usize) -> u64 {
    // SAFETY: `table` is a page-table frame owned by this address space,
    // identity-mapped; index < 512.
    unsafe { core::ptr::read(entry(table, index)) }
}

fn index(va: u64, level: u32) -> usize {
    (va >> (12 + 9 * level) & 0x1ff) as usize
}

/// A page table (its PML4's physical address).
#[derive(Debug)]
pub struct PageTable {
    root: u64,
}

impl PageTable {
    /// An empty user half with the kernel alias in slot 511.
    pub fn new() -> Option<Self> {
        let root = folio::alloc_zeroed_frame()?;
        let alias = read(kernel_pml4(), ALIAS_PML4_SLOT);
        // SAFETY: `root` is a fresh frame we own; the slot is in range.
        unsafe { core::ptr::write(entry(root, ALIAS_PML4_SLOT), alias) };
        Some(Self { root })
    }

    /// Physical address of the PML4 (the CR3 value).
    pub fn root(&self) -> u64 {
        self.root
    }

    /// The leaf entry slot for `va`, creating missing tables if `create`.
    /// `None` if a table is missing (and not created) or out of frames.
    pub fn slot(&mut self, va: u64, create: bool) -> Option<*mut u64> {
        let mut table = self.root;
        for level in (1..4).rev() {
            let e = entry(table, index(va, level));
            // SAFETY: `e` is inside a table frame of ours (identity-mapped).
            let value = unsafe { core::ptr::read(e) };
            table = if value & P != 0 {
                value & ADDR
            } else if create {
                let frame = folio::alloc_zeroed_frame()?;
                // SAFETY: as above; the new table is zeroed and ours.
                unsafe { core::ptr::write(e, frame | TABLE) };
                frame
            } else {
                return None;
            };
        }
        Some(entry(table, index(va, 0)))
    }

    /// The leaf entry for `va` (0 if none).
    pub fn get(&self, va: u64) -> u64 {
        let mut table = self.root;
        for level in (1..4).rev() {
            let value = read(table, index(va, level));
            if value & P == 0 {
                return 0;
            }
            table = value & ADDR;
        }
        read(table, index(va, 0))
    }

    /// Whether the `pages` leaf entries from `start` (all in one leaf
    /// table: `start` aligned to their size, at most 512) are all zero.
    pub fn range_empty(&self, start: u64, pages: u64) -> bool {
        let mut table = self.root;
        for level in (1..4).rev() {
            let value = read(table, index(start, level));
            if value & P == 0 {
                return true;
            }
            table = value & ADDR;
        }
        let first = index(start, 0);
        (first..first + pages as usize).all(|i| read(table, i) == 0)
    }

    /// Sets the leaf entry for `va`; false if out of frames for tables.
    pub fn set(&mut self, va: u64, value: u64) -> bool {
        match self.slot(va, true) {
            Some(slot) => {
                // SAFETY: `slot` points into a leaf table of ours.
                unsafe { core::ptr::write(slot, value) };
                true
            }
            None => false,
        }
    }

    /// Maps `pages` consecutive frames from `first` (frame | flags) at
    /// `start`, all in one leaf table (`start` aligned to their size, at
    /// most 512): one walk for the whole run. False if out of frames.
    pub fn set_run(&mut self, start: u64, first: u64, pages: u64) -> bool {
        let Some(slot) = self.slot(start, true) else {
            return false;
        };
        debug_assert!(index(start, 0) as u64 + pages <= 512);
        for i in 0..pages {
            // SAFETY: `slot + i` stays inside the leaf table of `start`
            // (the run does not cross a 2 MiB boundary).
            unsafe { core::ptr::write(slot.add(i as usize), first + i * 4096) };
        }
        true
    }

    /// Calls `f(va, entry)` for every non-zero leaf entry in `[start, end)`
    /// (page-aligned), skipping missing tables; `f` may rewrite the entry.
    pub fn for_each(&mut self, start: u64, end: u64, mut f: impl FnMut(u64, &mut u64)) {
        let mut va = start;
        while va < end {
            let mut table = self.root;
            let mut skip = 0;
            for level in (1..4).rev() {
                let value = read(table, index(va, level));
                if value & P == 0 {
                    skip = 1u64 << (12 + 9 * level);
                    break;
                }
                table = value & ADDR;
            }
            if skip != 0 {
                va = (va & !(skip - 1)) + skip;
                continue;
            }
            // Walk this leaf table up to its end or `end`.
            let table_end = ((va >> 21) + 1) << 21;
            while va < end.min(table_end) {
                let e = entry(table, index(va, 0));
                // SAFETY: `e` is inside a leaf table of ours.
                let value = unsafe { &mut *e };
                if *value != 0 {
                    f(va, value);
                }
                va += 4096;
            }
        }
    }

    /// Frees every table frame of the user half (leaf frames are the
    /// caller's, unmapped first).
    pub fn destroy(self) {
        free_level(self.root, 3, 256);
        folio::free(self.root, 0);
    }
}

fn free_level(table: u64, level: u32, entries: usize) {
    for i in 0..entries {
        let value = read(table, i);
        if value & P != 0 && value & PS == 0 {
            if level > 1 {
                free_level(value & ADDR, level - 1, 512);
            }
            folio::free(value & ADDR, 0);
        }
    }
}
