//! Stack slots: 8 bytes each, every byte typed as in Linux (`STACK_*`).

use super::reg::RegState;

/// What one stack byte holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotByte {
    /// Never written (`STACK_INVALID`).
    Invalid,
    /// Part of a spilled register (`STACK_SPILL`).
    Spill,
    /// Some data (`STACK_MISC`).
    Misc,
    /// A known zero (`STACK_ZERO`).
    Zero,
}

/// One 8-byte slot; `bytes[0]` is the lowest address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackSlot {
    /// Byte types.
    pub bytes: [SlotByte; 8],
    /// The register spilled here (meaningful when `bytes[0]` is `Spill`).
    pub spilled: RegState,
}

impl StackSlot {
    /// An unwritten slot.
    pub const EMPTY: StackSlot = StackSlot {
        bytes: [SlotByte::Invalid; 8],
        spilled: RegState::NOT_INIT,
    };

    /// Whether a register is spilled here.
    pub fn is_spill(&self) -> bool {
        self.bytes[0] == SlotByte::Spill
    }

    /// Whether a scalar is spilled here.
    pub fn is_spilled_scalar(&self) -> bool {
        self.is_spill() && self.spilled.is_scalar()
    }

    /// Number of spilled bytes from the start.
    pub fn spill_size(&self) -> usize {
        self.bytes
            .iter()
            .take_while(|b| **b == SlotByte::Spill)
            .count()
    }
}

/// Slot index and byte index of stack offset `off` (in `[-512, 0)`).
pub fn slot_of(off: i64) -> (usize, usize) {
    let spi = ((-off - 1) / 8) as usize;
    let base = -((spi as i64 + 1) * 8);
    (spi, (off - base) as usize)
}
