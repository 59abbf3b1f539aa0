//! The panic handler: one line `panic: <message> at <file>:<line>:<col>`, exit 2.

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::exit::{ExitCode, exit};
use crate::serial;

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    x86_64::instructions::interrupts::disable();
    // A panic while printing the panic: leave without another attempt.
    if PANICKING.swap(true, Ordering::SeqCst) {
        exit(ExitCode::Panic);
    }
    match info.location() {
        Some(loc) => serial::emergency_println_and_exit(
            format_args!(
                "panic: {} at {}:{}:{}",
                info.message(),
                loc.file(),
                loc.line(),
                loc.column()
            ),
            ExitCode::Panic,
        ),
        None => serial::emergency_println_and_exit(
            format_args!("panic: {} at <unknown>", info.message()),
            ExitCode::Panic,
        ),
    }
}
