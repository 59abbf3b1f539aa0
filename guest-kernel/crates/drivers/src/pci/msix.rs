//! MSI-X (PCI Local Bus 3.0, 6.8.2): the capability's message control
//! register and the vector table in one of the function's BARs. On x86 a
//! message is a write of the vector number to the local APIC range.

use core::fmt;

use super::device::PciDevice;
use super::regs;
use crate::hal::{Bdf, Hal, HalError, Mmio};

/// Capability: message control (16 bits) at +2.
const MESSAGE_CONTROL: u16 = 0x02;
/// Capability: table offset and BAR indicator (32 bits) at +4.
const TABLE_OFFSET_BIR: u16 = 0x04;
/// Message control: table size - 1 in bits 10:0.
const CONTROL_TABLE_SIZE: u16 = 0x7ff;
/// Message control: function mask.
const CONTROL_FUNCTION_MASK: u16 = 1 << 14;
/// Message control: MSI-X enable.
const CONTROL_ENABLE: u16 = 1 << 15;
/// Bytes per table entry: address low, address high, data, vector control.
const ENTRY_SIZE: u64 = 16;
/// Vector control: masked.
const VECTOR_MASKED: u32 = 1;
/// x86 message address: the local APIC range; destination in bits 19:12.
pub const MSI_ADDRESS_BASE: u32 = 0xfee0_0000;

/// Why MSI-X cannot be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsixError {
    /// The function has no MSI-X capability.
    NoCapability(Bdf),
    /// The table's BAR is not implemented, or the table does not fit in it.
    BadTable(Bdf),
    /// No table entry with this index.
    NoEntry(u16),
    /// The table's BAR cannot be mapped.
    Hal(HalError),
}

impl fmt::Display for MsixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoCapability(bdf) => write!(f, "{bdf} has no MSI-X capability"),
            Self::BadTable(bdf) => write!(f, "{bdf}: MSI-X table outside its BAR"),
            Self::NoEntry(index) => write!(f, "no MSI-X table entry {index}"),
            Self::Hal(e) => write!(f, "MSI-X table: {e}"),
        }
    }
}

impl core::error::Error for MsixError {}

impl From<HalError> for MsixError {
    fn from(e: HalError) -> Self {
        Self::Hal(e)
    }
}

/// Where a vector's interrupt goes: an x86 CPU (by local APIC ID) and the
/// IDT vector it runs there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiTarget {
    /// Destination local APIC ID (physical mode, 0..256).
    pub apic_id: u8,
    /// IDT vector (32..256).
    pub vector: u8,
}

impl MsiTarget {
    /// The message address: fixed delivery, physical destination.
    pub fn address(self) -> u32 {
        MSI_ADDRESS_BASE | (u32::from(self.apic_id) << 12)
    }

    /// The message data: the vector, fixed delivery mode, edge triggered.
    pub fn data(self) -> u32 {
        u32::from(self.vector)
    }
}

/// A function's MSI-X capability and mapped vector table.
#[derive(Debug, Clone, Copy)]
pub struct Msix {
    bdf: Bdf,
    capability: u16,
    table: Mmio,
    entries: u16,
}

impl Msix {
    /// Finds `device`'s MSI-X capability and maps its table. MSI-X stays
    /// as it is (disabled after reset).
    pub fn new<H: Hal>(hal: &H, device: &PciDevice) -> Result<Self, MsixError> {
        let bdf = device.bdf;
        let capability = device
            .capabilities_with(regs::CAP_ID_MSIX)
            .next()
            .ok_or(MsixError::NoCapability(bdf))?;
        let control: u16 = hal.config_read(bdf, capability + MESSAGE_CONTROL);
        let entries = (control & CONTROL_TABLE_SIZE) + 1;
        let table: u32 = hal.config_read(bdf, capability + TABLE_OFFSET_BIR);
        let bar = device
            .bar((table & 0x7) as u8)
            .ok_or(MsixError::BadTable(bdf))?;
        let offset = u64::from(table & !0x7);
        let len = u64::from(entries) * ENTRY_SIZE;
        if !bar.contains(offset, len) {
            return Err(MsixError::BadTable(bdf));
        }
        let table = Mmio::map(hal, bar.address + offset, len)?;
        Ok(Self {
            bdf,
            capability,
            table,
            entries,
        })
    }

    /// Number of table entries.
    pub fn entries(&self) -> u16 {
        self.entries
    }

    fn control<H: Hal>(&self, hal: &H) -> u16 {
        hal.config_read(self.bdf, self.capability + MESSAGE_CONTROL)
    }

    fn set_control<H: Hal>(&self, hal: &H, value: u16) {
        hal.config_write(self.bdf, self.capability + MESSAGE_CONTROL, value);
    }

    /// Enables MSI-X with the whole function masked, so entries can be
    /// programmed before any message goes out; [`Msix::unmask_function`]
    /// lets them through.
    pub fn enable_masked<H: Hal>(&self, hal: &H) {
        let control = self.control(hal);
        self.set_control(hal, control | CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
    }

    /// Clears the function mask (pending messages are then delivered).
    pub fn unmask_function<H: Hal>(&self, hal: &H) {
        let control = self.control(hal) & !CONTROL_FUNCTION_MASK;
        self.set_control(hal, control | CONTROL_ENABLE);
    }

    /// Disables MSI-X.
    pub fn disable<H: Hal>(&self, hal: &H) {
        let control = self.control(hal);
        self.set_control(hal, control & !(CONTROL_ENABLE | CONTROL_FUNCTION_MASK));
    }

    /// Whether MSI-X is enabled and the function unmasked.
    pub fn is_enabled<H: Hal>(&self, hal: &H) -> bool {
        self.control(hal) & (CONTROL_ENABLE | CONTROL_FUNCTION_MASK) == CONTROL_ENABLE
    }

    /// Points entry `index` at `target` and unmasks it (masked while the
    /// address and data change).
    pub fn program<H: Hal>(&self, hal: &H, index: u16, target: MsiTarget) -> Result<(), MsixError> {
        if index >= self.entries {
            return Err(MsixError::NoEntry(index));
        }
        let entry = u64::from(index) * ENTRY_SIZE;
        self.table.write(hal, entry + 12, VECTOR_MASKED);
        self.table.write(hal, entry, target.address());
        self.table.write(hal, entry + 4, 0u32);
        self.table.write(hal, entry + 8, target.data());
        self.table.write(hal, entry + 12, 0u32);
        Ok(())
    }

    /// The (address, data, masked) of entry `index`, read back.
    pub fn entry<H: Hal>(&self, hal: &H, index: u16) -> Result<(u64, u32, bool), MsixError> {
        if index >= self.entries {
            return Err(MsixError::NoEntry(index));
        }
        let entry = u64::from(index) * ENTRY_SIZE;
        let low: u32 = self.table.read(hal, entry);
        let high: u32 = self.table.read(hal, entry + 4);
        let data = self.table.read(hal, entry + 8);
        let control: u32 = self.table.read(hal, entry + 12);
        Ok((
            (u64::from(high) << 32) | u64::from(low),
            data,
            control & VECTOR_MASKED != 0,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_target_encodes_apic_id_and_vector() {
        let target = MsiTarget {
            apic_id: 3,
            vector: 0x41,
        };
        assert_eq!(target.address(), 0xfee0_3000);
        assert_eq!(target.data(), 0x41);
    }
}
