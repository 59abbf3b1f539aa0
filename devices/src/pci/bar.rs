//! Base address registers: what a BAR decodes, and the value a read
//! returns after the OS writes all ones to size it.

/// What a BAR decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// I/O space (bit 0 set).
    Io,
    /// 32-bit memory space.
    Memory32 {
        /// Prefetchable (bit 3).
        prefetchable: bool,
    },
    /// 64-bit memory space: this BAR and the next hold one address.
    Memory64 {
        /// Prefetchable (bit 3).
        prefetchable: bool,
    },
}

/// A BAR as its function declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// What it decodes.
    pub kind: BarKind,
    /// Size in bytes: a power of two, at least 16 for memory, 4 for I/O.
    pub size: u64,
}

impl Bar {
    /// The read-only low bits that say what the BAR decodes.
    pub fn type_bits(&self) -> u32 {
        match self.kind {
            BarKind::Io => 0b01,
            BarKind::Memory32 { prefetchable } => u32::from(prefetchable) << 3,
            BarKind::Memory64 { prefetchable } => (u32::from(prefetchable) << 3) | 0b100,
        }
    }

    /// The writable address bits of the full (possibly 64-bit) register.
    pub fn address_mask(&self) -> u64 {
        let mask = !(self.size.max(1) - 1);
        match self.kind {
            BarKind::Io => mask & 0xffff_fffc,
            BarKind::Memory32 { .. } => mask & 0xffff_fff0,
            BarKind::Memory64 { .. } => mask & !0xf,
        }
    }

    /// Whether the size is one the PCI specification allows for the kind.
    pub fn is_valid(&self) -> bool {
        let min = if self.kind == BarKind::Io { 4 } else { 16 };
        let fits = match self.kind {
            BarKind::Memory64 { .. } => true,
            _ => self.size <= 1 << 31,
        };
        self.size.is_power_of_two() && self.size >= min && fits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bar_masks_follow_size_and_kind() {
        let mmio = Bar {
            kind: BarKind::Memory32 {
                prefetchable: false,
            },
            size: 0x1000,
        };
        assert_eq!((mmio.type_bits(), mmio.address_mask()), (0, 0xffff_f000));
        let wide = Bar {
            kind: BarKind::Memory64 { prefetchable: true },
            size: 1 << 32,
        };
        assert_eq!(
            (wide.type_bits(), wide.address_mask()),
            (0b1100, 0xffff_ffff_0000_0000)
        );
        let io = Bar {
            kind: BarKind::Io,
            size: 0x20,
        };
        assert_eq!((io.type_bits(), io.address_mask()), (1, 0xffff_ffe0));
    }

    #[test]
    fn test_bar_sizes_are_validated() {
        assert!(!Bar {
            kind: BarKind::Io,
            size: 2
        }
        .is_valid());
        assert!(!Bar {
            kind: BarKind::Memory32 {
                prefetchable: false
            },
            size: 0x1800
        }
        .is_valid());
        assert!(!Bar {
            kind: BarKind::Memory32 {
                prefetchable: false
            },
            size: 1 << 32
        }
        .is_valid());
        assert!(Bar {
            kind: BarKind::Memory64 {
                prefetchable: false
            },
            size: 1 << 32
        }
        .is_valid());
    }
}
