//! The in-kernel test runner and its tests (one module per test).
//!
//! Output, TAP-like, one line each:
//! `1..N`, then `ok <i> - <name>` or `not ok <i> - <name> # <reason>`,
//! then `tests: <P> passed, <F> failed`.

use alloc::string::String;

use crate::exit::ExitCode;
use crate::println;

mod acpi;
mod cmdline;
mod divide_error;
mod frame_alloc;
mod frame_reuse;
mod gp_fault;
mod heap;
mod heap_reuse;
mod idt;
mod memmap;
mod page_fault;
mod reserved;
mod serial;
mod timer;

/// A test's outcome: `Err` carries a one-line reason.
pub type TestResult = Result<(), String>;

/// Returns `Err(format!(..))` from the test unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(alloc::format!($($fmt)+));
        }
    };
}
pub(crate) use ensure;

/// A test: its name and its function.
type Test = (&'static str, fn() -> TestResult);

/// The tests, in the order they run.
const TESTS: &[Test] = &[
    ("heap_alloc", heap::run),
    ("heap_dealloc_reuse", heap_reuse::run),
    ("frame_alloc", frame_alloc::run),
    ("frame_free_reuse", frame_reuse::run),
    ("memmap_sanity", memmap::run),
    ("idt_gates", idt::run),
    ("page_fault_recovered", page_fault::run),
    ("gp_noncanonical_recovered", gp_fault::run),
    ("divide_error_recovered", divide_error::run),
    ("timer_ticks", timer::run),
    ("cmdline_parse", cmdline::run),
    ("acpi_madt_cpus", acpi::run),
    ("serial_format", serial::run),
];

/// Runs every test, prints the report and returns the exit code
/// (0 if all passed, 1 otherwise).
pub fn run_all() -> ExitCode {
    println!("1..{}", TESTS.len());
    let mut failed = 0;
    for (i, (name, run)) in TESTS.iter().enumerate() {
        match run() {
            Ok(()) => println!("ok {} - {name}", i + 1),
            Err(reason) => {
                failed += 1;
                println!("not ok {} - {name} # {reason}", i + 1);
            }
        }
    }
    println!("tests: {} passed, {} failed", TESTS.len() - failed, failed);
    if failed == 0 {
        ExitCode::Success
    } else {
        ExitCode::Failure
    }
}
