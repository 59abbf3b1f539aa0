//! Virtual memory areas: `guest-mm`'s tree ([`guest_mm::vma::VmaTree`])
//! with Linux `vm_flags` (VM_READ/WRITE/EXEC are PROT_READ/WRITE/EXEC's
//! bits, plus VM_HUGEPAGE/VM_NOHUGEPAGE from madvise) and what the area
//! holds as the merge-relevant data.

use guest_abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
pub use guest_mm::vma::VmFlags;

/// What an area holds (for reports; all are anonymous private memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A segment of the executable.
    Image,
    /// The program break.
    Heap,
    /// The initial stack.
    Stack,
    /// mmap(MAP_ANONYMOUS | MAP_PRIVATE).
    Anon,
}

/// One area.
pub type Vma = guest_mm::vma::Vma<Kind>;
/// The areas of one address space.
pub type VmaTree = guest_mm::vma::VmaTree<Kind>;

/// The access bits of `vm_flags` for `prot`.
pub fn flags_of_prot(prot: u64) -> VmFlags {
    VmFlags(prot & (PROT_READ | PROT_WRITE | PROT_EXEC))
}

/// The PROT_* bits of an area.
pub fn prot_of(vma: &Vma) -> u64 {
    vma.flags.0 & (PROT_READ | PROT_WRITE | PROT_EXEC)
}

/// A new area.
pub fn new(start: u64, end: u64, prot: u64, kind: Kind) -> Vma {
    Vma {
        start,
        end,
        flags: flags_of_prot(prot),
        pgoff: start / 4096,
        data: kind,
    }
}
