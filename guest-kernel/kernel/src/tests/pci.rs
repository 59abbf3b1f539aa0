//! PCI enumeration through the MCFG's ECAM window: prints one line per
//! function (`pci <bdf> <vendor>:<device> class <class> ...`), then checks
//! the platform's shape: the host bridge at 00:00.0, every function below a
//! bridge on that bridge's secondary bus, and every virtio device with a
//! 64-bit BAR 0 below 4 GiB and an MSI-X capability. Skipped without MCFG.

use guest_drivers::pci::{BarKind, HeaderType, regs};
use guest_drivers::{Bdf, virtio};

use super::{TestResult, ensure, skip};
use crate::arch::paging::IDENTITY_MAP_END;
use crate::{boot, pci, println};

/// Our host bridge's IDs.
const HOST_BRIDGE: (u16, u16) = (0x1b36, 0x0008);

pub fn run() -> TestResult {
    if boot::info().pci_ecam.is_none() {
        return skip("no MCFG");
    }
    let devices = pci::devices();
    for device in devices {
        println!("pci {device}");
    }
    let host = devices.first().ok_or("no function at all")?;
    ensure!(
        host.bdf == Bdf::new(0, 0, 0) && (host.vendor_id, host.device_id) == HOST_BRIDGE,
        "first function is {host}, not the host bridge"
    );
    for bridge in devices
        .iter()
        .filter(|d| d.header_type == HeaderType::Bridge)
    {
        let (secondary, subordinate) = bridge.buses.ok_or("bridge without bus numbers")?;
        ensure!(
            secondary > bridge.bdf.bus && secondary <= subordinate,
            "{}: buses {secondary:02x}-{subordinate:02x}",
            bridge.bdf
        );
    }
    for device in devices.iter().filter(|d| d.bdf.bus != 0) {
        ensure!(
            devices
                .iter()
                .any(|b| b.buses.is_some_and(|(s, _)| s == device.bdf.bus)),
            "{} sits on a bus no bridge leads to",
            device.bdf
        );
    }
    let virtio_devices = devices
        .iter()
        .filter(|d| virtio::device_type(d.vendor_id, d.device_id).is_some());
    for device in virtio_devices {
        let bar = device.bar(0).ok_or("virtio device without BAR 0")?;
        ensure!(
            bar.kind == BarKind::Memory64 && bar.address + bar.size <= IDENTITY_MAP_END,
            "{}: BAR 0 is {bar:?}",
            device.bdf
        );
        ensure!(
            device.capabilities_with(regs::CAP_ID_MSIX).next().is_some(),
            "{}: no MSI-X capability",
            device.bdf
        );
    }
    Ok(())
}
