//! virtio-blk on the first writable disk: writes sectors 1..=8 with the
//! pseudo-random contents `guest_drivers::pattern` derives from the
//! command line's `blkseed=` (default 1), flushes, reads them back and
//! compares; reads the device ID. The host checks the image afterwards.
//! Skipped without a writable virtio disk.

use alloc::vec;

use guest_drivers::pattern;
use guest_drivers::virtio::{DEVICE_TYPE_BLOCK, SECTOR_SIZE, VirtioBlk};

use super::{TestResult, ensure, skip};
use crate::hal::KernelHal;
use crate::{boot, cmdline, msi, pci};

/// First sector written.
pub const FIRST_SECTOR: u64 = 1;
/// Sectors written.
pub const SECTORS: u64 = 8;

/// `blkseed=` from the command line (decimal, or hex with `0x`), else 1.
fn seed() -> u64 {
    let value = cmdline::get(boot::info().cmdline, "blkseed").flatten();
    value
        .and_then(|v| match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => v.parse().ok(),
        })
        .unwrap_or(1)
}

/// Whether two buffers are equal, compared eight bytes at a time (fewer
/// emulated instructions than a byte loop).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.chunks(8).zip(b.chunks(8)).all(|(x, y)| x == y)
}

pub fn run() -> TestResult {
    let disk = pci::virtio_devices(DEVICE_TYPE_BLOCK).find_map(|device| {
        VirtioBlk::new(KernelHal::new(), device, Some(msi::target()))
            .ok()
            .filter(|blk| !blk.read_only())
    });
    let Some(mut blk) = disk else {
        return skip("no writable virtio-blk");
    };
    ensure!(
        blk.capacity() >= FIRST_SECTOR + SECTORS,
        "capacity {} sectors",
        blk.capacity()
    );
    let seed = seed();
    let mut expected = vec![0u8; SECTORS as usize * SECTOR_SIZE];
    for (i, sector) in expected.chunks_mut(SECTOR_SIZE).enumerate() {
        pattern::fill(seed, FIRST_SECTOR + i as u64, sector);
    }
    blk.write(FIRST_SECTOR, &expected)
        .map_err(|e| alloc::format!("write: {e}"))?;
    blk.flush().map_err(|e| alloc::format!("flush: {e}"))?;
    let mut back = vec![0u8; expected.len()];
    blk.read(FIRST_SECTOR, &mut back)
        .map_err(|e| alloc::format!("read: {e}"))?;
    ensure!(same(&back, &expected), "sectors read back differ");
    blk.id().map_err(|e| alloc::format!("get-id: {e}"))?;
    Ok(())
}
