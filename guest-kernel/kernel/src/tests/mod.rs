//! The in-kernel test runner and its tests (one module per test).
//!
//! Output, TAP-like, one line each:
//! `1..N`, then `ok <i> - <name>`, `ok <i> - <name> # SKIP <why>` (part of
//! what it needs is absent) or `not ok <i> - <name> # <reason>`,
//! then `tests: <P> passed, <F> failed` (skipped tests count as passed).
//! Device tests are left out of the plan altogether when their device is
//! absent, so a machine without devices prints no line for them.

use alloc::string::String;
use alloc::vec::Vec;

use spin::Mutex;

use crate::exit::ExitCode;
use crate::{pci as bus, println};
use guest_drivers::virtio::{DEVICE_TYPE_BLOCK, DEVICE_TYPE_NET, DEVICE_TYPE_RNG};

mod acpi;
mod cmdline;
mod divide_error;
mod frame_alloc;
mod frame_reuse;
mod gp_fault;
mod heap;
mod heap_reuse;
mod iaa;
mod idt;
mod memmap;
mod page_fault;
mod pci;
mod qat;
mod reserved;
mod serial;
mod timer;
mod virtio_blk;
mod virtio_blk_readonly;
mod virtio_msix;
mod virtio_net;
mod virtio_rng;

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

/// Why the running test skipped itself, if it did.
static SKIPPED: Mutex<Option<&'static str>> = Mutex::new(None);

/// Marks the running test as skipped (its hardware is absent) and passes.
pub(crate) fn skip(why: &'static str) -> TestResult {
    *SKIPPED.lock() = Some(why);
    Ok(())
}

/// A test: its name, its function, and whether it applies to this
/// machine (`None`: always).
type Test = (&'static str, fn() -> TestResult, Option<fn() -> bool>);

fn has_rng() -> bool {
    bus::virtio_devices(DEVICE_TYPE_RNG).next().is_some()
}

fn has_blk() -> bool {
    bus::virtio_devices(DEVICE_TYPE_BLOCK).next().is_some()
}

fn has_rng_or_blk() -> bool {
    has_rng() || has_blk()
}

fn has_net() -> bool {
    bus::virtio_devices(DEVICE_TYPE_NET).next().is_some()
}

fn has_iaa() -> bool {
    bus::iaa_devices().next().is_some()
}

fn has_qat() -> bool {
    bus::qat_devices().next().is_some()
}

/// The tests, in the order they run.
const TESTS: &[Test] = &[
    ("heap_alloc", heap::run, None),
    ("heap_dealloc_reuse", heap_reuse::run, None),
    ("frame_alloc", frame_alloc::run, None),
    ("frame_free_reuse", frame_reuse::run, None),
    ("memmap_sanity", memmap::run, None),
    ("idt_gates", idt::run, None),
    ("page_fault_recovered", page_fault::run, None),
    ("gp_noncanonical_recovered", gp_fault::run, None),
    ("divide_error_recovered", divide_error::run, None),
    ("timer_ticks", timer::run, None),
    ("cmdline_parse", cmdline::run, None),
    ("acpi_madt_cpus", acpi::run, None),
    ("serial_format", serial::run, None),
    ("pci_topology", pci::run, None),
    ("virtio_rng", virtio_rng::run, Some(has_rng)),
    ("virtio_blk_rw", virtio_blk::run, Some(has_blk)),
    (
        "virtio_blk_readonly",
        virtio_blk_readonly::run,
        Some(has_blk),
    ),
    ("virtio_msix", virtio_msix::run, Some(has_rng_or_blk)),
    ("virtio_net", virtio_net::run, Some(has_net)),
    ("iaa", iaa::run, Some(has_iaa)),
    ("qat", qat::run, Some(has_qat)),
];

/// Runs every test that applies, prints the report and returns the exit
/// code (0 if all passed, 1 otherwise).
pub fn run_all() -> ExitCode {
    let tests: Vec<&Test> = TESTS
        .iter()
        .filter(|(_, _, applies)| applies.is_none_or(|applies| applies()))
        .collect();
    println!("1..{}", tests.len());
    let mut failed = 0;
    for (i, (name, run, _)) in tests.iter().enumerate() {
        let result = run();
        match (result, SKIPPED.lock().take()) {
            (Ok(()), None) => println!("ok {} - {name}", i + 1),
            (Ok(()), Some(why)) => println!("ok {} - {name} # SKIP {why}", i + 1),
            (Err(reason), _) => {
                failed += 1;
                println!("not ok {} - {name} # {reason}", i + 1);
            }
        }
    }
    println!("tests: {} passed, {} failed", tests.len() - failed, failed);
    if failed == 0 {
        ExitCode::Success
    } else {
        ExitCode::Failure
    }
}
