//! `selftest=blkbench blkbench=<read|write>:<bytes>:<count>`: issues
//! `count` virtio-blk requests of `bytes` each (one request, one data
//! descriptor apiece) to the first writable disk and exits 0. `make bench`
//! boots it with `count` 0 and N and divides the difference in the VMM's
//! exit counters by N: the exits one request costs.

use guest_drivers::Hal;
use guest_drivers::virtio::{DEVICE_TYPE_BLOCK, SECTOR_SIZE, VirtioBlk};

use crate::exit::ExitCode;
use crate::hal::KernelHal;
use crate::{boot, cmdline, msi, pci, println};

/// How long the count of MSI-X interrupts may take to catch up with the
/// completed requests.
const MSI_SETTLE_MS: u64 = 100;

/// What to issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    write: bool,
    bytes: u32,
    count: u32,
}

/// Parses `read:4096:64`.
fn plan(text: &str) -> Option<Plan> {
    let mut parts = text.split(':');
    let write = match parts.next()? {
        "read" => false,
        "write" => true,
        _ => return None,
    };
    let bytes: u32 = parts.next()?.parse().ok()?;
    let count: u32 = parts.next()?.parse().ok()?;
    let whole = bytes > 0 && (bytes as usize).is_multiple_of(SECTOR_SIZE);
    (whole && parts.next().is_none()).then_some(Plan {
        write,
        bytes,
        count,
    })
}

/// Runs the plan on the command line; prints one line and exits 0, or
/// says what went wrong and exits 1.
pub fn run() -> ExitCode {
    let text = cmdline::get(boot::info().cmdline, "blkbench").flatten();
    let Some(plan) = text.and_then(plan) else {
        println!("blkbench: expected blkbench=<read|write>:<bytes>:<count>");
        return ExitCode::Failure;
    };
    let disk = pci::virtio_devices(DEVICE_TYPE_BLOCK).find_map(|device| {
        VirtioBlk::new(KernelHal::new(), device, Some(msi::target()))
            .ok()
            .filter(|blk| !blk.read_only())
    });
    let Some(mut blk) = disk else {
        println!("blkbench: no writable virtio-blk disk");
        return ExitCode::Failure;
    };
    let sectors = u64::from(plan.bytes) / SECTOR_SIZE as u64;
    if blk.capacity() < sectors {
        println!("blkbench: the disk is smaller than {} bytes", plan.bytes);
        return ExitCode::Failure;
    }
    let Ok(buffer) = KernelHal::new().dma_alloc(plan.bytes as usize) else {
        println!("blkbench: no {} bytes of DMA memory", plan.bytes);
        return ExitCode::Failure;
    };
    for _ in 0..plan.count {
        let done = if plan.write {
            blk.write_dma(0, buffer, plan.bytes)
        } else {
            blk.read_dma(0, buffer, plan.bytes)
        };
        if let Err(e) = done {
            println!("blkbench: request failed: {e}");
            return ExitCode::Failure;
        }
    }
    // Completions are read from the used ring, which the device fills
    // before its MSI-X message lands: give the interrupts a bounded moment
    // to arrive before counting them.
    let expected = u64::from(plan.count);
    KernelHal::new().wait_until(MSI_SETTLE_MS, &mut || msi::count() >= expected);
    let op = if plan.write { "write" } else { "read" };
    println!(
        "blkbench: {} {op} requests of {} bytes, {} MSI-X interrupts",
        plan.count,
        plan.bytes,
        msi::count()
    );
    ExitCode::Success
}
