//! virtio-blk on the first read-only disk (VIRTIO_BLK_F_RO): reads work,
//! and a write of sector 0 is refused by the device with
//! VIRTIO_BLK_S_IOERR. Skipped without a read-only virtio disk.

use guest_drivers::virtio::{BlkError, DEVICE_TYPE_BLOCK, SECTOR_SIZE, VirtioBlk};

use super::{TestResult, ensure, skip};
use crate::hal::KernelHal;
use crate::{msi, pci};

pub fn run() -> TestResult {
    let disk = pci::virtio_devices(DEVICE_TYPE_BLOCK).find_map(|device| {
        VirtioBlk::new(KernelHal::new(), device, Some(msi::target()))
            .ok()
            .filter(|blk| blk.read_only())
    });
    let Some(mut blk) = disk else {
        return skip("no read-only virtio-blk");
    };
    let mut sector = [0u8; SECTOR_SIZE];
    blk.read(0, &mut sector)
        .map_err(|e| alloc::format!("read: {e}"))?;
    let refused = blk.write(0, &[0x5a; SECTOR_SIZE]);
    ensure!(
        refused == Err(BlkError::Io),
        "write to a read-only disk: {refused:?}, expected the device's I/O error"
    );
    Ok(())
}
