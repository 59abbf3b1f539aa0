//! The UART answers on its scratch register, and the banner line is formatted
//! as documented (MiB rounded down, ` (no ACPI)` without a MADT, the command
//! line quoted) for inputs the compiler cannot fold.

use alloc::format;
use core::hint::black_box;

use super::{TestResult, ensure};
use crate::banner::{self, Banner};
use crate::serial;

pub fn run() -> TestResult {
    ensure!(
        serial::uart_present(),
        "no UART answers at {:#x}",
        serial::COM1
    );
    let cases = [
        (
            Banner {
                ram_bytes: black_box((512 << 20) - (384 << 10)),
                madt_cpus: black_box(Some(3)),
                cmdline: black_box("a=1 b=\"c d\""),
            },
            ": memory 511 MiB, cpus 3, cmdline \"a=1 b=\"c d\"\"",
        ),
        (
            Banner {
                ram_bytes: black_box((5 << 30) - 1),
                madt_cpus: black_box(None),
                cmdline: black_box(""),
            },
            ": memory 5119 MiB, cpus 1 (no ACPI), cmdline \"\"",
        ),
    ];
    for (banner, tail) in cases {
        let line = format!("{banner}");
        ensure!(
            line.strip_prefix(banner::NAME) == Some(tail),
            "banner {line:?}, expected {:?}",
            format!("{}{tail}", banner::NAME)
        );
    }
    Ok(())
}
