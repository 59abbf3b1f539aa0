//! User address spaces: a page table ([`pt`]), areas ([`vma`]), folios of
//! anonymous private memory faulted in on demand ([`folio`], mTHP policy in
//! [`thp`]), mmap/munmap/mprotect/madvise/brk, and user copies that fail
//! with EFAULT ([`uaccess`]).
//!
//! The kernel runs on its own page tables, so it reaches user memory by
//! walking these tables in software and using the identity map of the
//! frame; a missing page is faulted in as the CPU's access would have.

pub mod folio;
pub mod pt;
pub mod thp;
pub mod uaccess;
pub mod vma;

use alloc::collections::BTreeMap;

use guest_abi::errno::{EEXIST, EINVAL, ENOMEM};
use guest_abi::mman::*;
use spin::Once;

use self::pt::{ADDR, COW, LARGE, NX, P, PageTable, RW, US, USER_END};
use guest_mm::thp::{AnonFault, alloc_anon_folio};

use self::vma::{Kind, VmFlags, Vma, VmaTree, prot_of};
use crate::arch::user::nx_enabled;

/// Top of the initial stack (Linux's STACK_TOP without randomisation).
pub const STACK_TOP: u64 = 0x7fff_ffff_f000;
/// Size of the stack area (RLIMIT_STACK's default).
pub const STACK_SIZE: u64 = 8 << 20;
/// Highest address mmap picks on its own (below the stack and its gap).
pub const MMAP_BASE: u64 = 0x7fff_f7ff_f000;
/// Lowest address mmap picks (vm.mmap_min_addr).
pub const MMAP_MIN: u64 = 0x1_0000;
/// Where a static-pie executable is loaded (Linux's without randomisation).
pub const PIE_BASE: u64 = 0x5555_5555_4000;

/// #PF error code bits.
pub mod pf {
    /// The entry was present (protection fault).
    pub const PRESENT: u64 = 1;
    /// Write access.
    pub const WRITE: u64 = 2;
    /// From user mode.
    pub const USER: u64 = 4;
    /// Instruction fetch.
    pub const FETCH: u64 = 16;
}

/// Why a fault could not be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultError {
    /// No area there (SEGV_MAPERR).
    NoArea,
    /// The area forbids the access (SEGV_ACCERR).
    Access,
    /// Out of memory.
    NoMemory,
}

struct FolioInfo {
    order: u8,
    mapped: u16,
}

/// The zero page: mapped read-only (copy on write) by read faults.
static ZERO_PAGE: Once<u64> = Once::new();

fn zero_page() -> u64 {
    *ZERO_PAGE.call_once(|| folio::alloc_zeroed_frame().expect("a frame for the zero page"))
}

/// Sets up what every address space shares (the zero page), before the
/// first process runs.
pub fn init() {
    zero_page();
}

/// Drops `pages` mappings of the folio holding the frame at `phys`,
/// freeing it when no page of it stays mapped. `large`: the entry had
/// [`LARGE`] (else the frame is an order-0 folio, or the zero page).
fn release(folios: &mut BTreeMap<u64, FolioInfo>, phys: u64, large: bool, pages: u16) {
    if !large {
        if ZERO_PAGE.get() != Some(&phys) {
            folio::free(phys, 0);
        }
        return;
    }
    let Some((&head, info)) = folios.range_mut(..=phys).next_back() else {
        return;
    };
    info.mapped -= pages;
    if info.mapped == 0 {
        let order = usize::from(info.order);
        folios.remove(&head);
        folio::free(head, order);
    }
}

/// The folio (head, end) holding `phys`, from the folio map.
fn folio_of(folios: &BTreeMap<u64, FolioInfo>, phys: u64) -> Option<(u64, u64)> {
    folios
        .range(..=phys)
        .next_back()
        .map(|(&head, info)| (head, head + folio::bytes(usize::from(info.order))))
        .filter(|&(_, end)| phys < end)
}

/// One process's address space.
#[derive(Debug)]
pub struct AddressSpace {
    pt: PageTable,
    vmas: VmaTree,
    folios: BTreeMap<u64, FolioInfo>,
    /// Start of the program break area.
    pub brk_start: u64,
    /// The current program break.
    pub brk: u64,
    /// Page faults served (minor faults).
    pub faults: u64,
}

impl core::fmt::Debug for FolioInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "order {} mapped {}", self.order, self.mapped)
    }
}

/// Page-table flags for `prot`.
pub fn pte_flags(prot: u64) -> u64 {
    if prot & (PROT_READ | PROT_WRITE | PROT_EXEC) == 0 {
        return 0;
    }
    let mut flags = P | US;
    if prot & PROT_WRITE != 0 {
        flags |= RW;
    }
    if prot & PROT_EXEC == 0 && nx_enabled() {
        flags |= NX;
    }
    flags
}

