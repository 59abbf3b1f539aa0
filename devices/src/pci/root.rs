//! The root complex's configuration access: functions addressed by
//! bus/device/function, reached through the ECAM window (PCIe enhanced
//! configuration access: 4 KiB per function) or the legacy 0xCF8/0xCFC
//! port pair (256 bytes per function). An absent function reads all ones,
//! which is how software finds nothing there.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use thiserror::Error;

use super::bar::BarKind;
use super::config::{ConfigSpace, CONFIG_SPACE_SIZE};
use crate::trace::{Access, AccessObserver, Direction, Space};
use crate::BusDevice;

/// A function on the root's buses: its configuration space and the
/// registers behind its BARs.
pub trait PciFunction: Send {
    /// A short name for traces and logs (e.g. `virtio-blk`).
    fn name(&self) -> &str;
    /// The configuration space (the root reads BARs, command and bridge
    /// registers from it to route accesses).
    fn config(&self) -> &ConfigSpace;
    /// The configuration space, for writes.
    fn config_mut(&mut self) -> &mut ConfigSpace;
    /// A configuration read at `offset` (0..4096).
    fn read_config(&mut self, offset: u64, data: &mut [u8]) {
        self.config().read(offset, data);
    }
    /// A configuration write at `offset` (0..4096); functions with
    /// registers that act on writes (MSI-X control, say) override it.
    fn write_config(&mut self, offset: u64, data: &[u8]) {
        self.config_mut().write(offset, data);
    }
    /// A read of BAR `bar`'s region at `offset` (within the BAR's size).
    fn read_bar(&mut self, bar: u8, offset: u64, data: &mut [u8]) {
        let _ = (bar, offset);
        data.fill(0xff);
    }
    /// A write to BAR `bar`'s region at `offset` (within the BAR's size).
    fn write_bar(&mut self, bar: u8, offset: u64, data: &[u8]) {
        let _ = (bar, offset, data);
    }
}

/// Bus, device (0..32), function (0..8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bdf {
    /// Bus number.
    pub bus: u8,
    /// Device number, 0 to 31.
    pub device: u8,
    /// Function number, 0 to 7.
    pub function: u8,
}

impl Bdf {
    /// Bus 0's `device`.`function`.
    pub const fn root(device: u8, function: u8) -> Self {
        Self {
            bus: 0,
            device,
            function,
        }
    }
}

impl fmt::Display for Bdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// Errors building the hierarchy.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PciError {
    /// Device or function number out of range.
    #[error("no such device/function {0}")]
    InvalidBdf(Bdf),
    /// Something is already there.
    #[error("{0} is already taken")]
    Taken(Bdf),
    /// The parent is not a bridge on bus 0.
    #[error("{0} is not a root port on bus 0")]
    NotAPort(Bdf),
}

/// A shared function.
pub type SharedFunction = Arc<Mutex<dyn PciFunction>>;

/// Told after every configuration write, once the root has recomputed its
/// BAR decoding: a BAR may have moved or decoding been switched (the VMM
/// moves its KVM ioeventfds with the notify registers).
pub trait ConfigListener: Send + Sync {
    /// A configuration write has been applied.
    fn config_written(&self);
}

/// Where a function sits: on bus 0, or on the link below a root port
/// (whose bus number is whatever the port's secondary bus register says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Location {
    /// The root port above, by its bus-0 device and function.
    port: Option<(u8, u8)>,
    device: u8,
    function: u8,
}

/// A BAR the guest has enabled, where it decodes.
struct Decoded {
    base: u64,
    size: u64,
    io: bool,
    bar: u8,
    label: Arc<str>,
    function: SharedFunction,
}

/// The functions below the root, the routing of configuration accesses
/// through root ports, and the decoding of enabled BARs.
#[derive(Default)]
pub struct PciRoot {
    functions: BTreeMap<Location, SharedFunction>,
    decoded: RwLock<Vec<Decoded>>,
    observer: Option<Arc<dyn AccessObserver>>,
    listener: Option<Arc<dyn ConfigListener>>,
}

impl fmt::Debug for PciRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PciRoot")
            .field("functions", &self.functions.keys())
            .finish_non_exhaustive()
    }
}

