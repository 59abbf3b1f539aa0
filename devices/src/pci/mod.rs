//! PCI Express device plumbing: the configuration space every function
//! exposes (ECAM or 0xCF8/0xCFC reach it), with its header, BARs and
//! capability lists.

mod bar;
mod config;

pub use bar::{Bar, BarKind};
pub use config::{ConfigSpace, HeaderType, CONFIG_SPACE_SIZE, EXT_CAPS_START};