fn page_down(a: u64) -> u64 {
    a & !(PAGE_SIZE - 1)
}

fn page_up(a: u64) -> Option<u64> {
    a.checked_add(PAGE_SIZE - 1).map(page_down)
}

impl AddressSpace {
    /// An empty address space.
    pub fn new() -> Option<Self> {
        Some(Self {
            pt: PageTable::new()?,
            vmas: VmaTree::new(),
            folios: BTreeMap::new(),
            brk_start: 0,
            brk: 0,
            faults: 0,
        })
    }

    /// The CR3 value.
    pub fn cr3(&self) -> u64 {
        self.pt.root()
    }

    /// The areas.
    pub fn vmas(&self) -> &VmaTree {
        &self.vmas
    }

    /// The leaf page-table entry of `va` (0 if none).
    pub fn pte(&self, va: u64) -> u64 {
        self.pt.get(va)
    }

    /// Adds an area (which must not overlap one).
    pub fn add_area(&mut self, start: u64, end: u64, prot: u64, kind: Kind) {
        let inserted = self.vmas.insert(vma::new(start, end, prot, kind));
        debug_assert!(inserted.is_ok(), "area {start:#x}..{end:#x} overlaps");
    }

    /// Maps a fresh, zeroed 4 KiB page at `va` with `prot`, filled from
    /// `data` at `offset` (image loading); returns false if out of memory.
    pub fn map_page_with(&mut self, va: u64, prot: u64, offset: usize, data: &[u8]) -> bool {
        let Some(f) = folio::alloc(0) else {
            return false;
        };
        if !f.zeroed {
            folio::zero(f.phys, 1);
        }
        let len = data.len().min(PAGE_SIZE as usize - offset);
        // SAFETY: the frame is ours and identity-mapped; `offset + len` is
        // at most a page.
        unsafe {
            core::ptr::copy_nonoverlapping(data.as_ptr(), (f.phys + offset as u64) as *mut u8, len);
        }
        if !self.pt.set(va, f.phys | pte_flags(prot)) {
            folio::free(f.phys, 0);
            return false;
        }
        true
    }

    /// Serves a page fault at `addr` with #PF error code `err`.
    pub fn fault(&mut self, addr: u64, err: u64) -> Result<(), FaultError> {
        let vma = self.vmas.find(addr).ok_or(FaultError::NoArea)?.clone();
        let prot = prot_of(&vma);
        let write = err & pf::WRITE != 0;
        let allowed = if err & pf::FETCH != 0 {
            prot & PROT_EXEC != 0
        } else if write {
            prot & PROT_WRITE != 0
        } else {
            prot & (PROT_READ | PROT_WRITE | PROT_EXEC) != 0
        };
        if !allowed {
            return Err(FaultError::Access);
        }
        let va = page_down(addr);
        let entry = self.pt.get(va);
        if entry & P != 0 {
            if write && entry & COW != 0 {
                self.faults += 1;
                return self.break_cow(va, entry, &vma);
            }
            // Spurious (another path mapped it): nothing to do.
            return if write && entry & RW == 0 {
                Err(FaultError::Access)
            } else {
                Ok(())
            };
        }
        self.faults += 1;
        if !write && err & pf::FETCH == 0 {
            // Read fault: the shared zero page, copy on write (as Linux).
            let flags = (pte_flags(prot) & !RW) | if prot & PROT_WRITE != 0 { COW } else { 0 };
            return if self.pt.set(va, zero_page() | flags) {
                Ok(())
            } else {
                Err(FaultError::NoMemory)
            };
        }
        self.anon_fault(addr, &vma)
    }

    /// Allocates a folio of the order `guest-mm`'s policy picks (the
    /// largest allowed, suitable and still empty one that can be had) and
    /// maps all its pages.
    fn anon_fault(&mut self, addr: u64, vma: &Vma) -> Result<(), FaultError> {
        const PMD_SIZE: u64 = 2 << 20;
        let fault = AnonFault {
            vma_start: vma.start,
            vma_end: vma.end,
            flags: vma.flags,
            addr,
            write: true,
            thp_disabled: false,
            pmd_none: self.pt.range_empty(addr & !(PMD_SIZE - 1), 512),
        };
        let pt = &self.pt;
        let settings = thp::settings();
        let got = alloc_anon_folio(
            &settings,
            &thp::STATS,
            &fault,
            |start, pages| pt.range_empty(start, pages as u64),
            folio::alloc,
        )
        .ok_or(FaultError::NoMemory)?;
        let f = got.block;
        if !f.zeroed {
            folio::zero(f.phys, 1 << f.order);
        }
        let start = got.addr;
        let flags = pte_flags(prot_of(vma));
        let large = if f.order > 0 { LARGE } else { 0 };
        if !self.pt.set_run(start, f.phys | flags | large, 1 << f.order) {
            folio::free(f.phys, f.order);
            return Err(FaultError::NoMemory);
        }
        if f.order > 0 {
            self.folios.insert(
                f.phys,
                FolioInfo {
                    order: f.order as u8,
                    mapped: 1 << f.order,
                },
            );
        }
        Ok(())
    }

