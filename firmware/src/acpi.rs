//! ACPI tables (RSDP, XSDT, FADT, DSDT, MADT) built with rust-vmm's
//! acpi_tables crate and placed in the reserved BIOS area, where both the
//! PVH start info's `rsdp_paddr` and a legacy RSDP scan find them.

use acpi_tables::aml::{Device, EISAName, Interrupt, Name, Package, Path, ResourceTemplate, IO};
use acpi_tables::fadt::{FADTBuilder, Flags};
use acpi_tables::gas::{AccessSize, AddressSpace, GAS};
use acpi_tables::madt::{
    EnabledStatus, IoApic, LocalInterruptController, ProcessorLocalApic, MADT,
};
use acpi_tables::rsdp::Rsdp;
use acpi_tables::sdt::Sdt;
use acpi_tables::xsdt::XSDT;
use acpi_tables::Aml;
use thiserror::Error;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend};

use crate::acpi_pci::{mcfg, pci_devices};
pub use crate::acpi_pci::{pci_intx_gsi, PciHost};
use crate::layout::{ACPI_TABLES_END, ACPI_TABLES_START, IOAPIC_ADDR, LAPIC_ADDR};

pub(crate) const OEM_ID: [u8; 6] = *b"RVMMKV";
pub(crate) const OEM_TABLE_ID: [u8; 8] = *b"RVMMTBL ";
pub(crate) const OEM_REVISION: u32 = 1;
/// ACPI 6.x DSDT revision.
const DSDT_REVISION: u8 = 6;
/// The IOAPIC's ID: 0, as KVM's in-kernel IOAPIC reports.
const IOAPIC_ID: u8 = 0;

/// Errors placing the tables.
#[derive(Debug, Error)]
pub enum AcpiError {
    /// The tables do not fit the reserved BIOS area.
    #[error("ACPI tables need {0} bytes, more than the reserved area holds")]
    TooLarge(u64),
    /// Guest memory rejected a write.
    #[error("cannot write ACPI tables: {0}")]
    Write(#[from] vm_memory::GuestMemoryError),
}

/// The platform's power-management registers, as the FADT and DSDT describe them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerManagement {
    /// I/O port of the sleep control register.
    pub sleep_control_port: u16,
    /// I/O port of the sleep status register.
    pub sleep_status_port: u16,
    /// I/O port of the reset register.
    pub reset_port: u16,
    /// The value that resets the machine when written to the reset register.
    pub reset_value: u8,
    /// SLP_TYP for soft-off, published as `_S5`.
    pub s5_sleep_type: u8,
}

/// A legacy 16550 the DSDT describes, so a hardware-reduced ACPI OS (which
/// has no legacy PIC and so no fixed ISA interrupts) finds its interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialPort {
    /// First I/O port (8 ports).
    pub base: u16,
    /// Its interrupt (GSI), edge-triggered, active high.
    pub gsi: u32,
}

/// What the tables describe besides the CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcpiPlatform {
    /// Number of vCPUs (one local APIC each).
    pub cpus: u8,
    /// The power-management registers.
    pub pm: PowerManagement,
    /// The console UART.
    pub serial: SerialPort,
    /// The PCI Express host bridge.
    pub pci: PciHost,
}

fn io_register(port: u16) -> GAS {
    GAS::new(
        AddressSpace::SystemIo,
        8,
        0,
        AccessSize::ByteAccess,
        u64::from(port),
    )
}

/// `Device (\_SB.COM1)`: a PNP0501 UART with its ports and interrupt.
fn serial_device(serial: &SerialPort) -> Vec<u8> {
    let mut bytes = Vec::new();
    let hid = EISAName::new("PNP0501");
    let io = IO::new(serial.base, serial.base, 1, 8);
    let irq = Interrupt::new(true, true, false, false, serial.gsi);
    let crs = ResourceTemplate::new(vec![&io, &irq]);
    Device::new(
        Path::new("_SB_.COM1"),
        vec![
            &Name::new(Path::new("_HID"), &hid),
            &Name::new(Path::new("_UID"), &0u8),
            &Name::new(Path::new("_CRS"), &crs),
        ],
    )
    .to_aml_bytes(&mut bytes);
    bytes
}

