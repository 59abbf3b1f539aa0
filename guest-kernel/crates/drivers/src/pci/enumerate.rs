//! Enumeration through configuration space: bus 0, then the secondary bus
//! of every bridge found, depth first. Bus numbers, BARs, bridge windows
//! and decode enables were assigned before boot (by the VMM, as a BIOS
//! would); enumeration only reads them, except for the BAR size probe,
//! which restores every register it touches.

use alloc::vec::Vec;

use super::device::{Bar, BarKind, Capability, HeaderType, PciDevice};
use super::regs;
use crate::hal::{Bdf, Hal};

/// Most capabilities followed in one list (a looping list stops here).
const MAX_CAPABILITIES: usize = 48;
/// Deepest bridge nesting followed.
const MAX_DEPTH: usize = 8;

/// Every function reachable from bus 0, in the order found (a bridge
/// before the functions below it).
pub fn enumerate<H: Hal>(hal: &H) -> Vec<PciDevice> {
    let mut found = Vec::new();
    let mut visited = BusSet::default();
    scan_bus(hal, 0, false, 0, &mut visited, &mut found);
    found
}

/// Bus numbers already scanned (a bit each).
#[derive(Default)]
struct BusSet([u64; 4]);

impl BusSet {
    /// Marks `bus`; returns whether it was new.
    fn insert(&mut self, bus: u8) -> bool {
        let (word, bit) = (usize::from(bus / 64), 1u64 << (bus % 64));
        let new = self.0[word] & bit == 0;
        self.0[word] |= bit;
        new
    }
}

/// Scans `bus`; `single_device` limits it to device 0 (the link below a
/// PCI Express root or downstream port has only that one).
fn scan_bus<H: Hal>(
    hal: &H,
    bus: u8,
    single_device: bool,
    depth: usize,
    visited: &mut BusSet,
    found: &mut Vec<PciDevice>,
) {
    if depth > MAX_DEPTH || !visited.insert(bus) {
        return;
    }
    let devices = if single_device { 1 } else { 32 };
    for device in 0..devices {
        let mut functions = 1;
        let mut function = 0;
        while function < functions {
            let bdf = Bdf::new(bus, device, function);
            function += 1;
            let Some(dev) = probe(hal, bdf) else {
                continue;
            };
            if bdf.function == 0 && dev.multi_function {
                functions = 8;
            }
            let below = dev
                .buses
                .filter(|&(secondary, _)| secondary > bus)
                .map(|(secondary, _)| (secondary, is_pcie_port(hal, &dev)));
            found.push(dev);
            if let Some((secondary, single)) = below {
                scan_bus(hal, secondary, single, depth + 1, visited, found);
            }
        }
    }
}

/// Reads the function at `bdf`, or `None` if nothing answers there.
pub fn probe<H: Hal>(hal: &H, bdf: Bdf) -> Option<PciDevice> {
    let id: u32 = hal.config_read(bdf, regs::VENDOR_ID);
    let vendor_id = (id & 0xffff) as u16;
    if vendor_id == 0xffff || vendor_id == 0 {
        return None;
    }
    let revision_class: u32 = hal.config_read(bdf, regs::REVISION_CLASS);
    let header: u8 = hal.config_read(bdf, regs::HEADER_TYPE);
    let header_type = HeaderType::from_register(header);
    let buses = (header_type == HeaderType::Bridge).then(|| {
        let buses: u32 = hal.config_read(bdf, regs::BRIDGE_BUSES);
        (((buses >> 8) & 0xff) as u8, ((buses >> 16) & 0xff) as u8)
    });
    Some(PciDevice {
        bdf,
        vendor_id,
        device_id: (id >> 16) as u16,
        class: revision_class >> 8,
        revision: (revision_class & 0xff) as u8,
        header_type,
        multi_function: header & regs::HEADER_MULTI_FUNCTION != 0,
        buses,
        bars: probe_bars(hal, bdf, header_type.bar_registers()),
        capabilities: capabilities(hal, bdf),
    })
}

/// Whether `dev` is a PCI Express root or downstream port (its link has
/// one device).
fn is_pcie_port<H: Hal>(hal: &H, dev: &PciDevice) -> bool {
    dev.capabilities_with(regs::CAP_ID_PCIE)
        .next()
        .is_some_and(|offset| {
            let caps: u16 = hal.config_read(dev.bdf, offset + regs::PCIE_CAPABILITIES);
            matches!(
                (caps >> 4) & 0xf,
                regs::PCIE_TYPE_ROOT_PORT | regs::PCIE_TYPE_DOWNSTREAM
            )
        })
}

