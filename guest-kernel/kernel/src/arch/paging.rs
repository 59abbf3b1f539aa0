//! Boot page tables, emitted as data at compile time.
//!
//! One PML4 entry -> one PDPT with four entries -> four page directories of
//! 512 two-MiB pages each: an identity map of the first 4 GiB. The top GiB
//! (MMIO: LAPIC, IOAPIC, the 0xd000_0000 hole) is mapped uncached (PCD|PWT).
//! Everything at or above 4 GiB is unmapped, so an access there page-faults.
//! No page-table building loop ever runs.

use core::arch::global_asm;

/// End (exclusive) of the identity-mapped physical range.
pub const IDENTITY_MAP_END: u64 = 4 << 30;

/// An address that is canonical but not mapped (64 GiB): reading it page-faults.
pub const UNMAPPED_ADDR: u64 = 0x10_0000_0000;

/// A non-canonical address: any access raises #GP(0).
pub const NON_CANONICAL_ADDR: u64 = 0x8000_0000_0000_0000;

/// Whether physical address `addr` is reachable through the identity map.
pub fn is_identity_mapped(addr: u64, len: u64) -> bool {
    addr.checked_add(len)
        .is_some_and(|end| end <= IDENTITY_MAP_END)
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
    .set pd_index, 0
    /* 0 .. 3 GiB: P | RW | PS */
    .rept 1536
    .quad (pd_index << 21) | 0x83
    .set pd_index, pd_index + 1
    .endr
    /* 3 .. 4 GiB (MMIO): P | RW | PWT | PCD | PS */
    .rept 512
    .quad (pd_index << 21) | 0x9b
    .set pd_index, pd_index + 1
    .endr
    .popsection
    "#,
    options(att_syntax)
);
