//! Platform devices on port I/O: 16550 serial, the debug-exit port, the
//! i8042 reset line, and the ACPI power-management registers.

mod acpi_pm;
mod debug_exit;
mod i8042;
mod serial;

pub use acpi_pm::{
    AcpiPm, ACPI_PM_PORT_BASE, ACPI_PM_PORT_LEN, RESET_OFFSET, RESET_VALUE, S5_SLEEP_TYPE,
    SLEEP_CONTROL_OFFSET, SLEEP_STATUS_OFFSET,
};
pub use debug_exit::{DebugExit, DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_LEN};
pub use i8042::{I8042, I8042_PORT_BASE, I8042_PORT_LEN};
pub use serial::{EventFdTrigger, Serial, COM1_IRQ, COM1_PORT_BASE, COM1_PORT_LEN};
