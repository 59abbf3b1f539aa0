//! Boot page tables, emitted as data at compile time.
//!
//! One PML4 entry -> one PDPT with four entries -> four page directories: an
//! identity map of the first 4 GiB. The first 2 MiB use a page table of 4 KiB
//! pages (so that the boot stack's guard page can be left unmapped, see
//! [`super::entry`]); the rest uses 2 MiB pages. Everything below
//! [`WRITE_BACK_END`] (where RAM below 4 GiB stops) is write-back; the
//! 32-bit MMIO hole from there on (PCI BARs, the ECAM window, IOAPIC, LAPIC,
//! firmware) is uncached (PCD|PWT) and stays mapped (`selftest=emufail`
//! uses 0xd000_0000, where no device answers). Everything at or
//! above 4 GiB is unmapped, so an access there page-faults. No page-table
//! building loop ever runs: entry only clears the guard page's entry.

use core::arch::global_asm;

use super::entry;
use crate::memmap::Region;

/// End (exclusive) of the identity-mapped physical range.
pub const IDENTITY_MAP_END: u64 = 4 << 30;

/// End (exclusive) of the write-back part of the identity map: the start of
/// the VMM's 32-bit MMIO hole (RAM below 4 GiB ends there). From here to
/// [`IDENTITY_MAP_END`] pages are uncached (device registers), so the frame
/// allocator never hands out RAM at or above this address.
pub const WRITE_BACK_END: u64 = 0xc000_0000;

/// An address that is canonical but not mapped (64 GiB): reading it page-faults.
pub const UNMAPPED_ADDR: u64 = 0x10_0000_0000;

/// A non-canonical address: any access raises #GP(0).
pub const NON_CANONICAL_ADDR: u64 = 0x8000_0000_0000_0000;

/// Size of a 2 MiB page.
const LARGE_PAGE: u64 = 2 << 20;

const _: () = assert!(WRITE_BACK_END.is_multiple_of(LARGE_PAGE) && WRITE_BACK_END > LARGE_PAGE);

/// Whether physical address range `[addr, addr + len)` is reachable through
/// the identity map (below 4 GiB and clear of the guard page).
pub fn is_identity_mapped(addr: u64, len: u64) -> bool {
    addr.checked_add(len).is_some_and(|end| {
        end <= IDENTITY_MAP_END && !entry::guard_page().overlaps(&Region { start: addr, end })
    })
}

global_asm!(
    r#"
    .pushsection .data.pagetables, "aw"
    .balign 4096
    .globl boot_pml4
boot_pml4:
    .quad boot_pdpt + 0x3           /* P | RW */
    .fill 511, 8, 0

    .balign 4096
boot_pdpt:
    .quad boot_pd + 0x3
    .quad boot_pd + 0x1000 + 0x3
    .quad boot_pd + 0x2000 + 0x3
    .quad boot_pd + 0x3000 + 0x3
    .fill 508, 8, 0

    .balign 4096
boot_pd:
    /* 0 .. 2 MiB: the 4 KiB-page table below. */
    .quad boot_pt + 0x3
    /* 2 MiB .. WRITE_BACK_END: P | RW | PS */
    .set pd_index, 1
    .rept {write_back_pages} - 1
    .quad (pd_index << 21) | 0x83
    .set pd_index, pd_index + 1
    .endr
    /* WRITE_BACK_END .. 4 GiB (BARs, ECAM, IOAPIC, LAPIC): P | RW | PWT | PCD | PS */
    .rept 2048 - {write_back_pages}
    .quad (pd_index << 21) | 0x9b
    .set pd_index, pd_index + 1
    .endr

    .balign 4096
    .globl boot_pt
boot_pt:
    /* 0 .. 2 MiB in 4 KiB pages: P | RW. The entry clears the guard page's. */
    .set pt_index, 0
    .rept 512
    .quad (pt_index << 12) | 0x3
    .set pt_index, pt_index + 1
    .endr
    .popsection
    "#,
    write_back_pages = const WRITE_BACK_END / LARGE_PAGE,
    options(att_syntax)
);
