//! A PCI Express function's 4 KiB configuration space: the type 0
//! (endpoint) or type 1 (bridge) header, BARs, and the standard (from 0x40)
//! and extended (from 0x100) capability lists. Every byte has a write mask
//! and a write-1-to-clear mask, so guest writes anywhere follow the
//! register semantics and can never break the read-only parts.

use thiserror::Error;

use super::bar::{Bar, BarKind};

/// Size of a PCIe function's configuration space.
pub const CONFIG_SPACE_SIZE: usize = 4096;
/// Where extended capabilities start.
pub const EXT_CAPS_START: usize = 0x100;
/// Where the standard capability list may start (after the header).
const STD_CAPS_START: usize = 0x40;

const VENDOR_ID: usize = 0x00;
const DEVICE_ID: usize = 0x02;
const COMMAND: usize = 0x04;
const STATUS: usize = 0x06;
const REVISION: usize = 0x08;
const CLASS: usize = 0x09;
const HEADER_TYPE: usize = 0x0e;
const BAR0: usize = 0x10;
const SUBSYSTEM_VENDOR_ID: usize = 0x2c;
const SUBSYSTEM_ID: usize = 0x2e;
const CAPABILITIES_POINTER: usize = 0x34;
const INTERRUPT_LINE: usize = 0x3c;
const INTERRUPT_PIN: usize = 0x3d;

/// Command bits a function implements: I/O and memory decode, bus master,
/// parity error response, SERR#, INTx disable.
const COMMAND_WRITABLE: u16 = 0x0547;
/// Command: I/O space decode.
const COMMAND_IO: u16 = 1 << 0;
/// Command: memory space decode.
const COMMAND_MEMORY: u16 = 1 << 1;
/// Status bits that software clears by writing 1: master data parity
/// error, signaled/received target abort, received master abort,
/// signaled system error, detected parity error.
const STATUS_RW1C: u16 = 0xf900;
/// Status: the function has a capability list.
const STATUS_CAP_LIST: u16 = 1 << 4;

/// The header layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderType {
    /// Type 0: an endpoint, six BARs.
    Endpoint,
    /// Type 1: a PCI-to-PCI bridge or root port, two BARs, bus numbers and windows.
    Bridge,
}

impl HeaderType {
    fn bar_count(self) -> usize {
        match self {
            HeaderType::Endpoint => 6,
            HeaderType::Bridge => 2,
        }
    }
}

/// Errors building a configuration space (the device model's mistakes,
/// never the guest's).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    /// No BAR with that index in this header (a 64-bit BAR takes two).
    #[error("BAR {0} does not exist in this header")]
    BarIndex(usize),
    /// The BAR size is not a power of two of the allowed range.
    #[error("BAR size {0:#x} is not valid for its kind")]
    BarSize(u64),
    /// The capability does not fit in its region.
    #[error("no room for a {0}-byte capability")]
    NoRoom(usize),
    /// The write mask is longer than the capability body.
    #[error("write mask longer than the capability")]
    MaskTooLong,
}

/// One function's configuration space.
#[derive(Clone)]
pub struct ConfigSpace {
    bytes: Box<[u8; CONFIG_SPACE_SIZE]>,
    writable: Box<[u8; CONFIG_SPACE_SIZE]>,
    write_one_to_clear: Box<[u8; CONFIG_SPACE_SIZE]>,
    header: HeaderType,
    bars: [Option<Bar>; 6],
    next_cap: usize,
    last_cap_link: usize,
    next_ext_cap: usize,
    last_ext_cap: Option<usize>,
}

