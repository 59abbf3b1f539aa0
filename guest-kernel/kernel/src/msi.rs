//! MSI-X interrupts: every device message carries [`MSI_VECTOR`] to the
//! boot CPU; the handler counts them (tests check completions arrive this way).

use core::sync::atomic::{AtomicU64, Ordering};

use guest_drivers::pci::MsiTarget;

use crate::apic;
pub use crate::arch::trap::MSI_VECTOR;

static COUNT: AtomicU64 = AtomicU64::new(0);

/// MSI-X interrupt: count it and signal end of interrupt.
pub fn on_interrupt() {
    COUNT.fetch_add(1, Ordering::Relaxed);
    apic::eoi();
}

/// MSI-X interrupts taken since boot.
pub fn count() -> u64 {
    COUNT.load(Ordering::Relaxed)
}

/// Where device messages go: this (the boot) CPU, [`MSI_VECTOR`].
pub fn target() -> MsiTarget {
    MsiTarget {
        // xAPIC IDs are 8 bits wide.
        apic_id: apic::id() as u8,
        vector: MSI_VECTOR,
    }
}
