//! Legacy PC devices: 16550 serial, the debug-exit port and the i8042 reset line.

mod debug_exit;
mod i8042;
mod serial;

pub use debug_exit::{DebugExit, DEBUG_EXIT_PORT, DEBUG_EXIT_PORT_LEN};
pub use i8042::{I8042, I8042_PORT_BASE, I8042_PORT_LEN};
pub use serial::{EventFdTrigger, Serial, COM1_IRQ, COM1_PORT_BASE, COM1_PORT_LEN};