impl std::fmt::Debug for ConfigSpace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSpace")
            .field("vendor", &format_args!("{:#06x}", self.read_u16(VENDOR_ID)))
            .field("device", &format_args!("{:#06x}", self.read_u16(DEVICE_ID)))
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl ConfigSpace {
    /// A function with these IDs; `class` is the 24-bit class code
    /// (base class, subclass, programming interface).
    pub fn new(vendor: u16, device: u16, class: u32, revision: u8, header: HeaderType) -> Self {
        let mut space = Self {
            bytes: Box::new([0; CONFIG_SPACE_SIZE]),
            writable: Box::new([0; CONFIG_SPACE_SIZE]),
            write_one_to_clear: Box::new([0; CONFIG_SPACE_SIZE]),
            header,
            bars: [None; 6],
            next_cap: STD_CAPS_START,
            last_cap_link: CAPABILITIES_POINTER,
            next_ext_cap: EXT_CAPS_START,
            last_ext_cap: None,
        };
        space.put(VENDOR_ID, &vendor.to_le_bytes());
        space.put(DEVICE_ID, &device.to_le_bytes());
        space.put(REVISION, &[revision]);
        space.put(CLASS, &class.to_le_bytes()[..3]);
        space.put(
            HEADER_TYPE,
            &[if header == HeaderType::Bridge { 1 } else { 0 }],
        );
        space.mask(COMMAND, &COMMAND_WRITABLE.to_le_bytes());
        space.write_one_to_clear[STATUS..STATUS + 2].copy_from_slice(&STATUS_RW1C.to_le_bytes());
        space.mask(INTERRUPT_LINE, &[0xff]);
        if header == HeaderType::Bridge {
            // Primary, secondary and subordinate bus numbers; I/O, memory
            // and prefetchable windows (bases, limits, upper halves);
            // bridge control.
            space.mask(0x18, &[0xff, 0xff, 0xff]);
            space.mask(0x1c, &[0xf0, 0xf0]);
            space.mask(0x20, &[0xf0, 0xff, 0xf0, 0xff]);
            space.mask(0x24, &[0xf0, 0xff, 0xf0, 0xff]);
            space.mask(0x28, &[0xff; 8]);
            // The prefetchable window decodes 64-bit addresses (type 1 in
            // the low nibbles); I/O decodes 16 bits, so its upper halves
            // at 0x30 stay zero.
            space.put(0x24, &[0x01, 0x00, 0x01, 0x00]);
            space.mask(0x3e, &[0xff, 0x0f]);
        }
        space
    }

    fn put(&mut self, offset: usize, bytes: &[u8]) {
        self.bytes[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    fn mask(&mut self, offset: usize, bits: &[u8]) {
        self.writable[offset..offset + bits.len()].copy_from_slice(bits);
    }

    fn read_u16(&self, offset: usize) -> u16 {
        u16::from_le_bytes([self.bytes[offset], self.bytes[offset + 1]])
    }

    /// The header layout.
    pub fn header_type(&self) -> HeaderType {
        self.header
    }

    /// The command register.
    pub fn command(&self) -> u16 {
        self.read_u16(COMMAND)
    }

    /// Sets the (read-only) subsystem vendor and subsystem IDs of a type 0
    /// header; a bridge has no such registers, so this does nothing there.
    pub fn set_subsystem(&mut self, vendor: u16, id: u16) {
        if self.header == HeaderType::Endpoint {
            self.put(SUBSYSTEM_VENDOR_ID, &vendor.to_le_bytes());
            self.put(SUBSYSTEM_ID, &id.to_le_bytes());
        }
    }

    /// Sets the interrupt pin (1 = INTA#, ... 4 = INTD#; 0 = none).
    pub fn set_interrupt_pin(&mut self, pin: u8) {
        self.put(INTERRUPT_PIN, &[pin.min(4)]);
    }

    /// Raises status bits (errors the device model reports); software
    /// clears the RW1C ones by writing 1.
    pub fn set_status_bits(&mut self, bits: u16) {
        let status = self.read_u16(STATUS) | bits;
        self.put(STATUS, &status.to_le_bytes());
    }

    /// Declares BAR `index` (a 64-bit BAR also takes `index + 1`).
    pub fn set_bar(&mut self, index: usize, bar: Bar) -> Result<(), ConfigError> {
        let last = index + usize::from(matches!(bar.kind, BarKind::Memory64 { .. }));
        if last >= self.header.bar_count() || (index..=last).any(|i| self.bar_slot_taken(i)) {
            return Err(ConfigError::BarIndex(index));
        }
        if !bar.is_valid() {
            return Err(ConfigError::BarSize(bar.size));
        }
        let offset = BAR0 + 4 * index;
        self.put(offset, &bar.type_bits().to_le_bytes());
        let mask = bar.address_mask();
        self.mask(offset, &(mask as u32).to_le_bytes());
        if last != index {
            self.mask(offset + 4, &((mask >> 32) as u32).to_le_bytes());
        }
        self.bars[index] = Some(bar);
        Ok(())
    }

    /// Whether register `index` holds a BAR, or the upper half of a 64-bit one.
    fn bar_slot_taken(&self, index: usize) -> bool {
        let upper_half = index
            .checked_sub(1)
            .and_then(|below| self.bars[below])
            .is_some_and(|b| matches!(b.kind, BarKind::Memory64 { .. }));
        self.bars[index].is_some() || upper_half
    }

    /// The address BAR `index` is programmed with (0 until the OS sets it).
    pub fn bar_address(&self, index: usize) -> Option<u64> {
        let bar = (*self.bars.get(index)?)?;
        let offset = BAR0 + 4 * index;
        let low = u32::from_le_bytes(self.bytes[offset..offset + 4].try_into().ok()?);
        let high = match bar.kind {
            BarKind::Memory64 { .. } => {
                u32::from_le_bytes(self.bytes[offset + 4..offset + 8].try_into().ok()?)
            }
            _ => 0,
        };
        Some(((u64::from(high) << 32) | u64::from(low)) & bar.address_mask())
    }

    /// BAR `index` as declared (None for an undeclared or upper-half register).
    pub fn bar(&self, index: usize) -> Option<Bar> {
        *self.bars.get(index)?
    }

    /// Whether the command register enables decoding of `kind` accesses.
    pub fn decodes(&self, kind: BarKind) -> bool {
        let bit = if kind == BarKind::Io {
            COMMAND_IO
        } else {
            COMMAND_MEMORY
        };
        self.command() & bit != 0
    }

    /// A bridge's secondary and subordinate bus numbers (0, 0 for an endpoint).
    pub fn bridge_buses(&self) -> (u8, u8) {
        match self.header {
            HeaderType::Bridge => (self.bytes[0x19], self.bytes[0x1a]),
            HeaderType::Endpoint => (0, 0),
        }
    }

    /// A bridge's forwarding window for `kind` as an inclusive range, or None
    /// when it is closed (base above limit) or this is not a bridge.
    /// Memory32 is the non-prefetchable window; prefetchable memory of
    /// either width goes through the prefetchable one.
    pub fn bridge_window(&self, kind: BarKind) -> Option<(u64, u64)> {
        if self.header != HeaderType::Bridge {
            return None;
        }
        let u16_at = |o: usize| u64::from(self.read_u16(o));
        let u32_at = |o: usize| {
            u64::from(u32::from_le_bytes([
                self.bytes[o],
                self.bytes[o + 1],
                self.bytes[o + 2],
                self.bytes[o + 3],
            ]))
        };
        let (base, limit) = match kind {
            BarKind::Io => {
                let base = u64::from(self.bytes[0x1c] & 0xf0) << 8;
                let limit = u64::from(self.bytes[0x1d] & 0xf0) << 8;
                (base, limit | 0xfff)
            }
            BarKind::Memory32 {
                prefetchable: false,
            }
            | BarKind::Memory64 {
                prefetchable: false,
            } => (
                (u16_at(0x20) & 0xfff0) << 16,
                ((u16_at(0x22) & 0xfff0) << 16) | 0xf_ffff,
            ),
            BarKind::Memory32 { prefetchable: true } | BarKind::Memory64 { prefetchable: true } => {
                (
                    ((u16_at(0x24) & 0xfff0) << 16) | (u32_at(0x28) << 32),
                    ((u16_at(0x26) & 0xfff0) << 16) | (u32_at(0x2c) << 32) | 0xf_ffff,
                )
            }
        };
        (base <= limit).then_some((base, limit))
    }

    /// Adds a standard capability with `id`; `body` follows the 2-byte
    /// header (ID, next pointer), `writable` masks its first bytes (the
    /// rest is read-only). Returns its offset.
    pub fn add_capability(
        &mut self,
        id: u8,
        body: &[u8],
        writable: &[u8],
    ) -> Result<usize, ConfigError> {
        if writable.len() > body.len() {
            return Err(ConfigError::MaskTooLong);
        }
        let offset = self.next_cap;
        let len = 2 + body.len();
        if offset + len > EXT_CAPS_START {
            return Err(ConfigError::NoRoom(len));
        }
        self.put(offset, &[id, 0]);
        self.put(offset + 2, body);
        self.mask(offset + 2, writable);
        self.bytes[self.last_cap_link] = offset as u8;
        self.last_cap_link = offset + 1;
        self.next_cap = (offset + len).next_multiple_of(4);
        self.set_status_bits(STATUS_CAP_LIST);
        Ok(offset)
    }

    /// Adds an extended capability (`id`, `version`) after 0x100; `body`
    /// follows the 4-byte header, `writable` masks its first bytes.
    /// Returns its offset.
    pub fn add_ext_capability(
        &mut self,
        id: u16,
        version: u8,
        body: &[u8],
        writable: &[u8],
    ) -> Result<usize, ConfigError> {
        if writable.len() > body.len() {
            return Err(ConfigError::MaskTooLong);
        }
        let offset = self.next_ext_cap;
        let len = 4 + body.len();
        if offset + len > CONFIG_SPACE_SIZE {
            return Err(ConfigError::NoRoom(len));
        }
        let header = u32::from(id) | (u32::from(version & 0xf) << 16);
        self.put(offset, &header.to_le_bytes());
        self.put(offset + 4, body);
        self.mask(offset + 4, writable);
        if let Some(previous) = self.last_ext_cap {
            let linked = u32::from_le_bytes(
                self.bytes[previous..previous + 4]
                    .try_into()
                    .unwrap_or([0; 4]),
            ) | ((offset as u32) << 20);
            self.put(previous, &linked.to_le_bytes());
        }
        self.last_ext_cap = Some(offset);
        self.next_ext_cap = (offset + len).next_multiple_of(4);
        Ok(offset)
    }

    /// A configuration read; bytes past the space read as 0xff.
    pub fn read(&self, offset: u64, data: &mut [u8]) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = offset
                .checked_add(i as u64)
                .and_then(|o| usize::try_from(o).ok())
                .and_then(|o| self.bytes.get(o).copied())
                .unwrap_or(0xff);
        }
    }

    /// A configuration write: writable bits take the new value, RW1C bits
    /// clear where a 1 is written, everything else stays.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        for (i, value) in data.iter().enumerate() {
            let Some(at) = offset
                .checked_add(i as u64)
                .and_then(|o| usize::try_from(o).ok())
                .filter(|o| *o < CONFIG_SPACE_SIZE)
            else {
                continue;
            };
            let (mask, clear) = (self.writable[at], self.write_one_to_clear[at]);
            let old = self.bytes[at];
            self.bytes[at] = ((old & !mask) | (value & mask)) & !(value & clear);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> ConfigSpace {
        ConfigSpace::new(0x8086, 0x0cfe, 0x08_80_00, 1, HeaderType::Endpoint)
    }

    fn read32(space: &ConfigSpace, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        space.read(offset, &mut b);
        u32::from_le_bytes(b)
    }

    fn write32(space: &mut ConfigSpace, offset: u64, value: u32) {
        space.write(offset, &value.to_le_bytes());
    }

    #[test]
    fn test_header_reads_back_ids_class_and_type() {
        let s = endpoint();
        assert_eq!(read32(&s, 0), 0x0cfe_8086);
        assert_eq!(read32(&s, 8), 0x0880_0001);
        assert_eq!(read32(&s, 0xc) >> 16 & 0xff, 0);
        let bridge = ConfigSpace::new(0x1b36, 0x000c, 0x06_04_00, 0, HeaderType::Bridge);
        assert_eq!(read32(&bridge, 0xc) >> 16 & 0xff, 1);
    }

    #[test]
    fn test_subsystem_ids_are_read_only() {
        let mut s = endpoint();
        s.set_subsystem(0x1af4, 0x1100);
        assert_eq!(read32(&s, 0x2c), 0x1100_1af4);
        write32(&mut s, 0x2c, 0);
        assert_eq!(read32(&s, 0x2c), 0x1100_1af4);
    }

    #[test]
    fn test_command_takes_only_implemented_bits() {
        let mut s = endpoint();
        write32(&mut s, COMMAND as u64, 0xffff_ffff);
        assert_eq!(s.command(), COMMAND_WRITABLE);
        assert_eq!(
            read32(&s, COMMAND as u64) >> 16,
            0,
            "status unaffected by ones written"
        );
    }

    #[test]
    fn test_status_error_bits_are_write_one_to_clear() {
        let mut s = endpoint();
        s.set_status_bits(1 << 13 | 1 << 12);
        s.write(STATUS as u64, &0x1000u16.to_le_bytes());
        assert_eq!(s.read_u16(STATUS), 1 << 13);
        s.write(STATUS as u64, &0u16.to_le_bytes());
        assert_eq!(s.read_u16(STATUS), 1 << 13, "writing 0 keeps it");
    }

    #[test]
    fn test_bar_sizing_and_programming_32bit_memory() {
        let mut s = endpoint();
        s.set_bar(
            0,
            Bar {
                kind: BarKind::Memory32 {
                    prefetchable: false,
                },
                size: 0x4000,
            },
        )
        .unwrap();
        write32(&mut s, 0x10, 0xffff_ffff);
        assert_eq!(read32(&s, 0x10), 0xffff_c000);
        write32(&mut s, 0x10, 0xfebf_4123);
        assert_eq!(read32(&s, 0x10), 0xfebf_4000);
        assert_eq!(s.bar_address(0), Some(0xfebf_4000));
    }

    #[test]
    fn test_bar_sizing_64bit_prefetchable_spans_two_registers() {
        let mut s = endpoint();
        let bar = Bar {
            kind: BarKind::Memory64 { prefetchable: true },
            size: 1 << 20,
        };
        s.set_bar(2, bar).unwrap();
        write32(&mut s, 0x18, 0xffff_ffff);
        write32(&mut s, 0x1c, 0xffff_ffff);
        assert_eq!(
            (read32(&s, 0x18), read32(&s, 0x1c)),
            (0xfff0_000c, 0xffff_ffff)
        );
        write32(&mut s, 0x18, 0x8000_0000);
        write32(&mut s, 0x1c, 0x1);
        assert_eq!(s.bar_address(2), Some(0x1_8000_0000));
        assert_eq!(
            s.set_bar(3, bar),
            Err(ConfigError::BarIndex(3)),
            "BAR 3 is BAR 2's upper half"
        );
    }

    #[test]
    fn test_bar_sizing_io() {
        let mut s = endpoint();
        s.set_bar(
            5,
            Bar {
                kind: BarKind::Io,
                size: 0x20,
            },
        )
        .unwrap();
        write32(&mut s, 0x24, 0xffff_ffff);
        assert_eq!(read32(&s, 0x24), 0xffff_ffe1);
    }

    #[test]
    fn test_bar_declarations_are_checked() {
        let mut s = endpoint();
        let bar = Bar {
            kind: BarKind::Memory32 {
                prefetchable: false,
            },
            size: 0x1000,
        };
        assert_eq!(s.set_bar(6, bar), Err(ConfigError::BarIndex(6)));
        let wide = Bar {
            kind: BarKind::Memory64 {
                prefetchable: false,
            },
            size: 0x1000,
        };
        assert_eq!(s.set_bar(5, wide), Err(ConfigError::BarIndex(5)));
        assert_eq!(
            s.set_bar(
                0,
                Bar {
                    size: 0x1001,
                    ..bar
                }
            ),
            Err(ConfigError::BarSize(0x1001))
        );
        let mut bridge = ConfigSpace::new(0x1b36, 0x000c, 0x06_04_00, 0, HeaderType::Bridge);
        assert_eq!(bridge.set_bar(2, bar), Err(ConfigError::BarIndex(2)));
        // A BAR nobody declared stays all zeros, even after all ones are written.
        write32(&mut s, 0x14, 0xffff_ffff);
        assert_eq!(read32(&s, 0x14), 0);
    }

    /// Walks the standard capability list: (offset, id) pairs.
    fn walk_caps(s: &ConfigSpace) -> Vec<(usize, u8)> {
        let mut found = Vec::new();
        let mut at = s.bytes[CAPABILITIES_POINTER] as usize;
        while at != 0 && found.len() < 48 {
            found.push((at, s.bytes[at]));
            at = s.bytes[at + 1] as usize;
        }
        found
    }

    #[test]
    fn test_capability_list_links_in_order_and_sets_status() {
        let mut s = endpoint();
        assert_eq!(s.read_u16(STATUS) & STATUS_CAP_LIST, 0);
        let pm = s
            .add_capability(0x01, &[0x03, 0x00, 0x08, 0x00, 0, 0], &[0, 0, 0x03, 0])
            .unwrap();
        let msix = s
            .add_capability(0x11, &[0x07, 0x00, 0, 0, 0, 0, 0, 0, 0, 0], &[0, 0xc0])
            .unwrap();
        assert_eq!(walk_caps(&s), vec![(pm, 0x01), (msix, 0x11)]);
        assert_eq!(pm, STD_CAPS_START);
        assert_ne!(s.read_u16(STATUS) & STATUS_CAP_LIST, 0);
        // MSI-X message control: only the enable and function-mask bits are writable.
        s.write(msix as u64 + 2, &0xffffu16.to_le_bytes());
        assert_eq!(s.read_u16(msix + 2), 0xc007);
    }

    #[test]
    fn test_extended_capabilities_chain_from_0x100() {
        let mut s = endpoint();
        let aer = s.add_ext_capability(0x0001, 2, &[0; 0x34], &[]).unwrap();
        let vsec = s
            .add_ext_capability(0x000b, 1, &[0x02, 0, 0x10, 0x01], &[])
            .unwrap();
        assert_eq!(aer, EXT_CAPS_START);
        let first = read32(&s, aer as u64);
        assert_eq!(
            (first & 0xffff, first >> 16 & 0xf, first >> 20),
            (1, 2, vsec as u32)
        );
        let second = read32(&s, vsec as u64);
        assert_eq!((second & 0xffff, second >> 20), (0xb, 0));
        assert_eq!(
            s.add_ext_capability(1, 1, &[0; 4000], &[]),
            Err(ConfigError::NoRoom(4004))
        );
    }

    #[test]
    fn test_garbage_writes_anywhere_keep_read_only_state() {
        let mut s = endpoint();
        s.set_bar(
            0,
            Bar {
                kind: BarKind::Memory32 {
                    prefetchable: false,
                },
                size: 0x1000,
            },
        )
        .unwrap();
        s.add_capability(0x10, &[0x02, 0x00, 0, 0], &[]).unwrap();
        for len in [1usize, 2, 3, 4, 8] {
            for offset in 0..CONFIG_SPACE_SIZE as u64 + 8 {
                s.write(offset, &vec![0xa5; len]);
            }
        }
        s.write(u64::MAX - 1, &[0xff; 4]);
        assert_eq!(read32(&s, 0), 0x0cfe_8086);
        assert_eq!(read32(&s, 8), 0x0880_0001);
        assert_eq!(walk_caps(&s), vec![(STD_CAPS_START, 0x10)]);
        assert_eq!(read32(&s, 0x10) & 0xfff, 0, "BAR type bits and size stay");
        let mut beyond = [0u8; 4];
        s.read(CONFIG_SPACE_SIZE as u64 - 2, &mut beyond);
        assert_eq!(&beyond[2..], &[0xff, 0xff]);
    }
}
