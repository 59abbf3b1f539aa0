//! PCI Express device plumbing: the configuration space every function
//! exposes (ECAM or 0xCF8/0xCFC reach it), with its header, BARs and
//! capability lists; the root complex (host bridge, root ports) that routes
//! configuration and BAR accesses; MSI-X; and the firmware-style resource
//! assignment the VMM runs before boot.

mod assign;
mod bar;
mod bridge;
mod caps;
mod config;
mod msix;
mod root;

pub use assign::{assign_resources, Apertures, AssignError, Assignment};
pub use bar::{Bar, BarKind};
pub use bridge::{
    HostBridge, RootPort, HOST_BRIDGE_DEVICE_ID, ROOT_PORT_DEVICE_ID, VIRTUAL_VENDOR_ID,
};
pub use caps::{
    pcie_capability, power_management_capability, PciePortType, PCIE_CAP_ID, PM_CAP_ID,
};
pub use config::{ConfigError, ConfigSpace, HeaderType, CONFIG_SPACE_SIZE, EXT_CAPS_START};
pub use msix::{IntxLine, MsiMessage, MsiSink, Msix, MSIX_CAP_ID};
pub use root::{
    BarWindow, Bdf, ConfigListener, Ecam, LegacyConfig, PciError, PciFunction, PciRoot,
    SharedFunction, LEGACY_CONFIG_PORT, LEGACY_CONFIG_PORT_LEN,
};
