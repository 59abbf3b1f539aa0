//! Reporting of unexpected CPU exceptions: one line on serial, then exit 3.

use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::registers::control::Cr2;

use super::trap::TrapFrame;
use crate::exit::{ExitCode, exit};
use crate::serial;

/// Mnemonic of exception `vector` (0..=31), e.g. `#PF` for 14.
pub fn mnemonic(vector: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS",
        "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23", "#24", "#25",
        "#26", "#27", "#HV", "#VC", "#SX", "#31",
    ];
    usize::try_from(vector)
        .ok()
        .and_then(|v| NAMES.get(v))
        .copied()
        .unwrap_or("#INT")
}

/// Current CR2 (the faulting linear address of the last #PF).
pub fn cr2() -> u64 {
    Cr2::read_raw()
}

static REPORTING: AtomicBool = AtomicBool::new(false);

/// Prints `exception: #PF vector=14 rip=0x.. err=0x.. cr2=0x..` and exits with 3.
/// An exception while reporting exits at once, without a second line.
pub fn report_and_exit(frame: &TrapFrame) -> ! {
    if REPORTING.swap(true, Ordering::SeqCst) {
        exit(ExitCode::Exception);
    }
    serial::emergency_println_and_exit(
        format_args!(
            "exception: {} vector={} rip={:#x} err={:#x} cr2={:#x}",
            mnemonic(frame.vector),
            frame.vector,
            frame.rip,
            frame.error_code,
            cr2()
        ),
        ExitCode::Exception,
    )
}