/// The DSDT: `Name (_S5, Package () { S5, 0, 0, 0 })`, which tells the OS
/// that soft-off exists and which SLP_TYP selects it, the console UART and
/// the PCI host bridge.
fn dsdt(pm: &PowerManagement, serial: &SerialPort, pci: &PciHost) -> Vec<u8> {
    let mut body = Vec::new();
    let s5 = [pm.s5_sleep_type, 0, 0, 0];
    Name::new(
        Path::new("_S5_"),
        &Package::new(s5.iter().map(|b| b as &dyn Aml).collect()),
    )
    .to_aml_bytes(&mut body);
    body.extend_from_slice(&serial_device(serial));
    body.extend_from_slice(&pci_devices(pci));
    let mut table = Sdt::new(
        *b"DSDT",
        36,
        DSDT_REVISION,
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
    );
    table.append_slice(&body);
    table.as_slice().to_vec()
}

/// The FADT of a hardware-reduced platform with sleep and reset registers.
fn fadt(pm: &PowerManagement, dsdt_addr: u64) -> Vec<u8> {
    let mut builder = FADTBuilder::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION)
        .flag(Flags::HwReducedAcpi)
        .flag(Flags::ResetRegSup)
        .dsdt_64(dsdt_addr);
    builder.sleep_control_reg = io_register(pm.sleep_control_port);
    builder.sleep_status_reg = io_register(pm.sleep_status_port);
    builder.reset_reg = io_register(pm.reset_port);
    builder.reset_value = pm.reset_value;
    bytes_of(&builder.finalize())
}

fn bytes_of(table: &dyn Aml) -> Vec<u8> {
    let mut bytes = Vec::new();
    table.to_aml_bytes(&mut bytes);
    bytes
}

/// The MADT: one enabled local APIC per vCPU (APIC ID = vCPU index) and the IOAPIC.
fn madt(cpus: u8) -> MADT {
    let mut madt = MADT::new(
        OEM_ID,
        OEM_TABLE_ID,
        OEM_REVISION,
        LocalInterruptController::Address(LAPIC_ADDR as u32),
    );
    for id in 0..cpus {
        madt.add_structure(ProcessorLocalApic::new(id, id, EnabledStatus::Enabled));
    }
    madt.add_structure(IoApic::new(IOAPIC_ID, IOAPIC_ADDR as u32, 0));
    madt
}

/// Appends tables one after another, 16-byte aligned, from `ACPI_TABLES_START`.
struct Placer {
    next: u64,
    blobs: Vec<(u64, Vec<u8>)>,
}

impl Placer {
    fn place(&mut self, bytes: Vec<u8>) -> u64 {
        let addr = self.next;
        self.next = (addr + bytes.len() as u64).next_multiple_of(16);
        self.blobs.push((addr, bytes));
        addr
    }
}