fn lock(function: &SharedFunction) -> MutexGuard<'_, dyn PciFunction + 'static> {
    function.lock().unwrap_or_else(|p| p.into_inner())
}

impl PciRoot {
    /// A root with no functions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `listener` after every configuration write.
    pub fn set_config_listener(&mut self, listener: Arc<dyn ConfigListener>) {
        self.listener = Some(listener);
    }

    /// Reports every configuration and BAR access to `observer`.
    pub fn set_observer(&mut self, observer: Arc<dyn AccessObserver>) {
        self.observer = Some(observer);
    }

    fn check(bdf: Bdf) -> Result<(), PciError> {
        if bdf.device >= 32 || bdf.function >= 8 {
            return Err(PciError::InvalidBdf(bdf));
        }
        Ok(())
    }

    fn insert(&mut self, at: Location, bdf: Bdf, function: SharedFunction) -> Result<(), PciError> {
        if self.functions.contains_key(&at) {
            return Err(PciError::Taken(bdf));
        }
        self.functions.insert(at, function);
        self.refresh();
        Ok(())
    }

    /// Puts `function` on bus 0 at `bdf`.
    pub fn add(&mut self, bdf: Bdf, function: SharedFunction) -> Result<(), PciError> {
        Self::check(bdf)?;
        if bdf.bus != 0 {
            return Err(PciError::InvalidBdf(bdf));
        }
        let at = Location {
            port: None,
            device: bdf.device,
            function: bdf.function,
        };
        self.insert(at, bdf, function)
    }

    /// Puts `function` as function `function_number` of device 0 on the
    /// link below the root port at bus-0 address `port` (a PCIe link has
    /// one device, number 0).
    pub fn add_below(
        &mut self,
        port: Bdf,
        function_number: u8,
        function: SharedFunction,
    ) -> Result<(), PciError> {
        let is_port = port.bus == 0
            && self
                .functions
                .get(&Location {
                    port: None,
                    device: port.device,
                    function: port.function,
                })
                .is_some_and(|f| lock(f).config().header_type() == super::HeaderType::Bridge);
        if !is_port {
            return Err(PciError::NotAPort(port));
        }
        let (secondary, _) = self.port_buses((port.device, port.function));
        let bdf = Bdf {
            bus: secondary,
            device: 0,
            function: function_number,
        };
        Self::check(bdf)?;
        let at = Location {
            port: Some((port.device, port.function)),
            device: 0,
            function: function_number,
        };
        self.insert(at, bdf, function)
    }

    fn port_buses(&self, port: (u8, u8)) -> (u8, u8) {
        self.functions
            .get(&Location {
                port: None,
                device: port.0,
                function: port.1,
            })
            .map_or((0, 0), |f| lock(f).config().bridge_buses())
    }

    /// The bus number a location currently has (a port's secondary bus).
    fn bus_of(&self, at: &Location) -> u8 {
        at.port.map_or(0, |port| self.port_buses(port).0)
    }

    fn bdf_of(&self, at: &Location) -> Bdf {
        Bdf {
            bus: self.bus_of(at),
            device: at.device,
            function: at.function,
        }
    }

    /// The function configuration accesses to `bdf` reach, routed as the
    /// root ports' bus-number registers say.
    fn route(&self, bdf: Bdf) -> Option<&SharedFunction> {
        if bdf.device >= 32 || bdf.function >= 8 {
            return None;
        }
        let port = if bdf.bus == 0 {
            None
        } else {
            let port = self.functions.iter().find_map(|(at, f)| {
                let (secondary, _) = lock(f).config().bridge_buses();
                (at.port.is_none() && secondary == bdf.bus && secondary != 0)
                    .then_some((at.device, at.function))
            })?;
            Some(port)
        };
        self.functions.get(&Location {
            port,
            device: bdf.device,
            function: bdf.function,
        })
    }

    /// Every function with its current address, in bus order.
    pub fn functions(&self) -> Vec<(Bdf, SharedFunction)> {
        let mut all: Vec<_> = self
            .functions
            .iter()
            .map(|(at, f)| (self.bdf_of(at), f.clone()))
            .collect();
        all.sort_by_key(|(bdf, _)| *bdf);
        all
    }

