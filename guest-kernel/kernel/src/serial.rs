//! The 16550 console on COM1 (I/O port 0x3f8) and the `print!`/`println!` macros.
//!
//! Every byte costs one or two VM exits, so callers keep output short. Lines
//! end in a bare `\n`.

use core::fmt::{self, Write};

use spin::Mutex;
use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550};

use crate::exit::{ExitCode, exit};

/// I/O port of COM1.
pub const COM1: u16 = 0x3f8;

/// The console; `None` until [`init`] ran (output before that is dropped).
static CONSOLE: Mutex<Option<Console>> = Mutex::new(None);

/// A UART that implements [`fmt::Write`].
struct Console(Uart16550<PioBackend>);

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.send_bytes_exact(s.as_bytes());
        Ok(())
    }
}

/// Initialises COM1. Output is still attempted if the UART does not answer.
pub fn init() {
    // SAFETY: 0x3f8..0x3ff is COM1's register block and this kernel is its
    // only user.
    let Ok(mut uart) = (unsafe { Uart16550::new_port(COM1) }) else {
        return;
    };
    // A missing or odd UART is not fatal: writes then simply go nowhere.
    let _ = uart.init(Config::default());
    *CONSOLE.lock() = Some(Console(uart));
}

/// Whether the UART answers on its scratch register (6 port accesses).
pub fn uart_present() -> bool {
    CONSOLE
        .lock()
        .as_mut()
        .is_some_and(|console| console.0.check_present())
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    if let Some(console) = CONSOLE.lock().as_mut() {
        let _ = console.write_fmt(args);
    }
}

/// Writes raw bytes (a user program's output) to the console.
pub fn write_bytes(bytes: &[u8]) {
    if let Some(console) = CONSOLE.lock().as_mut() {
        console.0.send_bytes_exact(bytes);
    }
}

/// Prints one line even if the console lock is held, then exits with `code`
/// (exception and panic paths). It never returns: that is what makes taking
/// over a lock held by the interrupted code sound.
pub fn emergency_println_and_exit(args: fmt::Arguments, code: ExitCode) -> ! {
    if CONSOLE.is_locked() {
        // SAFETY: this function diverges, so the code interrupted while
        // holding the lock never runs again; the kernel runs on the boot CPU
        // only (it never starts the others), so no other CPU holds it either.
        unsafe { CONSOLE.force_unlock() };
    }
    _print(format_args!("{args}\n"));
    exit(code)
}

/// Prints to the serial console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::serial::_print(format_args!($($arg)*)));
}

/// Prints to the serial console, with a trailing `\n`.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::serial::_print(format_args!("{}\n", format_args!($($arg)*))));
}
