//! `vm_flags` bits, with Linux's values (include/linux/mm.h).

use core::ops::{BitAnd, BitOr, BitOrAssign, Not};

/// A VMA's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VmFlags(pub u64);

impl VmFlags {
    /// No flag.
    pub const NONE: Self = Self(0);
    /// Readable.
    pub const READ: Self = Self(0x1);
    /// Writable.
    pub const WRITE: Self = Self(0x2);
    /// Executable.
    pub const EXEC: Self = Self(0x4);
    /// Shared mapping.
    pub const SHARED: Self = Self(0x8);
    /// May become readable (mprotect limit).
    pub const MAYREAD: Self = Self(0x10);
    /// May become writable.
    pub const MAYWRITE: Self = Self(0x20);
    /// May become executable.
    pub const MAYEXEC: Self = Self(0x40);
    /// May be shared.
    pub const MAYSHARE: Self = Self(0x80);
    /// A stack growing down.
    pub const GROWSDOWN: Self = Self(0x100);
    /// userfaultfd missing-page tracking.
    pub const UFFD_MISSING: Self = Self(0x200);
    /// Page frames without struct page (special).
    pub const PFNMAP: Self = Self(0x400);
    /// userfaultfd write protection.
    pub const UFFD_WP: Self = Self(0x1000);
    /// mlock()ed.
    pub const LOCKED: Self = Self(0x2000);
    /// Memory-mapped I/O (special).
    pub const IO: Self = Self(0x4000);
    /// Not copied on fork (`MADV_DONTFORK`).
    pub const DONTCOPY: Self = Self(0x20000);
    /// Cannot grow with mremap (special).
    pub const DONTEXPAND: Self = Self(0x40000);
    /// Charged to the commit limit.
    pub const ACCOUNT: Self = Self(0x100000);
    /// No swap reservation.
    pub const NORESERVE: Self = Self(0x200000);
    /// hugetlbfs mapping.
    pub const HUGETLB: Self = Self(0x400000);
    /// Mixed page frames (special).
    pub const MIXEDMAP: Self = Self(0x1000_0000);
    /// `MADV_HUGEPAGE`.
    pub const HUGEPAGE: Self = Self(0x2000_0000);
    /// `MADV_NOHUGEPAGE`.
    pub const NOHUGEPAGE: Self = Self(0x4000_0000);
    /// KSM may merge its pages (`MADV_MERGEABLE`).
    pub const MERGEABLE: Self = Self(0x8000_0000);
    /// The special mappings (`VM_SPECIAL`): IO, DONTEXPAND, PFNMAP, MIXEDMAP.
    pub const SPECIAL: Self = Self(0x4000 | 0x40000 | 0x400 | 0x1000_0000);

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for VmFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for VmFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for VmFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl Not for VmFlags {
    type Output = Self;
    fn not(self) -> Self {
        Self(!self.0)
    }
}
