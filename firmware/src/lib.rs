//! What the platform hands a guest: the guest-physical layout, the memory
//! map, the boot GDT, and the PVH start info.
//!
//! Everything here writes through vm-memory, so a layout that does not fit
//! the guest's RAM is an error, never an out-of-bounds write.

#![forbid(unsafe_code)]

pub mod acpi;
mod acpi_pci;
pub mod gdt;
pub mod layout;
pub mod memmap;
pub mod pvh;
pub mod zero_page;

pub use layout::GuestLayout;
pub use memmap::{MemoryMapEntry, MemoryType};
