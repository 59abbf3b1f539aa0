//! The machine's devices and the buses that reach them.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use devices::legacy::{
    AcpiPm, DebugExit, EventFdTrigger, Serial, ACPI_PM_PORT_BASE, ACPI_PM_PORT_LEN, COM1_IRQ,
    COM1_PORT_BASE, COM1_PORT_LEN, DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_LEN, I8042, I8042_PORT_BASE,
    I8042_PORT_LEN, RESET_OFFSET, RESET_VALUE, S5_SLEEP_TYPE, SLEEP_CONTROL_OFFSET,
    SLEEP_STATUS_OFFSET,
};
use devices::pci::{ConfigListener, SharedFunction};
use devices::trace::{AccessObserver, Traced};
use devices::{Bus, BusDevice, StopSink};
use firmware::acpi::{AcpiPlatform, PowerManagement, SerialPort};
use firmware::GuestLayout;
use kvm_ioctls::VmFd;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::console::{ConsoleOut, ConsoleSerial};
use crate::pci::{build_pci, pci_host};
use crate::timings::Timings;

/// The platform as the ACPI tables describe it.
pub fn acpi_platform(cpus: u8, layout: &GuestLayout) -> AcpiPlatform {
    let serial = SerialPort {
        base: COM1_PORT_BASE as u16,
        gsi: COM1_IRQ,
    };
    AcpiPlatform {
        cpus,
        pm: power_management(),
        serial,
        pci: pci_host(layout),
    }
}

/// The power-management registers as the ACPI tables describe them.
fn power_management() -> PowerManagement {
    let port = |offset: u64| (ACPI_PM_PORT_BASE + offset) as u16;
    PowerManagement {
        sleep_control_port: port(SLEEP_CONTROL_OFFSET),
        sleep_status_port: port(SLEEP_STATUS_OFFSET),
        reset_port: port(RESET_OFFSET),
        reset_value: RESET_VALUE,
        s5_sleep_type: S5_SLEEP_TYPE,
    }
}

/// The devices of a VM.
#[derive(Debug)]
pub struct Platform {
    /// Port I/O bus: COM1, i8042, ACPI power management, debug exit, PCI
    /// configuration ports and I/O BARs.
    pub pio: Arc<Bus>,
    /// MMIO bus: the PCIe ECAM window and BAR apertures (the in-kernel
    /// LAPIC and IOAPIC live in KVM).
    pub mmio: Arc<Bus>,
    /// COM1, shared with the stdin forwarder.
    pub serial: Arc<Mutex<ConsoleSerial>>,
}

/// What goes into a platform besides the fixed legacy devices.
pub struct PlatformConfig {
    /// The guest's memory layout (for the PCI apertures).
    pub layout: GuestLayout,
    /// PCI endpoints, each below its own root port, in order.
    pub endpoints: Vec<SharedFunction>,
    /// Where register accesses are traced (`--trace`), if anywhere.
    pub tracer: Option<Arc<dyn AccessObserver>>,
    /// Told of every PCI configuration write (to move ioeventfds).
    pub config_listener: Option<Arc<dyn ConfigListener>>,
}

/// `device` as the bus holds it: wrapped in a tracer when tracing.
fn on_bus<D: BusDevice + 'static>(
    name: &str,
    device: Arc<Mutex<D>>,
    tracer: &Option<Arc<dyn AccessObserver>>,
) -> Arc<Mutex<dyn BusDevice>> {
    match tracer {
        Some(tracer) => Arc::new(Mutex::new(Traced::new(name, device, tracer.clone()))),
        None => device,
    }
}

impl Platform {
    /// Creates the legacy devices (COM1's interrupt wired to IOAPIC pin 4)
    /// and the PCI hierarchy.
    pub fn new(
        vm: &VmFd,
        stop: Arc<dyn StopSink>,
        timings: Arc<Timings>,
        config: PlatformConfig,
    ) -> Result<Self> {
        let tracer = &config.tracer;
        let irq = EventFd::new(EFD_NONBLOCK).context("creating the COM1 interrupt eventfd")?;
        vm.register_irqfd(&irq, COM1_IRQ)
            .context("KVM_IRQFD for COM1")?;
        let serial = Arc::new(Mutex::new(Serial::new(
            EventFdTrigger(irq),
            ConsoleOut::new(timings),
        )));

        let mut pio = Bus::new();
        pio.insert(
            COM1_PORT_BASE,
            COM1_PORT_LEN,
            on_bus("serial", serial.clone(), tracer),
        )?;
        let acpi_pm = Arc::new(Mutex::new(AcpiPm::new(stop.clone())));
        pio.insert(
            ACPI_PM_PORT_BASE,
            ACPI_PM_PORT_LEN,
            on_bus("acpi-pm", acpi_pm, tracer),
        )?;
        pio.insert(
            I8042_PORT_BASE,
            I8042_PORT_LEN,
            on_bus(
                "i8042",
                Arc::new(Mutex::new(I8042::new(stop.clone()))),
                tracer,
            ),
        )?;
        pio.insert(
            DEBUG_EXIT_PORT,
            DEBUG_EXIT_PORT_LEN,
            on_bus(
                "debug-exit",
                Arc::new(Mutex::new(DebugExit::new(stop))),
                tracer,
            ),
        )?;
        let mut mmio = Bus::new();
        build_pci(
            &config.layout,
            config.endpoints,
            config.tracer.clone(),
            config.config_listener,
            &mut pio,
            &mut mmio,
        )?;
        Ok(Self {
            pio: Arc::new(pio),
            mmio: Arc::new(mmio),
            serial,
        })
    }
}