/// Writes the tables describing `platform`; returns the RSDP's address.
pub fn write_acpi_tables<M: GuestMemoryBackend>(
    mem: &M,
    platform: &AcpiPlatform,
) -> Result<GuestAddress, AcpiError> {
    let (cpus, pm) = (platform.cpus, &platform.pm);
    // The RSDP goes first, 16-byte aligned at the start of the BIOS area.
    let mut placer = Placer {
        next: ACPI_TABLES_START + 48,
        blobs: Vec::new(),
    };
    let dsdt_addr = placer.place(dsdt(pm, &platform.serial, &platform.pci));
    let fadt_addr = placer.place(fadt(pm, dsdt_addr));
    let madt_addr = placer.place(bytes_of(&madt(cpus)));
    let mut xsdt = XSDT::new(OEM_ID, OEM_TABLE_ID, OEM_REVISION);
    xsdt.add_entry(fadt_addr);
    xsdt.add_entry(madt_addr);
    xsdt.add_entry(placer.place(mcfg(&platform.pci)));
    let xsdt_addr = placer.place(bytes_of(&xsdt));
    if placer.next > ACPI_TABLES_END {
        return Err(AcpiError::TooLarge(placer.next - ACPI_TABLES_START));
    }

    let rsdp = GuestAddress(ACPI_TABLES_START);
    mem.write_slice(&bytes_of(&Rsdp::new(OEM_ID, xsdt_addr)), rsdp)?;
    for (addr, bytes) in &placer.blobs {
        mem.write_slice(bytes, GuestAddress(*addr))?;
    }
    Ok(rsdp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::GuestMemoryMmap;

    const PM: PowerManagement = PowerManagement {
        sleep_control_port: 0x3c0,
        sleep_status_port: 0x3c1,
        reset_port: 0x3c2,
        reset_value: 1,
        s5_sleep_type: 5,
    };
    const COM1: SerialPort = SerialPort {
        base: 0x3f8,
        gsi: 4,
    };

    const PCI: PciHost = PciHost {
        ecam_base: 0xe000_0000,
        last_bus: 0xff,
        mmio32: (0xc000_0000, 0x2000_0000),
        mmio64: (0x1_0000_0000, 0x4_0000_0000),
    };

    fn platform(cpus: u8) -> AcpiPlatform {
        AcpiPlatform {
            cpus,
            pm: PM,
            serial: COM1,
            pci: PCI,
        }
    }

    #[test]
    fn test_acpi_mcfg_points_at_the_ecam_window() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 2 << 20)]).unwrap();
        let rsdp = write_acpi_tables(&mem, &platform(1)).unwrap();
        let mcfg = find_table(&mem, rsdp, b"MCFG");
        // Header (36), reserved (8), then base, segment, start bus, end bus.
        assert_eq!(mcfg.len(), 44 + 16);
        assert_eq!(u64_at(&mcfg, 44), 0xe000_0000);
        assert_eq!((mcfg[52], mcfg[53], mcfg[54], mcfg[55]), (0, 0, 0, 0xff));
    }

    #[test]
    fn test_acpi_dsdt_describes_the_pci_host_bridge() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 2 << 20)]).unwrap();
        let rsdp = write_acpi_tables(&mem, &platform(1)).unwrap();
        let fadt = find_table(&mem, rsdp, b"FACP");
        let dsdt_addr = u64_at(&fadt, 140);
        let len = u32_at(&read(&mem, dsdt_addr, 8), 4) as usize;
        let dsdt = read(&mem, dsdt_addr, len);
        let find = |needle: &[u8]| dsdt.windows(needle.len()).any(|w| w == needle);
        assert!(find(b"_SB_PCI0") && find(b"_SB_MRES"));
        assert!(find(&[0x0c, 0x41, 0xd0, 0x0a, 0x08]), "EISAID PNP0A08");
        assert!(find(&[0x0c, 0x41, 0xd0, 0x0c, 0x02]), "EISAID PNP0C02");
        // WordBusNumber 0-255.
        assert!(find(&[
            0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0xff, 0
        ]));
        // DWordMemory 0xc0000000-0xdfffffff, length 0x20000000.
        let mut dword = vec![0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0];
        dword.extend_from_slice(&0xc000_0000u32.to_le_bytes());
        dword.extend_from_slice(&0xdfff_ffffu32.to_le_bytes());
        assert!(find(&dword));
        // QWordMemory from 4 GiB, prefetchable.
        let mut qword = vec![0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x07];
        qword.extend_from_slice(&[0; 8]);
        qword.extend_from_slice(&0x1_0000_0000u64.to_le_bytes());
        assert!(find(&qword));
        // Memory32Fixed: the ECAM window, 256 MiB.
        let mut ecam = vec![0x86, 0x09, 0x00, 0x00];
        ecam.extend_from_slice(&0xe000_0000u32.to_le_bytes());
        ecam.extend_from_slice(&0x1000_0000u32.to_le_bytes());
        assert!(find(&ecam));
        // Method (_OSC, 4) { Return (Arg3) }
        assert!(find(&[
            0x14, 0x08, b'_', b'O', b'S', b'C', 0x04, 0xa4, 0x6b
        ]));
    }

    fn checksum_ok(bytes: &[u8]) -> bool {
        bytes.iter().fold(0u8, |a, b| a.wrapping_add(*b)) == 0
    }

    fn read(mem: &GuestMemoryMmap<()>, addr: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        mem.read_slice(&mut v, GuestAddress(addr)).unwrap();
        v
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    /// Walks RSDP -> XSDT -> tables, checking every checksum; returns the
    /// table with `signature`.
    fn find_table(mem: &GuestMemoryMmap<()>, rsdp: GuestAddress, signature: &[u8]) -> Vec<u8> {
        let r = read(mem, rsdp.0, 36);
        assert_eq!(&r[..8], b"RSD PTR ");
        assert!(checksum_ok(&r[..20]) && checksum_ok(&r));
        let xsdt_addr = u64_at(&r, 24);
        let xsdt = read(mem, xsdt_addr, u32_at(&read(mem, xsdt_addr, 8), 4) as usize);
        assert_eq!(&xsdt[..4], b"XSDT");
        assert!(checksum_ok(&xsdt));
        let mut found = None;
        for entry in xsdt[36..].chunks(8) {
            let addr = u64_at(entry, 0);
            let len = u32_at(&read(mem, addr, 8), 4) as usize;
            let table = read(mem, addr, len);
            assert!(checksum_ok(&table), "{:?}", &table[..4]);
            if &table[..4] == b"FACP" {
                let dsdt_addr = u64_at(&table, 140);
                let dsdt_len = u32_at(&read(mem, dsdt_addr, 8), 4) as usize;
                let dsdt = read(mem, dsdt_addr, dsdt_len);
                assert_eq!(&dsdt[..4], b"DSDT");
                assert!(checksum_ok(&dsdt));
            }
            if &table[..4] == signature {
                found = Some(table);
            }
        }
        found.expect("XSDT lists the table")
    }

    #[test]
    fn test_acpi_madt_lists_one_lapic_per_cpu_and_the_ioapic() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 2 << 20)]).unwrap();
        let rsdp = write_acpi_tables(&mem, &platform(3)).unwrap();
        let madt = find_table(&mem, rsdp, b"APIC");
        assert_eq!(u32_at(&madt, 36), LAPIC_ADDR as u32);
        let mut at = 44;
        let (mut lapic_ids, mut ioapics) = (Vec::new(), 0);
        while at + 2 <= madt.len() {
            let (kind, len) = (madt[at], madt[at + 1] as usize);
            match kind {
                0 => {
                    assert_eq!(u32_at(&madt, at + 4) & 1, 1, "enabled");
                    lapic_ids.push(madt[at + 3]);
                }
                1 => {
                    assert_eq!(u32_at(&madt, at + 4), IOAPIC_ADDR as u32);
                    ioapics += 1;
                }
                _ => panic!("unexpected MADT entry {kind}"),
            }
            at += len;
        }
        assert_eq!((lapic_ids, ioapics), (vec![0, 1, 2], 1));
    }

    #[test]
    fn test_acpi_fadt_is_hardware_reduced() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 2 << 20)]).unwrap();
        let rsdp = write_acpi_tables(&mem, &platform(1)).unwrap();
        let fadt = find_table(&mem, rsdp, b"FACP");
        assert_ne!(u32_at(&fadt, 112) & (1 << 20), 0, "HW_REDUCED_ACPI flag");
        assert_ne!(u32_at(&fadt, 112) & (1 << 10), 0, "RESET_REG_SUP flag");
        // RESET_REG (GAS at 116) and RESET_VALUE (128).
        assert_eq!((fadt[116], u64_at(&fadt, 120), fadt[128]), (1, 0x3c2, 1));
        // SLEEP_CONTROL_REG (GAS at 244) and SLEEP_STATUS_REG (256): I/O ports.
        assert_eq!((fadt[244], u64_at(&fadt, 248)), (1, 0x3c0));
        assert_eq!((fadt[256], u64_at(&fadt, 260)), (1, 0x3c1));
    }

    #[test]
    fn test_acpi_dsdt_names_s5_with_the_sleep_type() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 2 << 20)]).unwrap();
        let rsdp = write_acpi_tables(&mem, &platform(1)).unwrap();
        let fadt = find_table(&mem, rsdp, b"FACP");
        let dsdt_addr = u64_at(&fadt, 140);
        let len = u32_at(&read(&mem, dsdt_addr, 8), 4) as usize;
        let dsdt = read(&mem, dsdt_addr, len);
        assert!(checksum_ok(&dsdt));
        // NameOp "_S5_" PackageOp PkgLength NumElements=4, BytePrefix 5, Zero x3
        assert_eq!(
            &dsdt[36..49],
            &[0x08, b'_', b'S', b'5', b'_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0, 0, 0]
        );
        // Then Device (\_SB.COM1) with _HID PNP0501 and _CRS: I/O 0x3f8, 8 ports; IRQ 4.
        let com1 = &dsdt[49..];
        assert_eq!(&com1[..2], &[0x5b, 0x82], "ExtOpPrefix DeviceOp");
        let find = |needle: &[u8]| com1.windows(needle.len()).any(|w| w == needle);
        assert!(find(b"_SB_COM1"));
        assert!(find(&[0x0c, 0x41, 0xd0, 0x05, 0x01]), "EISAID PNP0501");
        assert!(
            find(&[0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08]),
            "IO descriptor"
        );
        assert!(
            find(&[0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0, 0, 0]),
            "extended IRQ 4, edge"
        );
    }

    #[test]
    fn test_acpi_write_fails_without_bios_area() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x80000)]).unwrap();
        assert!(matches!(
            write_acpi_tables(&mem, &platform(1)),
            Err(AcpiError::Write(_))
        ));
    }
}