    fn observe(
        &self,
        label: &dyn Fn() -> String,
        space: Space,
        offset: u64,
        data: &[u8],
        direction: Direction,
    ) {
        if let Some(observer) = &self.observer {
            let label = label();
            if observer.wants(&label) {
                observer.observe(&Access {
                    device: &label,
                    space,
                    offset,
                    data,
                    direction,
                });
            }
        }
    }

    /// A configuration read; absent functions read all ones.
    pub fn config_read(&self, bdf: Bdf, offset: u64, data: &mut [u8]) {
        let Some(function) = self.route(bdf) else {
            data.fill(0xff);
            return;
        };
        let mut guard = lock(function);
        guard.read_config(offset, data);
        let name = guard.name().to_owned();
        drop(guard);
        self.observe(
            &|| format!("{bdf} {name}"),
            Space::Config,
            offset,
            data,
            Direction::Read,
        );
    }

    /// A configuration write; writes to absent functions are dropped.
    pub fn config_write(&self, bdf: Bdf, offset: u64, data: &[u8]) {
        let Some(function) = self.route(bdf) else {
            return;
        };
        let name = lock(function).name().to_owned();
        self.observe(
            &|| format!("{bdf} {name}"),
            Space::Config,
            offset,
            data,
            Direction::Write,
        );
        lock(function).write_config(offset, data);
        self.refresh();
        if let Some(listener) = &self.listener {
            listener.config_written();
        }
    }

    /// Recomputes where enabled BARs decode; called after every
    /// configuration write (the command register, a BAR or a bridge
    /// window may have changed).
    pub fn refresh(&self) {
        let mut decoded = Vec::new();
        for (at, function) in &self.functions {
            let port = at.port.and_then(|(device, function)| {
                self.functions.get(&Location {
                    port: None,
                    device,
                    function,
                })
            });
            let bdf = self.bdf_of(at);
            let guard = lock(function);
            let space = guard.config();
            for index in 0..6u8 {
                let Some(bar) = space.bar(usize::from(index)) else {
                    continue;
                };
                let Some(base) = space.bar_address(usize::from(index)).filter(|b| *b != 0) else {
                    continue;
                };
                if !space.decodes(bar.kind) {
                    continue;
                }
                let Some(last) = base.checked_add(bar.size - 1) else {
                    continue;
                };
                let forwarded = port.is_none_or(|port| {
                    let port = lock(port);
                    let window = port.config().bridge_window(bar.kind);
                    port.config().decodes(bar.kind)
                        && window.is_some_and(|(low, high)| low <= base && last <= high)
                });
                if forwarded {
                    decoded.push(Decoded {
                        base,
                        size: bar.size,
                        io: bar.kind == BarKind::Io,
                        bar: index,
                        label: format!("{bdf} {}", guard.name()).into(),
                        function: function.clone(),
                    });
                }
            }
        }
        *self.decoded.write().unwrap_or_else(|p| p.into_inner()) = decoded;
    }

    fn decode(&self, address: u64, io: bool) -> Option<(SharedFunction, u8, u64, Arc<str>)> {
        let decoded = self.decoded.read().unwrap_or_else(|p| p.into_inner());
        decoded
            .iter()
            .find(|d| d.io == io && address >= d.base && address - d.base < d.size)
            .map(|d| (d.function.clone(), d.bar, address - d.base, d.label.clone()))
    }

    /// A read of memory (`io` false) or I/O space at `address`; returns
    /// false, with all ones, when no enabled BAR decodes it.
    pub fn bar_read(&self, address: u64, io: bool, data: &mut [u8]) -> bool {
        let Some((function, bar, offset, label)) = self.decode(address, io) else {
            data.fill(0xff);
            return false;
        };
        lock(&function).read_bar(bar, offset, data);
        self.observe(
            &|| label.to_string(),
            Space::Bar(bar),
            offset,
            data,
            Direction::Read,
        );
        true
    }

    /// A write to memory or I/O space at `address`; returns false when no
    /// enabled BAR decodes it.
    pub fn bar_write(&self, address: u64, io: bool, data: &[u8]) -> bool {
        let Some((function, bar, offset, label)) = self.decode(address, io) else {
            return false;
        };
        self.observe(
            &|| label.to_string(),
            Space::Bar(bar),
            offset,
            data,
            Direction::Write,
        );
        lock(&function).write_bar(bar, offset, data);
        true
    }
}

