//! The machine's devices and the buses that reach them.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use devices::legacy::{
    AcpiPm, DebugExit, EventFdTrigger, Serial, ACPI_PM_PORT_BASE, ACPI_PM_PORT_LEN, COM1_IRQ,
    COM1_PORT_BASE, COM1_PORT_LEN, DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_LEN, I8042, I8042_PORT_BASE,
    I8042_PORT_LEN, RESET_OFFSET, RESET_VALUE, S5_SLEEP_TYPE, SLEEP_CONTROL_OFFSET,
    SLEEP_STATUS_OFFSET,
};
use devices::{Bus, StopSink};
use firmware::acpi::{AcpiPlatform, PowerManagement, SerialPort};
use kvm_ioctls::VmFd;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::console::{ConsoleOut, ConsoleSerial};
use crate::timings::Timings;

/// The platform as the ACPI tables describe it.
pub fn acpi_platform(cpus: u8) -> AcpiPlatform {
    let serial = SerialPort {
        base: COM1_PORT_BASE as u16,
        gsi: COM1_IRQ,
    };
    AcpiPlatform {
        cpus,
        pm: power_management(),
        serial,
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
    /// Port I/O bus: COM1, i8042, ACPI power management, debug exit.
    pub pio: Arc<Bus>,
    /// MMIO bus (no devices yet; the in-kernel LAPIC and IOAPIC live in KVM).
    pub mmio: Arc<Bus>,
    /// COM1, shared with the stdin forwarder.
    pub serial: Arc<Mutex<ConsoleSerial>>,
}

impl Platform {
    /// Creates the legacy devices, wiring COM1's interrupt to IOAPIC pin 4.
    pub fn new(vm: &VmFd, stop: Arc<dyn StopSink>, timings: Arc<Timings>) -> Result<Self> {
        let irq = EventFd::new(EFD_NONBLOCK).context("creating the COM1 interrupt eventfd")?;
        vm.register_irqfd(&irq, COM1_IRQ)
            .context("KVM_IRQFD for COM1")?;
        let serial = Arc::new(Mutex::new(Serial::new(
            EventFdTrigger(irq),
            ConsoleOut::new(timings),
        )));

        let mut pio = Bus::new();
        pio.insert(COM1_PORT_BASE, COM1_PORT_LEN, serial.clone())?;
        let acpi_pm = Arc::new(Mutex::new(AcpiPm::new(stop.clone())));
        pio.insert(ACPI_PM_PORT_BASE, ACPI_PM_PORT_LEN, acpi_pm)?;
        pio.insert(
            I8042_PORT_BASE,
            I8042_PORT_LEN,
            Arc::new(Mutex::new(I8042::new(stop.clone()))),
        )?;
        pio.insert(
            DEBUG_EXIT_PORT,
            DEBUG_EXIT_PORT_LEN,
            Arc::new(Mutex::new(DebugExit::new(stop))),
        )?;
        Ok(Self {
            pio: Arc::new(pio),
            mmio: Arc::new(Bus::new()),
            serial,
        })
    }
}
