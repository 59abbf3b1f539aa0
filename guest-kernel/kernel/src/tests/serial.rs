//! The UART answers on its scratch register, and `core::fmt` formats as expected.

use alloc::format;

use super::{TestResult, ensure};
use crate::serial;

pub fn run() -> TestResult {
    ensure!(
        serial::uart_present(),
        "no UART answers at {:#x}",
        serial::COM1
    );
    let s = format!(
        "{:#x}|{:>5}|{:<3}|{:08b}|{}",
        0xdead_u32, 42, "ab", 5u8, -7i64
    );
    ensure!(s == "0xdead|   42|ab |00000101|-7", "formatted {s:?}");
    let banner = format!("{}: memory {} MiB", crate::BANNER_NAME, 256);
    ensure!(
        banner == "guest-kernel 0.1.0: memory 256 MiB",
        "banner prefix {banner:?}"
    );
    Ok(())
}