/// A window of the address space (the PCI MMIO apertures or the I/O
/// aperture) where the root decodes BARs; put on the MMIO or PIO bus.
#[derive(Debug)]
pub struct BarWindow {
    root: Arc<PciRoot>,
    base: u64,
    io: bool,
}

impl BarWindow {
    /// The aperture starting at `base` (bus offsets are added to it).
    pub fn new(root: Arc<PciRoot>, base: u64, io: bool) -> Self {
        Self { root, base, io }
    }
}

impl BusDevice for BarWindow {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        match self.base.checked_add(offset) {
            Some(address) => {
                self.root.bar_read(address, self.io, data);
            }
            None => data.fill(0xff),
        }
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        if let Some(address) = self.base.checked_add(offset) {
            self.root.bar_write(address, self.io, data);
        }
    }
}

/// The ECAM window: `bus << 20 | device << 15 | function << 12 | register`.
#[derive(Debug)]
pub struct Ecam {
    root: Arc<PciRoot>,
}

impl Ecam {
    /// A window onto `root`.
    pub fn new(root: Arc<PciRoot>) -> Self {
        Self { root }
    }

    /// Bytes of window for buses 0..=`last_bus`.
    pub fn window_size(last_bus: u8) -> u64 {
        (u64::from(last_bus) + 1) << 20
    }

    fn decode(offset: u64) -> (Bdf, u64) {
        let bdf = Bdf {
            bus: (offset >> 20) as u8,
            device: ((offset >> 15) & 0x1f) as u8,
            function: ((offset >> 12) & 0x7) as u8,
        };
        (bdf, offset & (CONFIG_SPACE_SIZE as u64 - 1))
    }
}

impl BusDevice for Ecam {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        let (bdf, register) = Self::decode(offset);
        self.root.config_read(bdf, register, data);
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        let (bdf, register) = Self::decode(offset);
        self.root.config_write(bdf, register, data);
    }
}

/// First port of the legacy configuration mechanism (CONFIG_ADDRESS; data at +4).
pub const LEGACY_CONFIG_PORT: u64 = 0xcf8;
/// The mechanism's ports: 0xCF8..=0xCFF.
pub const LEGACY_CONFIG_PORT_LEN: u64 = 8;
const CONFIG_ADDRESS_ENABLE: u32 = 1 << 31;

/// Configuration mechanism #1: CONFIG_ADDRESS at 0xCF8, CONFIG_DATA at 0xCFC.
#[derive(Debug)]
pub struct LegacyConfig {
    root: Arc<PciRoot>,
    address: u32,
}

impl LegacyConfig {
    /// The port pair onto `root`.
    pub fn new(root: Arc<PciRoot>) -> Self {
        Self { root, address: 0 }
    }

    /// The target of a data access at byte `lane` (0..4), if enabled.
    fn target(&self, lane: u64) -> Option<(Bdf, u64)> {
        if self.address & CONFIG_ADDRESS_ENABLE == 0 {
            return None;
        }
        let bdf = Bdf {
            bus: (self.address >> 16) as u8,
            device: ((self.address >> 11) & 0x1f) as u8,
            function: ((self.address >> 8) & 0x7) as u8,
        };
        Some((bdf, u64::from(self.address & 0xfc) + lane))
    }
}

