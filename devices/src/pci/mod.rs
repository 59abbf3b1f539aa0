//! PCI Express device plumbing: the configuration space every function
//! exposes (ECAM or 0xCF8/0xCFC reach it), with its header, BARs and
//! capability lists.

mod bar;
mod config;
mod msix;
mod root;

pub use bar::{Bar, BarKind};
pub use config::{ConfigError, ConfigSpace, HeaderType, CONFIG_SPACE_SIZE, EXT_CAPS_START};
pub use msix::{MsiMessage, Msix, MSIX_CAP_ID};
pub use root::{
    Bdf, Ecam, LegacyConfig, PciError, PciFunction, PciRoot, SharedFunction, LEGACY_CONFIG_PORT,
    LEGACY_CONFIG_PORT_LEN,
};
