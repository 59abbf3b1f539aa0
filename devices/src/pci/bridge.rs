//! The root complex's own functions: the host bridge at 00:00.0 and the
//! PCI Express root ports (type 1 headers) that endpoints sit below.

use super::caps::{
    pcie_capability, power_management_capability, PciePortType, PCIE_CAP_ID, PM_CAP_ID,
};
use super::{ConfigSpace, HeaderType, PciFunction};

/// Red Hat's vendor ID for virtual hardware; Linux binds these generic
/// IDs with no quirks.
pub const VIRTUAL_VENDOR_ID: u16 = 0x1b36;
/// Device ID of our host bridge (the generic PCIe host bridge's).
pub const HOST_BRIDGE_DEVICE_ID: u16 = 0x0008;
/// Device ID of our root ports (the generic PCIe root port's).
pub const ROOT_PORT_DEVICE_ID: u16 = 0x000c;
/// Class code: bridge, host bridge.
const CLASS_HOST_BRIDGE: u32 = 0x06_00_00;
/// Class code: bridge, PCI-to-PCI, normal decode.
const CLASS_PCI_BRIDGE: u32 = 0x06_04_00;

/// The host bridge: a configuration space and nothing else.
#[derive(Debug)]
pub struct HostBridge {
    config: ConfigSpace,
}

impl HostBridge {
    /// The host bridge.
    pub fn new() -> Self {
        Self {
            config: ConfigSpace::new(
                VIRTUAL_VENDOR_ID,
                HOST_BRIDGE_DEVICE_ID,
                CLASS_HOST_BRIDGE,
                0,
                HeaderType::Endpoint,
            ),
        }
    }
}

impl Default for HostBridge {
    fn default() -> Self {
        Self::new()
    }
}

impl PciFunction for HostBridge {
    fn name(&self) -> &str {
        "host-bridge"
    }
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }
}

/// A PCI Express root port: a type 1 header whose bus numbers and windows
/// route configuration and memory accesses to the link below it.
#[derive(Debug)]
pub struct RootPort {
    config: ConfigSpace,
    /// Offset of the PCI Express capability.
    pcie_cap: usize,
}

impl RootPort {
    /// Root port number `port` (the link capabilities' port number), with
    /// these IDs (a DesignWare-based port carries its vendor's).
    pub fn new(vendor: u16, device: u16, port: u8) -> Self {
        let mut config = ConfigSpace::new(vendor, device, CLASS_PCI_BRIDGE, 0, HeaderType::Bridge);
        let (body, mask) = pcie_capability(PciePortType::RootPort, port);
        let pcie_cap = config
            .add_capability(PCIE_CAP_ID, &body, &mask)
            .unwrap_or_default();
        let (body, mask) = power_management_capability();
        // The list has room for both by construction; a failure would
        // only drop the PM capability.
        let _ = config.add_capability(PM_CAP_ID, &body, &mask);
        Self { config, pcie_cap }
    }

    /// A generic root port (number `port`) with our virtual IDs.
    pub fn generic(port: u8) -> Self {
        Self::new(VIRTUAL_VENDOR_ID, ROOT_PORT_DEVICE_ID, port)
    }

    /// Offset of the PCI Express capability in configuration space.
    pub fn pcie_capability_offset(&self) -> usize {
        self.pcie_cap
    }
}

impl PciFunction for RootPort {
    fn name(&self) -> &str {
        "root-port"
    }
    fn config(&self) -> &ConfigSpace {
        &self.config
    }
    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }
}
