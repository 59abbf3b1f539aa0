//! Ending the VM through the debug-exit port: the VMM exits with the value written.

use x86_64::instructions::port::Port;

use crate::arch;

/// I/O port of the debug-exit device.
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Values the guest writes to the debug-exit port (the VMM's exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    /// Every test passed (or the requested mode finished cleanly).
    Success = 0,
    /// At least one test failed, or the command line asked for something unknown.
    Failure = 1,
    /// The kernel panicked.
    Panic = 2,
    /// An unexpected CPU exception.
    Exception = 3,
}

/// Writes `code` to the debug-exit port, then halts forever in case the VMM
/// lets the vCPU continue.
pub fn exit(code: ExitCode) -> ! {
    exit_with(code as u32)
}

/// Writes any `code` (a user program's exit status) to the debug-exit
/// port, then halts forever in case the VMM lets the vCPU continue.
pub fn exit_with(code: u32) -> ! {
    let mut port = Port::<u32>::new(DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is the debug-exit device; writing it ends the VM and
    // touches no memory.
    unsafe { port.write(code) };
    arch::halt_forever()
}
