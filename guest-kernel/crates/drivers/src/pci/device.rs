//! What enumeration learns about one function, and its one-line summary.

use alloc::vec::Vec;
use core::fmt;

use super::regs;
use crate::hal::{Bdf, Hal};

/// The layout of a function's configuration header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderType {
    /// Type 0: an endpoint with six BARs.
    Endpoint,
    /// Type 1: a PCI-to-PCI bridge (or root port) with two BARs.
    Bridge,
    /// Type 2 (CardBus) or reserved: not parsed further.
    Other(u8),
}

impl HeaderType {
    /// Decodes bits 6:0 of the header type register.
    pub fn from_register(value: u8) -> Self {
        match value & !regs::HEADER_MULTI_FUNCTION {
            0 => Self::Endpoint,
            1 => Self::Bridge,
            other => Self::Other(other),
        }
    }

    /// How many BAR registers the header has.
    pub fn bar_registers(self) -> u8 {
        match self {
            Self::Endpoint => 6,
            Self::Bridge => 2,
            Self::Other(_) => 0,
        }
    }
}

/// What a BAR decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// I/O ports.
    Io,
    /// Memory below 4 GiB.
    Memory32,
    /// Memory anywhere (this register and the next hold the address).
    Memory64,
}

/// An implemented base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// Register index (0..6; a 64-bit BAR also uses `index + 1`).
    pub index: u8,
    /// What it decodes.
    pub kind: BarKind,
    /// Prefetchable memory.
    pub prefetchable: bool,
    /// The address software (here: the VMM, like a BIOS) assigned.
    pub address: u64,
    /// Size in bytes (a power of two).
    pub size: u64,
}

impl Bar {
    /// Whether `[offset, offset + len)` lies inside the BAR.
    pub fn contains(&self, offset: u64, len: u64) -> bool {
        offset.checked_add(len).is_some_and(|end| end <= self.size)
    }
}

/// A capability in the standard (`offset` < 0x100) or extended list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    /// Capability ID (8 bits standard, 16 bits extended).
    pub id: u16,
    /// Offset in configuration space.
    pub offset: u16,
}

/// One function found by enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciDevice {
    /// Where it is.
    pub bdf: Bdf,
    /// Vendor ID.
    pub vendor_id: u16,
    /// Device ID.
    pub device_id: u16,
    /// Class code: base class, subclass, programming interface (24 bits).
    pub class: u32,
    /// Revision ID.
    pub revision: u8,
    /// Header layout.
    pub header_type: HeaderType,
    /// Device 0 function 0 says there are more functions.
    pub multi_function: bool,
    /// Bridges: secondary and subordinate bus numbers.
    pub buses: Option<(u8, u8)>,
    /// Implemented BARs, by index.
    pub bars: Vec<Bar>,
    /// The standard capability list, then the extended one, in list order.
    pub capabilities: Vec<Capability>,
}

impl PciDevice {
    /// The BAR with register index `index`, if implemented.
    pub fn bar(&self, index: u8) -> Option<&Bar> {
        self.bars.iter().find(|b| b.index == index)
    }

    /// Standard capabilities with `id`, in list order.
    pub fn capabilities_with(&self, id: u8) -> impl Iterator<Item = u16> + '_ {
        self.capabilities
            .iter()
            .filter(move |c| c.offset < regs::EXT_CAPS_START && c.id == u16::from(id))
            .map(|c| c.offset)
    }

    /// Sets `bits` in the command register (and keeps the others).
    pub fn enable<H: Hal>(&self, hal: &H, bits: u16) {
        let command: u16 = hal.config_read(self.bdf, regs::COMMAND);
        if command & bits != bits {
            hal.config_write(self.bdf, regs::COMMAND, command | bits);
        }
    }
}

impl fmt::Display for PciDevice {
    /// `00:01.0 1b36:000c class 060400 bus 01-01`, or for an endpoint
    /// `01:00.0 1af4:1042 class 010000 bar0 mem64 0xc0000000+0x4000 caps 11,09`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:04x}:{:04x} class {:06x}",
            self.bdf, self.vendor_id, self.device_id, self.class
        )?;
        if let Some((secondary, subordinate)) = self.buses {
            write!(f, " bus {secondary:02x}-{subordinate:02x}")?;
        }
        for bar in &self.bars {
            let kind = match bar.kind {
                BarKind::Io => "io",
                BarKind::Memory32 => "mem32",
                BarKind::Memory64 => "mem64",
            };
            let prefetch = if bar.prefetchable { "p" } else { "" };
            write!(
                f,
                " bar{} {kind}{prefetch} {:#x}+{:#x}",
                bar.index, bar.address, bar.size
            )?;
        }
        let mut standard = self
            .capabilities
            .iter()
            .filter(|c| c.offset < regs::EXT_CAPS_START)
            .peekable();
        if standard.peek().is_some() {
            f.write_str(" caps")?;
            for (i, cap) in standard.enumerate() {
                let sep = if i == 0 { ' ' } else { ',' };
                write!(f, "{sep}{:02x}", cap.id)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_summary_line_shows_ids_bars_and_caps() {
        let device = PciDevice {
            bdf: Bdf::new(1, 0, 0),
            vendor_id: 0x1af4,
            device_id: 0x1042,
            class: 0x01_00_00,
            revision: 1,
            header_type: HeaderType::Endpoint,
            multi_function: false,
            buses: None,
            bars: alloc::vec![Bar {
                index: 0,
                kind: BarKind::Memory64,
                prefetchable: false,
                address: 0xc000_0000,
                size: 0x4000,
            }],
            capabilities: alloc::vec![
                Capability {
                    id: 0x11,
                    offset: 0x40
                },
                Capability {
                    id: 0x09,
                    offset: 0x4c
                },
                Capability {
                    id: 0x1,
                    offset: 0x100
                },
            ],
        };
        assert_eq!(
            alloc::format!("{device}"),
            "01:00.0 1af4:1042 class 010000 bar0 mem64 0xc0000000+0x4000 caps 11,09"
        );
        assert_eq!(device.capabilities_with(0x09).collect::<Vec<_>>(), [0x4c]);
        assert!(device.bar(0).unwrap().contains(0x3ffc, 4));
        assert!(!device.bar(0).unwrap().contains(0x3ffd, 4));
    }

    #[test]
    fn test_header_type_decodes_layout_bits() {
        assert_eq!(HeaderType::from_register(0x81), HeaderType::Bridge);
        assert_eq!(HeaderType::from_register(0x00), HeaderType::Endpoint);
        assert_eq!(HeaderType::from_register(0x02), HeaderType::Other(2));
        assert_eq!(HeaderType::Bridge.bar_registers(), 2);
    }
}
