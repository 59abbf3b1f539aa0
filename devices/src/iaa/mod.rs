//! Intel In-Memory Analytics Accelerator (IAA 1.0, 8086:0cfe), as Linux
//! 6.12's `idxd` and `iaa_crypto` drive it.
//!
//! BAR 0 (64 KiB, 64-bit memory) holds the registers:
//!
//! | offset   | contents                                                |
//! |----------|---------------------------------------------------------|
//! | `0x0000` | VERSION, GENCAP, WQCAP, GRPCAP, ENGCAP, OPCAP, TABLE_OFFSET, GENCFG, GENCTRL, GENSTS, INTCAUSE, CMD, CMDSTS, SWERR |
//! | `0x0400` | GRPCFG, 64 bytes per group                              |
//! | `0x0800` | WQCFG, 32 bytes per WQ                                  |
//! | `0x0c00` | MSI-X permission table, 8 bytes per vector              |
//! | `0x2000` | MSI-X table (WQs + 1 vectors)                           |
//! | `0x3000` | MSI-X pending-bit array                                 |
//!
//! BAR 2 (WQs x 16 KiB, rounded to a power of two) holds the portals: WQ
//! `w` owns `w * 0x4000 ..+ 0x4000`, four 4 KiB pages (unlimited and
//! limited MSI-X portals, then the IMS pair; Linux maps the limited MSI-X
//! page at `+0x1000`). A descriptor is one 64-byte write at any 64-byte
//! offset of an enabled WQ's pages; it runs before the write returns.
//!
//! Vector 0 signals admin-command completion and software errors (with
//! INTCAUSE); vector `w + 1` is WQ `w`'s completion interrupt.

pub mod codec;
mod command;
pub mod config;
pub mod descriptor;
mod device;
mod engine;
mod registers;
pub mod regs;
mod table;
#[cfg(test)]
mod tests;

pub use config::{IaaConfig, IaaConfigError};
pub use device::{Iaa, IaaError, IaaStats};
pub use engine::EngineStats;
