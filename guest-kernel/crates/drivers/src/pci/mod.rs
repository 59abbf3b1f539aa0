//! PCI: enumeration through configuration space (ECAM in the kernel), the
//! functions found, and MSI-X.

mod device;
mod enumerate;
mod msix;
pub mod regs;

pub use device::{Bar, BarKind, Capability, HeaderType, PciDevice};
pub use enumerate::{enumerate, probe};
pub use msix::{MsiTarget, Msix, MsixError, MSI_ADDRESS_BASE};
