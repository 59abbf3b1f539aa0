//! Firmware-style resource assignment, done by the VMM before boot as a
//! BIOS would: bus numbers for the root ports, addresses for every BAR
//! (from vm-allocator allocators over the host bridge's apertures), bridge
//! windows that enclose what is below each port, and the command
//! register's decode enables. Linux then claims these resources as they
//! are, and our kernel uses them directly.

use std::collections::BTreeMap;

use thiserror::Error;
use vm_allocator::{AddressAllocator, AllocPolicy};

use super::bar::{Bar, BarKind};
use super::root::{Bdf, PciRoot};
use super::HeaderType;

/// Bridge memory windows have 1 MiB granularity.
const MEMORY_WINDOW_ALIGN: u64 = 1 << 20;
/// Bridge I/O windows have 4 KiB granularity.
const IO_WINDOW_ALIGN: u64 = 1 << 12;
/// Command: I/O decode, memory decode.
const COMMAND_IO: u16 = 1 << 0;
const COMMAND_MEMORY: u16 = 1 << 1;
/// Command: bus master (a bridge forwards upstream: DMA and MSI).
const COMMAND_BUS_MASTER: u16 = 1 << 2;

/// The host bridge's apertures: (base, size) of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Apertures {
    /// 32-bit non-prefetchable (and small prefetchable) memory.
    pub mmio32: (u64, u64),
    /// 64-bit prefetchable memory, above RAM.
    pub mmio64: (u64, u64),
    /// I/O ports for BARs.
    pub io: (u64, u64),
}

/// Errors assigning resources: the configuration asks for more than the
/// apertures hold.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AssignError {
    /// An aperture is empty or malformed.
    #[error("invalid {0} aperture")]
    Aperture(&'static str),
    /// No room left.
    #[error("out of {kind} space for {size:#x} bytes at {bdf}")]
    Exhausted {
        /// Which aperture.
        kind: &'static str,
        /// The request.
        size: u64,
        /// Whose request.
        bdf: Bdf,
    },
    /// More root ports than bus numbers.
    #[error("too many root ports")]
    Buses,
}

/// What was assigned: each BAR's address, each port's bus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// (function, BAR index) to address.
    pub bars: BTreeMap<(Bdf, u8), u64>,
}

/// Which aperture a BAR (or a bridge window) takes space from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Io,
    Mem32,
    Mem64Prefetch,
}

impl Class {
    fn of(bar: &Bar) -> Self {
        match bar.kind {
            BarKind::Io => Class::Io,
            BarKind::Memory64 { prefetchable: true } => Class::Mem64Prefetch,
            _ => Class::Mem32,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::Io => "I/O",
            Class::Mem32 => "32-bit memory",
            Class::Mem64Prefetch => "64-bit memory",
        }
    }

    fn window_align(self) -> u64 {
        match self {
            Class::Io => IO_WINDOW_ALIGN,
            _ => MEMORY_WINDOW_ALIGN,
        }
    }
}

struct Allocators {
    io: AddressAllocator,
    mem32: AddressAllocator,
    mem64: AddressAllocator,
}

impl Allocators {
    fn new(apertures: &Apertures) -> Result<Self, AssignError> {
        let make = |(base, size): (u64, u64), name| {
            AddressAllocator::new(base, size).map_err(|_| AssignError::Aperture(name))
        };
        Ok(Self {
            io: make(apertures.io, "I/O")?,
            mem32: make(apertures.mmio32, "32-bit memory")?,
            mem64: make(apertures.mmio64, "64-bit memory")?,
        })
    }

    fn get(&mut self, class: Class) -> &mut AddressAllocator {
        match class {
            Class::Io => &mut self.io,
            Class::Mem32 => &mut self.mem32,
            Class::Mem64Prefetch => &mut self.mem64,
        }
    }
}

fn allocate(
    allocator: &mut AddressAllocator,
    class: Class,
    size: u64,
    align: u64,
    bdf: Bdf,
) -> Result<u64, AssignError> {
    allocator
        .allocate(size, align, AllocPolicy::FirstMatch)
        .map(|range| range.start())
        .map_err(|_| AssignError::Exhausted {
            kind: class.name(),
            size,
            bdf,
        })
}

/// A function's declared BARs: (index, bar).
fn bars_of(root: &PciRoot, bdf: Bdf) -> Vec<(u8, Bar)> {
    root.functions()
        .into_iter()
        .find(|(b, _)| *b == bdf)
        .map(|(_, f)| {
            let guard = f.lock().unwrap_or_else(|p| p.into_inner());
            (0..6u8)
                .filter_map(|i| guard.config().bar(usize::from(i)).map(|bar| (i, bar)))
                .collect()
        })
        .unwrap_or_default()
}

fn write_config(root: &PciRoot, bdf: Bdf, offset: u64, data: &[u8]) {
    root.config_write(bdf, offset, data);
}

fn program_bar(root: &PciRoot, bdf: Bdf, index: u8, bar: &Bar, address: u64) {
    let offset = 0x10 + 4 * u64::from(index);
    write_config(root, bdf, offset, &(address as u32).to_le_bytes());
    if matches!(bar.kind, BarKind::Memory64 { .. }) {
        write_config(
            root,
            bdf,
            offset + 4,
            &((address >> 32) as u32).to_le_bytes(),
        );
    }
}

fn enable(root: &PciRoot, bdf: Bdf, bits: u16) {
    if bits != 0 {
        write_config(root, bdf, 0x04, &bits.to_le_bytes());
    }
}

fn decode_bits(bars: &[(u8, Bar)]) -> u16 {
    bars.iter().fold(0, |bits, (_, bar)| {
        bits | if bar.kind == BarKind::Io {
            COMMAND_IO
        } else {
            COMMAND_MEMORY
        }
    })
}

