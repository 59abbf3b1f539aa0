//! The PCI Express host bridge as ACPI describes it: the MCFG table (where
//! the ECAM window is), `\_SB.PCI0` (a PNP0A08 root bridge with `_CRS`
//! windows for bus numbers, I/O, 32-bit and 64-bit memory, and an `_OSC`
//! that grants the OS every PCIe feature it asks for), and a PNP0C02
//! motherboard-resources device reserving the ECAM window, which is where
//! Linux looks before it trusts MCFG. `_PRT` routes every bus-0 slot's INTx
//! pins to IOAPIC inputs 16-23 (level-triggered, active low, as PCI
//! interrupts are); a device below a root port reaches its port's entry
//! through the standard swizzle, which for device 0 keeps the pin.

use acpi_tables::aml::{
    AddressSpace, AddressSpaceCacheable, Arg, Device, EISAName, Memory32Fixed, Method, Name,
    Package, Path, ResourceTemplate, Return, IO,
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

/// First IOAPIC input PCI INTx pins are routed to.
pub const PCI_INTX_FIRST_GSI: u32 = 16;
/// IOAPIC inputs PCI INTx pins share (16-23).
pub const PCI_INTX_GSIS: u32 = 8;

/// The GSI that bus 0's device `slot` drives with `pin` (0 = INTA# to
/// 3 = INTD#), as `_PRT` routes it: spread over the eight inputs so
/// neighbouring slots rarely share.
pub fn pci_intx_gsi(slot: u8, pin: u8) -> u32 {
    PCI_INTX_FIRST_GSI + (u32::from(slot) + u32::from(pin & 3)) % PCI_INTX_GSIS
}

/// `Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, 0, gsi }, ... })`
/// for slots 1-31, every pin.
fn routing_table() -> Vec<u8> {
    let entries: Vec<[u32; 4]> = (1u8..32)
        .flat_map(|slot| {
            (0u8..4).map(move |pin| {
                [
                    (u32::from(slot) << 16) | 0xffff,
                    u32::from(pin),
                    0,
                    pci_intx_gsi(slot, pin),
                ]
            })
        })
        .collect();
    let packages: Vec<Package> = entries
        .iter()
        .map(|entry| Package::new(entry.iter().map(|v| v as &dyn Aml).collect()))
        .collect();
    let table = Package::new(packages.iter().map(|p| p as &dyn Aml).collect());
    let mut bytes = Vec::new();
    Name::new(Path::new("_PRT"), &table).to_aml_bytes(&mut bytes);
    bytes
}

/// Raw AML bytes as a term inside another object.
struct RawAml(Vec<u8>);

impl Aml for RawAml {
    fn to_aml_bytes(&self, sink: &mut dyn acpi_tables::AmlSink) {
        sink.vec(&self.0);
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
    let prt = RawAml(routing_table());
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
            &prt,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_intx_gsis_stay_in_16_to_23_and_spread_by_slot() {
        assert_eq!(pci_intx_gsi(1, 0), 17);
        assert_eq!(pci_intx_gsi(1, 3), 20);
        assert_eq!(pci_intx_gsi(7, 1), 16);
        assert!((0..32u8).all(|s| (0..4u8).all(|p| (16..24).contains(&pci_intx_gsi(s, p)))));
    }

    #[test]
    fn test_prt_lists_every_slot_and_pin() {
        let prt = routing_table();
        assert_eq!(&prt[..5], b"\x08_PRT");
        // Slot 1 INTA: Package (4) { DWord 0x0001ffff, Zero, Zero, Byte 17 }.
        let first = [
            0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00, 0x0a, 17,
        ];
        assert!(prt.windows(first.len()).any(|w| w == first));
        // Slot 31 INTD: pin 3, GSI 16 + (31 + 3) % 8 = 18.
        let last = [0x0c, 0xff, 0xff, 0x1f, 0x00, 0x0a, 0x03, 0x00, 0x0a, 18];
        assert!(prt.windows(last.len()).any(|w| w == last));
    }
}