    /// A write to a copy-on-write page: a private copy (or the page
    /// itself when no one else maps it).
    fn break_cow(&mut self, va: u64, entry: u64, vma: &Vma) -> Result<(), FaultError> {
        let old = entry & ADDR;
        let flags = pte_flags(prot_of(vma));
        if old != zero_page() && self.exclusive(old) {
            self.pt.set(va, old | flags | (entry & LARGE));
            return Ok(());
        }
        let f = folio::alloc(0).ok_or(FaultError::NoMemory)?;
        if old == zero_page() {
            if !f.zeroed {
                folio::zero(f.phys, 1);
            }
        } else {
            // SAFETY: both frames are identity-mapped; `f` is ours.
            unsafe { core::ptr::copy_nonoverlapping(old as *const u8, f.phys as *mut u8, 4096) };
            self.release(entry);
        }
        self.pt.set(va, f.phys | flags);
        Ok(())
    }

    /// Whether the frame at `phys` is mapped only here (no fork yet: all
    /// but the zero page are).
    fn exclusive(&self, phys: u64) -> bool {
        phys != zero_page()
    }

    /// Drops one mapping of the frame at `phys`, freeing its folio when
    /// no page of it stays mapped.
    fn release(&mut self, entry: u64) {
        release(&mut self.folios, entry & ADDR, entry & LARGE != 0, 1);
    }

    /// Clears the entries of `[start, end)` and releases their frames;
    /// the pages of one large folio are released together.
    fn zap(&mut self, start: u64, end: u64) {
        let folios = &mut self.folios;
        // The large folio being walked: (head, end, pages seen).
        let mut run: Option<(u64, u64, u16)> = None;
        self.pt.for_each(start, end, |_, e| {
            let entry = core::mem::take(e);
            let phys = entry & ADDR;
            if let Some((head, fend, n)) = run.as_mut()
                && (*head..*fend).contains(&phys)
            {
                *n += 1;
                return;
            }
            if let Some((head, _, n)) = run.take() {
                release(folios, head, true, n);
            }
            if entry & LARGE == 0 {
                release(folios, phys, false, 1);
            } else if let Some((head, fend)) = folio_of(folios, phys) {
                run = Some((head, fend, 1));
            }
        });
        if let Some((head, _, n)) = run {
            release(folios, head, true, n);
        }
    }

    /// mmap of anonymous private memory (`MAP_SHARED` is served as
    /// private: there is no fork). Returns the address or -errno.
    pub fn mmap(&mut self, addr: u64, len: u64, prot: u64, flags: u64) -> Result<u64, i64> {
        let len = page_up(len)
            .filter(|&l| l != 0 && l < USER_END)
            .ok_or(EINVAL)?;
        if flags & (MAP_PRIVATE | MAP_SHARED) == 0
            || !addr.is_multiple_of(PAGE_SIZE) && flags & MAP_FIXED != 0
        {
            return Err(EINVAL);
        }
        let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        let start = if fixed {
            let end = addr
                .checked_add(len)
                .filter(|&e| e <= USER_END)
                .ok_or(ENOMEM)?;
            if flags & MAP_FIXED_NOREPLACE != 0 && self.overlaps(addr, end) {
                return Err(EEXIST);
            }
            self.unmap_range(addr, end);
            addr
        } else {
            let hint = page_down(addr);
            let hint_ok = hint >= MMAP_MIN
                && hint.checked_add(len).is_some_and(|e| e <= MMAP_BASE)
                && !self.overlaps(hint, hint + len);
            if hint_ok {
                hint
            } else {
                self.pick_address(len).ok_or(ENOMEM)?
            }
        };
        self.add_area(start, start + len, prot, Kind::Anon);
        if flags & MAP_POPULATE != 0 {
            let err = pf::USER | if prot & PROT_WRITE != 0 { pf::WRITE } else { 0 };
            let mut va = start;
            while va < start + len {
                if self.fault(va, err).is_err() {
                    break;
                }
                va = (va | (folio::bytes(0) - 1)) + 1;
            }
        }
        Ok(start)
    }