impl BusDevice for LegacyConfig {
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        match offset {
            0 if data.len() == 4 => data.copy_from_slice(&self.address.to_le_bytes()),
            4..=7 => match self.target(offset - 4) {
                Some((bdf, register)) => self.root.config_read(bdf, register, data),
                None => data.fill(0xff),
            },
            _ => data.fill(0xff),
        }
    }

    fn write(&mut self, offset: u64, data: &[u8]) {
        match offset {
            // Only a 32-bit write sets CONFIG_ADDRESS (narrower ones go to
            // other legacy registers sharing 0xCF8 on real chipsets).
            0 if data.len() == 4 => {
                let value = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
                self.address = value & 0x80ff_fffc;
            }
            4..=7 => {
                if let Some((bdf, register)) = self.target(offset - 4) {
                    self.root.config_write(bdf, register, data);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::assign::{assign_resources, Apertures};
    use super::super::bar::Bar;
    use super::super::bridge::{HostBridge, RootPort};
    use super::super::config::HeaderType;
    use super::*;

    /// An endpoint with a config space, a 16 KiB memory BAR 0 that echoes
    /// offsets, and a 64-bit prefetchable BAR 2.
    struct Echo {
        config: ConfigSpace,
        last_write: Option<(u8, u64, Vec<u8>)>,
    }

    impl Echo {
        fn new() -> Self {
            let mut config = ConfigSpace::new(0x8086, 0x0cfe, 0x08_80_00, 0, HeaderType::Endpoint);
            config
                .set_bar(
                    0,
                    Bar {
                        kind: BarKind::Memory32 {
                            prefetchable: false,
                        },
                        size: 0x4000,
                    },
                )
                .unwrap();
            config
                .set_bar(
                    2,
                    Bar {
                        kind: BarKind::Memory64 { prefetchable: true },
                        size: 1 << 21,
                    },
                )
                .unwrap();
            Self {
                config,
                last_write: None,
            }
        }
    }

    impl PciFunction for Echo {
        fn name(&self) -> &str {
            "echo"
        }
        fn config(&self) -> &ConfigSpace {
            &self.config
        }
        fn config_mut(&mut self) -> &mut ConfigSpace {
            &mut self.config
        }
        fn read_bar(&mut self, bar: u8, offset: u64, data: &mut [u8]) {
            data.fill(bar * 0x10 + offset as u8);
        }
        fn write_bar(&mut self, bar: u8, offset: u64, data: &[u8]) {
            self.last_write = Some((bar, offset, data.to_vec()));
        }
    }

    fn root_with_device() -> (Arc<PciRoot>, Arc<Mutex<Echo>>) {
        let echo = Arc::new(Mutex::new(Echo::new()));
        let mut root = PciRoot::new();
        root.add(Bdf::root(2, 0), echo.clone()).unwrap();
        (Arc::new(root), echo)
    }

    const APERTURES: Apertures = Apertures {
        mmio32: (0xc000_0000, 0x2000_0000),
        mmio64: (0x10_0000_0000, 0x10_0000_0000),
        io: (0xc000, 0x4000),
    };

    #[test]
    fn test_ecam_reaches_a_function_and_absent_ones_read_all_ones() {
        let (root, _) = root_with_device();
        let mut ecam = Ecam::new(root);
        let mut id = [0u8; 4];
        ecam.read(2 << 15, &mut id);
        assert_eq!(u32::from_le_bytes(id), 0x0cfe_8086);
        ecam.read((1 << 20) | (2 << 15), &mut id);
        assert_eq!(id, [0xff; 4], "bus 1 is empty");
        ecam.read(3 << 15, &mut id);
        assert_eq!(id, [0xff; 4], "device 3 is empty");
        assert_eq!(Ecam::window_size(0), 1 << 20);
    }

    #[test]
    fn test_ecam_writes_reach_extended_space() {
        let (root, echo) = root_with_device();
        echo.lock()
            .unwrap()
            .config
            .add_ext_capability(0x000b, 1, &[0; 8], &[0xff])
            .unwrap();
        let mut ecam = Ecam::new(root);
        ecam.write((2 << 15) | 0x104, &[0x5a]);
        let mut byte = [0u8];
        ecam.read((2 << 15) | 0x104, &mut byte);
        assert_eq!(byte, [0x5a]);
    }

    #[test]
    fn test_legacy_mechanism_reads_through_config_address() {
        let (root, _) = root_with_device();
        let mut ports = LegacyConfig::new(root);
        ports.write(0, &(CONFIG_ADDRESS_ENABLE | (2 << 11)).to_le_bytes());
        let mut word = [0u8; 2];
        ports.read(6, &mut word);
        assert_eq!(
            u16::from_le_bytes(word),
            0x0cfe,
            "device ID through byte lane 2"
        );
        let mut address = [0u8; 4];
        ports.read(0, &mut address);
        assert_eq!(
            u32::from_le_bytes(address),
            CONFIG_ADDRESS_ENABLE | (2 << 11)
        );
        ports.write(0, &0u32.to_le_bytes());
        ports.read(4, &mut address);
        assert_eq!(address, [0xff; 4], "disabled: all ones");
    }

    #[test]
    fn test_add_checks_addresses() {
        let mut root = PciRoot::new();
        let bad = Bdf::root(32, 0);
        assert_eq!(
            root.add(bad, Arc::new(Mutex::new(HostBridge::new()))),
            Err(PciError::InvalidBdf(bad))
        );
        root.add(Bdf::root(0, 0), Arc::new(Mutex::new(HostBridge::new())))
            .unwrap();
        assert_eq!(
            root.add(Bdf::root(0, 0), Arc::new(Mutex::new(HostBridge::new()))),
            Err(PciError::Taken(Bdf::root(0, 0)))
        );
        assert_eq!(
            root.add_below(Bdf::root(0, 0), 0, Arc::new(Mutex::new(Echo::new()))),
            Err(PciError::NotAPort(Bdf::root(0, 0))),
            "the host bridge has no link below it"
        );
    }

    #[test]
    fn test_bars_decode_only_when_programmed_and_enabled() {
        let (root, echo) = root_with_device();
        let bdf = Bdf::root(2, 0);
        let mut data = [0u8; 1];
        assert!(
            !root.bar_read(0xc000_0000, false, &mut data),
            "unprogrammed"
        );
        root.config_write(bdf, 0x10, &0xc000_0000u32.to_le_bytes());
        assert!(!root.bar_read(0xc000_0000, false, &mut data), "decode off");
        root.config_write(bdf, 0x04, &2u16.to_le_bytes());
        assert!(root.bar_read(0xc000_0005, false, &mut data));
        assert_eq!(data, [5]);
        assert!(root.bar_write(0xc000_3fff, false, &[9]));
        assert_eq!(echo.lock().unwrap().last_write, Some((0, 0x3fff, vec![9])));
        assert!(
            !root.bar_read(0xc000_4000, false, &mut data),
            "past the BAR"
        );
        assert!(!root.bar_read(0xc000_0000, true, &mut data), "not I/O");
        // Moving the BAR moves the decode.
        root.config_write(bdf, 0x10, &0xd000_0000u32.to_le_bytes());
        assert!(!root.bar_read(0xc000_0000, false, &mut data));
        assert!(root.bar_read(0xd000_0001, false, &mut data));
    }

    /// Host bridge, two root ports, an endpoint below the second.
    fn topology() -> (Arc<PciRoot>, Arc<Mutex<Echo>>) {
        let mut root = PciRoot::new();
        root.add(Bdf::root(0, 0), Arc::new(Mutex::new(HostBridge::new())))
            .unwrap();
        root.add(Bdf::root(1, 0), Arc::new(Mutex::new(RootPort::generic(1))))
            .unwrap();
        root.add(Bdf::root(2, 0), Arc::new(Mutex::new(RootPort::generic(2))))
            .unwrap();
        let echo = Arc::new(Mutex::new(Echo::new()));
        root.add_below(Bdf::root(2, 0), 0, echo.clone()).unwrap();
        (Arc::new(root), echo)
    }

    #[test]
    fn test_config_routes_through_root_port_bus_numbers() {
        let (root, _) = topology();
        let mut id = [0u8; 4];
        root.config_read(
            Bdf {
                bus: 2,
                device: 0,
                function: 0,
            },
            0,
            &mut id,
        );
        assert_eq!(id, [0xff; 4], "no bus numbers yet");
        root.config_write(Bdf::root(2, 0), 0x18, &[0, 5, 5]);
        root.config_read(
            Bdf {
                bus: 5,
                device: 0,
                function: 0,
            },
            0,
            &mut id,
        );
        assert_eq!(u32::from_le_bytes(id), 0x0cfe_8086);
        root.config_read(
            Bdf {
                bus: 5,
                device: 1,
                function: 0,
            },
            0,
            &mut id,
        );
        assert_eq!(id, [0xff; 4], "a link has only device 0");
        assert_eq!(
            root.functions()
                .iter()
                .map(|(b, _)| b.to_string())
                .collect::<Vec<_>>(),
            vec!["00:00.0", "00:01.0", "00:02.0", "05:00.0"]
        );
    }

    #[test]
    fn test_assignment_places_bars_inside_port_windows() {
        let (root, _) = topology();
        let assignment = assign_resources(&root, &APERTURES).unwrap();
        let child = Bdf {
            bus: 2,
            device: 0,
            function: 0,
        };
        let bar0 = assignment.bars[&(child, 0)];
        let bar2 = assignment.bars[&(child, 2)];
        assert!((0xc000_0000..0xe000_0000).contains(&bar0));
        assert!(bar2 >= 0x10_0000_0000 && bar2.is_multiple_of(1 << 21));
        // Through the port's windows, both decode.
        let mut data = [0u8; 1];
        assert!(root.bar_read(bar0 + 3, false, &mut data));
        assert_eq!(data, [3]);
        assert!(root.bar_read(bar2 + 1, false, &mut data));
        assert_eq!(data, [0x21]);
        // Closing the port's memory decode cuts the endpoint off.
        root.config_write(Bdf::root(2, 0), 0x04, &0u16.to_le_bytes());
        assert!(!root.bar_read(bar0, false, &mut data));
        // The empty port's windows are closed.
        let mut window = [0u8; 4];
        root.config_read(Bdf::root(1, 0), 0x20, &mut window);
        assert_eq!(u32::from_le_bytes(window), 0x0000_fff0);
    }

    #[test]
    fn test_assignment_reports_exhaustion() {
        let (root, _) = topology();
        let tiny = Apertures {
            mmio32: (0xc000_0000, 0x1000),
            ..APERTURES
        };
        assert!(matches!(
            assign_resources(&root, &tiny),
            Err(super::super::assign::AssignError::Exhausted { .. })
        ));
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl AccessObserver for Recorder {
        fn wants(&self, device: &str) -> bool {
            device.contains("echo")
        }
        fn observe(&self, a: &Access<'_>) {
            self.0.lock().unwrap().push(format!(
                "{} {:?} {:?} {:#x} {:?}",
                a.device, a.space, a.direction, a.offset, a.data
            ));
        }
    }

    #[test]
    fn test_observer_sees_config_and_bar_accesses_of_wanted_devices() {
        let recorder = Arc::new(Recorder::default());
        let mut root = PciRoot::new();
        root.set_observer(recorder.clone());
        root.add(Bdf::root(0, 0), Arc::new(Mutex::new(HostBridge::new())))
            .unwrap();
        root.add(Bdf::root(2, 0), Arc::new(Mutex::new(Echo::new())))
            .unwrap();
        let bdf = Bdf::root(2, 0);
        root.config_write(bdf, 0x10, &0xc000_0000u32.to_le_bytes());
        root.config_write(bdf, 0x04, &[2]);
        let mut byte = [0u8];
        root.bar_read(0xc000_0007, false, &mut byte);
        root.config_read(Bdf::root(0, 0), 0, &mut [0u8; 4]);
        assert_eq!(
            *recorder.0.lock().unwrap(),
            vec![
                "00:02.0 echo Config Write 0x10 [0, 0, 0, 192]",
                "00:02.0 echo Config Write 0x4 [2]",
                "00:02.0 echo Bar(0) Read 0x7 [7]",
            ]
        );
    }

    #[test]
    fn test_garbage_accesses_never_panic() {
        let (root, _) = topology();
        let _ = assign_resources(&root, &APERTURES);
        let mut ecam = Ecam::new(root.clone());
        let mut ports = LegacyConfig::new(root.clone());
        for offset in [0u64, 3, 0xfff, 0x1000, u64::MAX - 3, 0x0fff_ffff] {
            ecam.write(offset, &[0xff; 8]);
            ecam.read(offset, &mut [0u8; 8]);
        }
        // Every byte of every function's configuration space, all ones.
        for bus in 0..4u64 {
            for offset in (0..0x1000u64).step_by(1) {
                ecam.write((bus << 20) | (2 << 15) | offset, &[0xff]);
                ecam.write((bus << 20) | (1 << 15) | offset, &[0xa5]);
            }
        }
        for offset in 0..10u64 {
            ports.write(offset, &[0xff; 3]);
            ports.write(offset, &[0xff; 4]);
            ports.read(offset, &mut [0u8; 4]);
        }
        let mut window = BarWindow::new(root, u64::MAX - 1, false);
        window.read(4, &mut [0u8; 4]);
        window.write(4, &[0u8; 4]);
    }
}
