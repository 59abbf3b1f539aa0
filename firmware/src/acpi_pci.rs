//! The PCI Express host bridge as ACPI describes it: the MCFG table (where
//! the ECAM window is), `\_SB.PCI0` (a PNP0A08 root bridge with `_CRS`
//! windows for bus numbers, I/O, 32-bit and 64-bit memory, and an `_OSC`
//! that grants the OS every PCIe feature it asks for), and a PNP0C02
//! motherboard-resources device reserving the ECAM window, which is where
//! Linux looks before it trusts MCFG.

use acpi_tables::aml::{
    AddressSpace, AddressSpaceCacheable, Arg, Device, EISAName, Memory32Fixed, Method, Name, Path,
    ResourceTemplate, Return, IO,
};
use acpi_tables::mcfg::MCFG;
use acpi_tables::Aml;

use super::acpi::{OEM_ID, OEM_REVISION, OEM_TABLE_ID};

/// What the host bridge decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PciHost {
    /// Base of the ECAM window (1 MiB per bus from bus 0).
    pub ecam_base: u64,
    /// Last bus number the window covers.
    pub last_bus: u8,
    /// 32-bit memory aperture: (base, size).
    pub mmio32: (u64, u64),
    /// 64-bit memory aperture: (base, size).
    pub mmio64: (u64, u64),
}

impl PciHost {
    fn ecam_size(&self) -> u64 {
        (u64::from(self.last_bus) + 1) << 20
    }
}

/// The MCFG table: one ECAM entry for segment 0.
pub fn mcfg(host: &PciHost) -> Vec<u8> {
    let mut table = MCFG::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION);
    table.add_ecam(host.ecam_base, 0, 0, host.last_bus);
    let mut bytes = Vec::new();
    table.to_aml_bytes(&mut bytes);
    bytes
}

/// `Device (\_SB.PCI0)` and `Device (\_SB.MRES)`.
pub fn pci_devices(host: &PciHost) -> Vec<u8> {
    let mut bytes = Vec::new();
    let bus_numbers = AddressSpace::<u16>::new_bus_number(0, u16::from(host.last_bus));
    // The configuration mechanism's ports, then all other I/O ports
    // (legacy devices included, as on real chipsets).
    let config_ports = IO::new(0xcf8, 0xcf8, 1, 8);
    let io_low = AddressSpace::<u16>::new_io(0x0000, 0x0cf7, None);
    let io_high = AddressSpace::<u16>::new_io(0x0d00, 0xffff, None);
    let (base32, size32) = host.mmio32;
    let mmio32 = AddressSpace::<u32>::new_memory(
        AddressSpaceCacheable::NotCacheable,
        true,
        base32 as u32,
        (base32 + size32 - 1) as u32,
        None,
    );
    let (base64, size64) = host.mmio64;
    let mmio64 = AddressSpace::<u64>::new_memory(
        AddressSpaceCacheable::PreFetchable,
        true,
        base64,
        base64 + size64 - 1,
        None,
    );
    let crs = ResourceTemplate::new(vec![
        &bus_numbers,
        &config_ports,
        &io_low,
        &io_high,
        &mmio32,
        &mmio64,
    ]);
    let hid = EISAName::new("PNP0A08");
    let cid = EISAName::new("PNP0A03");
    // _OSC(UUID, revision, count, capabilities): returning the buffer as
    // given grants every requested control and reports no error.
    let osc_return = Return::new(&Arg(3));
    let osc = Method::new(Path::new("_OSC"), 4, false, vec![&osc_return]);
    Device::new(
        Path::new("_SB_.PCI0"),
        vec![
            &Name::new(Path::new("_HID"), &hid),
            &Name::new(Path::new("_CID"), &cid),
            &Name::new(Path::new("_ADR"), &0u8),
            &Name::new(Path::new("_SEG"), &0u8),
            &Name::new(Path::new("_UID"), &0u8),
            &Name::new(Path::new("_BBN"), &0u8),
            &Name::new(Path::new("_CRS"), &crs),
            &osc,
        ],
    )
    .to_aml_bytes(&mut bytes);

    let ecam = Memory32Fixed::new(false, host.ecam_base as u32, host.ecam_size() as u32);
    let reserved = ResourceTemplate::new(vec![&ecam]);
    let motherboard = EISAName::new("PNP0C02");
    Device::new(
        Path::new("_SB_.MRES"),
        vec![
            &Name::new(Path::new("_HID"), &motherboard),
            &Name::new(Path::new("_UID"), &0u8),
            &Name::new(Path::new("_CRS"), &reserved),
        ],
    )
    .to_aml_bytes(&mut bytes);
    bytes
}