/// Sizes the first `count` BAR registers: memory and I/O decode are off
/// while all ones are written, then every register is restored.
fn probe_bars<H: Hal>(hal: &H, bdf: Bdf, count: u8) -> Vec<Bar> {
    let mut bars = Vec::new();
    if count == 0 {
        return bars;
    }
    let command: u16 = hal.config_read(bdf, regs::COMMAND);
    let decode = regs::COMMAND_IO | regs::COMMAND_MEMORY;
    if command & decode != 0 {
        hal.config_write(bdf, regs::COMMAND, command & !decode);
    }
    let mut index = 0;
    while index < count {
        let (bar, registers) = probe_bar(hal, bdf, index, count);
        bars.extend(bar);
        index += registers;
    }
    if command & decode != 0 {
        hal.config_write(bdf, regs::COMMAND, command);
    }
    bars
}

/// Writes all ones to `offset`, returns what reads back, restores
/// `original` (unless the register took nothing of the ones and held 0:
/// then it is not implemented and already holds `original`).
fn size_probe<H: Hal>(hal: &H, bdf: Bdf, offset: u16, original: u32) -> u32 {
    hal.config_write(bdf, offset, u32::MAX);
    let probed = hal.config_read(bdf, offset);
    if probed != original {
        hal.config_write(bdf, offset, original);
    }
    probed
}

/// Probes BAR `index`; returns it (if implemented) and how many registers
/// it takes (2 for a 64-bit BAR).
fn probe_bar<H: Hal>(hal: &H, bdf: Bdf, index: u8, count: u8) -> (Option<Bar>, u8) {
    let offset = regs::BAR0 + 4 * u16::from(index);
    let low: u32 = hal.config_read(bdf, offset);
    if low & regs::BAR_IO != 0 {
        let probed = size_probe(hal, bdf, offset, low) & regs::BAR_IO_ADDRESS_MASK & 0xffff;
        let bar = (probed != 0).then(|| Bar {
            index,
            kind: BarKind::Io,
            prefetchable: false,
            address: u64::from(low & regs::BAR_IO_ADDRESS_MASK),
            size: 1 << probed.trailing_zeros(),
        });
        return (bar, 1);
    }
    let prefetchable = low & regs::BAR_PREFETCHABLE != 0;
    let wide = low & regs::BAR_MEM_TYPE_MASK == regs::BAR_MEM_TYPE_64 && index + 1 < count;
    let probed_low = u64::from(size_probe(hal, bdf, offset, low) & regs::BAR_MEM_ADDRESS_MASK);
    let (address, probed, registers) = if wide {
        let high: u32 = hal.config_read(bdf, offset + 4);
        let probed_high = u64::from(size_probe(hal, bdf, offset + 4, high));
        let address = (u64::from(high) << 32) | u64::from(low & regs::BAR_MEM_ADDRESS_MASK);
        (address, (probed_high << 32) | probed_low, 2)
    } else {
        (u64::from(low & regs::BAR_MEM_ADDRESS_MASK), probed_low, 1)
    };
    let bar = (probed != 0).then(|| Bar {
        index,
        kind: if wide {
            BarKind::Memory64
        } else {
            BarKind::Memory32
        },
        prefetchable,
        address,
        size: 1 << probed.trailing_zeros(),
    });
    (bar, registers)
}

/// The standard capability list (if the status register says there is
/// one), then the extended list.
fn capabilities<H: Hal>(hal: &H, bdf: Bdf) -> Vec<Capability> {
    let mut caps = Vec::new();
    let status: u16 = hal.config_read(bdf, regs::STATUS);
    if status & regs::STATUS_CAP_LIST != 0 {
        let first: u8 = hal.config_read(bdf, regs::CAPABILITIES_POINTER);
        let mut offset = u16::from(first & 0xfc);
        while offset >= 0x40 && caps.len() < MAX_CAPABILITIES {
            let header: u16 = hal.config_read(bdf, offset);
            caps.push(Capability {
                id: header & 0xff,
                offset,
            });
            offset = (header >> 8) & 0xfc;
        }
    }
    let standard = caps.len();
    let mut offset = regs::EXT_CAPS_START;
    while offset >= regs::EXT_CAPS_START && caps.len() - standard < MAX_CAPABILITIES {
        let header: u32 = hal.config_read(bdf, offset);
        if header == 0 || header == u32::MAX {
            break;
        }
        caps.push(Capability {
            id: (header & 0xffff) as u16,
            offset,
        });
        offset = ((header >> 20) & 0xffc) as u16;
    }
    caps
}