/// Places `bars` of `bdf` from `allocators`, largest first (so natural
/// alignment wastes least), and records them.
fn place_bars(
    root: &PciRoot,
    bdf: Bdf,
    bars: &[(u8, Bar)],
    allocators: &mut Allocators,
    assignment: &mut Assignment,
) -> Result<(), AssignError> {
    let mut ordered = bars.to_vec();
    ordered.sort_by_key(|(_, bar)| std::cmp::Reverse(bar.size));
    for (index, bar) in ordered {
        let class = Class::of(&bar);
        let address = allocate(allocators.get(class), class, bar.size, bar.size, bdf)?;
        program_bar(root, bdf, index, &bar, address);
        assignment.bars.insert((bdf, index), address);
    }
    Ok(())
}

/// Programs one bridge window (`class`) to [base, base + size), or closes it.
fn program_window(root: &PciRoot, port: Bdf, class: Class, window: Option<(u64, u64)>) {
    match (class, window) {
        (Class::Io, Some((base, size))) => {
            let limit = base + size - 1;
            write_config(
                root,
                port,
                0x1c,
                &[(base >> 8) as u8 & 0xf0, (limit >> 8) as u8 & 0xf0],
            );
        }
        (Class::Io, None) => write_config(root, port, 0x1c, &[0xf0, 0x00]),
        (Class::Mem32, Some((base, size))) => {
            let limit = base + size - 1;
            let register = ((base >> 16) as u32 & 0xfff0) | (((limit >> 16) as u32 & 0xfff0) << 16);
            write_config(root, port, 0x20, &register.to_le_bytes());
        }
        (Class::Mem32, None) => write_config(root, port, 0x20, &0x0000_fff0u32.to_le_bytes()),
        (Class::Mem64Prefetch, Some((base, size))) => {
            let limit = base + size - 1;
            let register = ((base >> 16) as u32 & 0xfff0) | (((limit >> 16) as u32 & 0xfff0) << 16);
            write_config(root, port, 0x24, &register.to_le_bytes());
            write_config(root, port, 0x28, &((base >> 32) as u32).to_le_bytes());
            write_config(root, port, 0x2c, &((limit >> 32) as u32).to_le_bytes());
        }
        (Class::Mem64Prefetch, None) => {
            write_config(root, port, 0x24, &0x0000_fff0u32.to_le_bytes());
            write_config(root, port, 0x28, &0u32.to_le_bytes());
            write_config(root, port, 0x2c, &0u32.to_le_bytes());
        }
    }
}

/// Assigns bus numbers, BARs and bridge windows for everything below
/// `root`, and enables decoding of what was placed.
pub fn assign_resources(root: &PciRoot, apertures: &Apertures) -> Result<Assignment, AssignError> {
    let mut allocators = Allocators::new(apertures)?;
    let mut assignment = Assignment::default();

    // Bus numbers: each root port gets the next bus for its link.
    let mut next_bus: u8 = 1;
    let mut ports = Vec::new();
    for (bdf, function) in root.functions() {
        let header = function
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .config()
            .header_type();
        if bdf.bus == 0 && header == HeaderType::Bridge {
            write_config(root, bdf, 0x18, &[0, next_bus, next_bus]);
            ports.push((bdf, next_bus));
            next_bus = next_bus.checked_add(1).ok_or(AssignError::Buses)?;
        }
    }

    // Endpoints (and port BARs) on bus 0.
    for (bdf, _) in root.functions().into_iter().filter(|(b, _)| b.bus == 0) {
        let bars = bars_of(root, bdf);
        place_bars(root, bdf, &bars, &mut allocators, &mut assignment)?;
        if !ports.iter().any(|(port, _)| *port == bdf) {
            enable(root, bdf, decode_bits(&bars));
        }
    }

    // Below each port: one window per class, sized to hold its BARs.
    for (port, bus) in ports {
        let children: Vec<Bdf> = root
            .functions()
            .into_iter()
            .map(|(b, _)| b)
            .filter(|b| b.bus == bus)
            .collect();
        let mut port_bits = COMMAND_BUS_MASTER;
        for class in [Class::Io, Class::Mem32, Class::Mem64Prefetch] {
            let mut requests: Vec<(Bdf, u8, Bar)> = children
                .iter()
                .flat_map(|child| {
                    bars_of(root, *child)
                        .into_iter()
                        .filter(|(_, bar)| Class::of(bar) == class)
                        .map(|(index, bar)| (*child, index, bar))
                })
                .collect();
            if requests.is_empty() {
                program_window(root, port, class, None);
                continue;
            }
            requests.sort_by_key(|(_, _, bar)| std::cmp::Reverse(bar.size));
            // Largest first, each naturally aligned: the sum of sizes,
            // rounded to the window granularity, holds them all.
            let total: u64 = requests.iter().map(|(_, _, bar)| bar.size).sum();
            let align = class.window_align().max(requests[0].2.size);
            let size = total.next_multiple_of(class.window_align());
            let base = allocate(allocators.get(class), class, size, align, port)?;
            let mut window = AddressAllocator::new(base, size)
                .map_err(|_| AssignError::Aperture(class.name()))?;
            for (child, index, bar) in requests {
                let address = allocate(&mut window, class, bar.size, bar.size, child)?;
                program_bar(root, child, index, &bar, address);
                assignment.bars.insert((child, index), address);
            }
            program_window(root, port, class, Some((base, size)));
            port_bits |= if class == Class::Io {
                COMMAND_IO
            } else {
                COMMAND_MEMORY
            };
        }
        enable(root, port, port_bits);
        for child in children {
            enable(root, child, decode_bits(&bars_of(root, child)));
        }
    }
    Ok(assignment)
}
