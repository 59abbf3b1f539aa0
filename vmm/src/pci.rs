//! The PCI Express hierarchy of a VM: the host bridge at 00:00.0, one root
//! port per device (00:01.0, 00:02.0, ...) with the device on its link,
//! resources assigned as firmware would, and the windows that reach it
//! (ECAM and BAR apertures on the MMIO bus; 0xCF8 and I/O BARs on the PIO bus).

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use devices::pci::{
    assign_resources, Apertures, BarWindow, Bdf, ConfigListener, Ecam, HostBridge, LegacyConfig,
    PciRoot, RootPort, SharedFunction, LEGACY_CONFIG_PORT, LEGACY_CONFIG_PORT_LEN,
};
use devices::trace::AccessObserver;
use devices::Bus;
use firmware::acpi::PciHost;
use firmware::layout::{
    PCI_ECAM_LAST_BUS, PCI_ECAM_SIZE, PCI_ECAM_START, PCI_IO_SIZE, PCI_IO_START, PCI_MMIO32_SIZE,
    PCI_MMIO32_START,
};
use firmware::GuestLayout;

/// The host bridge as the ACPI tables describe it.
pub fn pci_host(layout: &GuestLayout) -> PciHost {
    PciHost {
        ecam_base: PCI_ECAM_START,
        last_bus: PCI_ECAM_LAST_BUS,
        mmio32: (PCI_MMIO32_START, PCI_MMIO32_SIZE),
        mmio64: layout.pci_mmio64(),
    }
}

/// Root ports fit bus 0's devices 1 to 31.
const MAX_ENDPOINTS: usize = 31;

/// The bus-0 slot of the root port the `index`th endpoint sits below.
pub fn endpoint_slot(index: usize) -> u8 {
    u8::try_from(index + 1).unwrap_or(u8::MAX)
}

/// Builds the hierarchy with `endpoints` (each below its own root port, in
/// order), assigns resources, and puts its windows on the buses; `listener`
/// hears of every configuration write (the assignment's included).
pub fn build_pci(
    layout: &GuestLayout,
    endpoints: Vec<SharedFunction>,
    observer: Option<Arc<dyn AccessObserver>>,
    listener: Option<Arc<dyn ConfigListener>>,
    pio: &mut Bus,
    mmio: &mut Bus,
) -> Result<Arc<PciRoot>> {
    if endpoints.len() > MAX_ENDPOINTS {
        return Err(crate::error::config_error(format!(
            "{} PCI devices requested; at most {MAX_ENDPOINTS} fit",
            endpoints.len()
        )));
    }
    let mut root = PciRoot::new();
    if let Some(observer) = observer {
        root.set_observer(observer);
    }
    if let Some(listener) = listener {
        root.set_config_listener(listener);
    }
    root.add(Bdf::root(0, 0), Arc::new(Mutex::new(HostBridge::new())))?;
    for (index, endpoint) in endpoints.into_iter().enumerate() {
        let slot = endpoint_slot(index);
        let port = Bdf::root(slot, 0);
        root.add(port, Arc::new(Mutex::new(RootPort::generic(slot))))?;
        root.add_below(port, 0, endpoint)?;
    }
    let host = pci_host(layout);
    let apertures = Apertures {
        mmio32: host.mmio32,
        mmio64: host.mmio64,
        io: (PCI_IO_START, PCI_IO_SIZE),
    };
    assign_resources(&root, &apertures).context("assigning PCI resources")?;
    let root = Arc::new(root);

    mmio.insert(
        PCI_ECAM_START,
        PCI_ECAM_SIZE,
        Arc::new(Mutex::new(Ecam::new(root.clone()))),
    )?;
    for (base, size) in [host.mmio32, host.mmio64] {
        mmio.insert(
            base,
            size,
            Arc::new(Mutex::new(BarWindow::new(root.clone(), base, false))),
        )?;
    }
    pio.insert(
        LEGACY_CONFIG_PORT,
        LEGACY_CONFIG_PORT_LEN,
        Arc::new(Mutex::new(LegacyConfig::new(root.clone()))),
    )?;
    pio.insert(
        PCI_IO_START,
        PCI_IO_SIZE,
        Arc::new(Mutex::new(BarWindow::new(root.clone(), PCI_IO_START, true))),
    )?;
    Ok(root)
}