    /// A free range of `len` bytes below [`MMAP_BASE`]; 2 MiB aligned for
    /// mappings of 2 MiB or more (as Linux aligns large anonymous ones).
    fn pick_address(&self, len: u64) -> Option<u64> {
        const HUGE: u64 = 2 << 20;
        let align = if len >= HUGE { HUGE } else { PAGE_SIZE };
        self.vmas
            .find_gap(len, align, MMAP_MIN, MMAP_BASE)
            .or_else(|| self.vmas.find_gap(len, PAGE_SIZE, MMAP_MIN, MMAP_BASE))
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas.intersecting(start, end).next().is_some()
    }

    fn unmap_range(&mut self, start: u64, end: u64) {
        if start < end {
            self.vmas.unmap(start, end).ok();
            self.zap(start, end);
        }
    }

    /// munmap; -errno on bad arguments.
    pub fn munmap(&mut self, addr: u64, len: u64) -> Result<(), i64> {
        let end = page_up(len)
            .and_then(|l| addr.checked_add(l))
            .filter(|&e| e <= USER_END && len != 0 && addr.is_multiple_of(PAGE_SIZE))
            .ok_or(EINVAL)?;
        self.unmap_range(addr, end);
        Ok(())
    }

    fn checked_range(&self, addr: u64, len: u64) -> Result<u64, i64> {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(EINVAL);
        }
        let end = page_up(len)
            .and_then(|l| addr.checked_add(l))
            .filter(|&e| e <= USER_END)
            .ok_or(ENOMEM)?;
        if !self.vmas.is_fully_mapped(addr, end) {
            return Err(ENOMEM);
        }
        Ok(end)
    }

    /// mprotect: new protections for the areas and their entries.
    pub fn mprotect(&mut self, addr: u64, len: u64, prot: u64) -> Result<(), i64> {
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
            return Err(EINVAL);
        }
        let end = self.checked_range(addr, len)?;
        let access = vma::flags_of_prot(PROT_READ | PROT_WRITE | PROT_EXEC);
        let new = vma::flags_of_prot(prot);
        self.vmas
            .update(addr, end, |v| v.flags = (v.flags & !access) | new)
            .ok();
        let flags = pte_flags(prot);
        let zero = zero_page();
        self.pt.for_each(addr, end, |_, e| {
            let phys = *e & ADDR;
            let cow = *e & COW != 0 || phys == zero;
            let mut value = phys | flags | (*e & LARGE);
            if cow && value & RW != 0 {
                value = (value & !RW) | COW;
            }
            *e = value;
        });
        Ok(())
    }

    /// madvise: DONTNEED/FREE drop pages, HUGEPAGE/NOHUGEPAGE set the
    /// area's THP flags, the hints are accepted.
    pub fn madvise(&mut self, addr: u64, len: u64, advice: u64) -> Result<(), i64> {
        let end = self.checked_range(addr, len)?;
        match advice {
            MADV_DONTNEED | MADV_FREE => self.zap(addr, end),
            MADV_HUGEPAGE => {
                self.vmas
                    .update(addr, end, |v| {
                        v.flags = (v.flags | VmFlags::HUGEPAGE) & !VmFlags::NOHUGEPAGE;
                    })
                    .ok();
            }
            MADV_NOHUGEPAGE => {
                self.vmas
                    .update(addr, end, |v| {
                        v.flags = (v.flags | VmFlags::NOHUGEPAGE) & !VmFlags::HUGEPAGE;
                    })
                    .ok();
            }
            MADV_NORMAL | MADV_RANDOM | MADV_SEQUENTIAL | MADV_WILLNEED => {}
            _ => return Err(EINVAL),
        }
        Ok(())
    }

    /// brk: moves the break to `addr` if possible; returns the break.
    pub fn set_brk(&mut self, addr: u64) -> u64 {
        if addr < self.brk_start {
            return self.brk;
        }
        let (Some(old_end), Some(new_end)) = (page_up(self.brk), page_up(addr)) else {
            return self.brk;
        };
        if new_end > old_end {
            if self.overlaps(old_end, new_end) || new_end > MMAP_BASE {
                return self.brk;
            }
            self.add_area(old_end, new_end, PROT_READ | PROT_WRITE, Kind::Heap);
        } else if new_end < old_end {
            self.unmap_range(new_end, old_end);
        }
        self.brk = addr;
        self.brk
    }

    /// Frees every page and table.
    pub fn destroy(mut self) {
        self.zap(0, USER_END);
        self.pt.destroy();
    }
}
