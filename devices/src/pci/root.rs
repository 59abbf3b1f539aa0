//! The root complex's configuration access: functions addressed by
//! bus/device/function, reached through the ECAM window (PCIe enhanced
//! configuration access: 4 KiB per function) or the legacy 0xCF8/0xCFC
//! port pair (256 bytes per function). An absent function reads all ones,
//! which is how software finds nothing there.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use thiserror::Error;

use super::config::{ConfigSpace, CONFIG_SPACE_SIZE};
use crate::BusDevice;

/// A function on the root's buses: its configuration space accesses.
pub trait PciFunction: Send {
    /// A configuration read at `offset` (0..4096).
    fn read_config(&mut self, offset: u64, data: &mut [u8]);
    /// A configuration write at `offset` (0..4096).
    fn write_config(&mut self, offset: u64, data: &[u8]);
}

impl PciFunction for ConfigSpace {
    fn read_config(&mut self, offset: u64, data: &mut [u8]) {
        self.read(offset, data);
    }
    fn write_config(&mut self, offset: u64, data: &[u8]) {
        self.write(offset, data);
    }
}

/// Bus, device (0..32), function (0..8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bdf {
    /// Bus number.
    pub bus: u8,
    /// Device number, 0 to 31.
    pub device: u8,
    /// Function number, 0 to 7.
    pub function: u8,
}

/// Errors building the hierarchy.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PciError {
    /// Device or function number out of range.
    #[error("no such device/function {0:?}")]
    InvalidBdf(Bdf),
    /// Something is already there.
    #[error("{0:?} is already taken")]
    Taken(Bdf),
}

/// A shared function.
pub type SharedFunction = Arc<Mutex<dyn PciFunction>>;

/// The functions below the root, by address.
#[derive(Default)]
pub struct PciRoot {
    functions: BTreeMap<Bdf, SharedFunction>,
}

impl std::fmt::Debug for PciRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PciRoot")
            .field("functions", &self.functions.keys())
            .finish()
    }
}

impl PciRoot {
    /// A root with no functions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `function` at `bdf`.
    pub fn add(&mut self, bdf: Bdf, function: SharedFunction) -> Result<(), PciError> {
        if bdf.device >= 32 || bdf.function >= 8 {
            return Err(PciError::InvalidBdf(bdf));
        }
        if self.functions.contains_key(&bdf) {
            return Err(PciError::Taken(bdf));
        }
        self.functions.insert(bdf, function);
        Ok(())
    }

    fn with<R>(&self, bdf: Bdf, f: impl FnOnce(&mut dyn PciFunction) -> R) -> Option<R> {
        let function = self.functions.get(&bdf)?;
        let mut guard = function.lock().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut *guard))
    }

    /// A configuration read; absent functions read all ones.
    pub fn config_read(&self, bdf: Bdf, offset: u64, data: &mut [u8]) {
        if self.with(bdf, |f| f.read_config(offset, data)).is_none() {
            data.fill(0xff);
        }
    }

    /// A configuration write; writes to absent functions are dropped.
    pub fn config_write(&self, bdf: Bdf, offset: u64, data: &[u8]) {
        self.with(bdf, |f| f.write_config(offset, data));
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
    use super::super::config::HeaderType;
    use super::*;

    fn root_with_device() -> (Arc<PciRoot>, Arc<Mutex<ConfigSpace>>) {
        let space = Arc::new(Mutex::new(ConfigSpace::new(
            0x8086,
            0x0cfe,
            0x08_80_00,
            0,
            HeaderType::Endpoint,
        )));
        let mut root = PciRoot::new();
        root.add(
            Bdf {
                bus: 0,
                device: 2,
                function: 0,
            },
            space.clone(),
        )
        .unwrap();
        (Arc::new(root), space)
    }

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
        let (root, space) = root_with_device();
        space
            .lock()
            .unwrap()
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
        let space: SharedFunction = Arc::new(Mutex::new(ConfigSpace::new(
            1,
            2,
            0,
            0,
            HeaderType::Endpoint,
        )));
        let bdf = Bdf {
            bus: 0,
            device: 32,
            function: 0,
        };
        assert_eq!(root.add(bdf, space.clone()), Err(PciError::InvalidBdf(bdf)));
        let ok = Bdf {
            bus: 0,
            device: 1,
            function: 0,
        };
        root.add(ok, space.clone()).unwrap();
        assert_eq!(root.add(ok, space), Err(PciError::Taken(ok)));
    }

    #[test]
    fn test_garbage_accesses_never_panic() {
        let (root, _) = root_with_device();
        let mut ecam = Ecam::new(root.clone());
        let mut ports = LegacyConfig::new(root);
        for offset in [0u64, 3, 0xfff, 0x1000, u64::MAX - 3, 0x0fff_ffff] {
            ecam.write(offset, &[0xff; 8]);
            ecam.read(offset, &mut [0u8; 8]);
        }
        for offset in 0..10u64 {
            ports.write(offset, &[0xff; 3]);
            ports.write(offset, &[0xff; 4]);
            ports.read(offset, &mut [0u8; 4]);
        }
    }
}
