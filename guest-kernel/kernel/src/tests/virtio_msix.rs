//! Completions arrive by MSI-X: with the first virtio-rng (else virtio-blk)
//! device's vectors pointed at this CPU, a request's completion raises the
//! MSI-X interrupt counter, and table entry 0 reads back our message.
//! Skipped without either device.

use guest_drivers::Hal;
use guest_drivers::pci::{MSI_ADDRESS_BASE, Msix};
use guest_drivers::virtio::{
    DEVICE_TYPE_BLOCK, DEVICE_TYPE_RNG, SECTOR_SIZE, VirtioBlk, VirtioRng,
};

use super::{TestResult, ensure, skip};
use crate::hal::KernelHal;
use crate::{apic, msi, pci};

/// How long the interrupt may lag the completion.
const WAIT_MS: u64 = 1000;

pub fn run() -> TestResult {
    let hal = KernelHal::new();
    let target = msi::target();
    let before;
    let msix: Msix;
    if let Some(device) = pci::virtio_devices(DEVICE_TYPE_RNG).next() {
        let mut rng =
            VirtioRng::new(hal, device, Some(target)).map_err(|e| alloc::format!("rng: {e}"))?;
        msix = *rng.transport().msix().ok_or("no MSI-X table")?;
        before = msi::count();
        rng.read(&mut [0u8; 16])
            .map_err(|e| alloc::format!("rng read: {e}"))?;
    } else if let Some(device) = pci::virtio_devices(DEVICE_TYPE_BLOCK).next() {
        let mut blk =
            VirtioBlk::new(hal, device, Some(target)).map_err(|e| alloc::format!("blk: {e}"))?;
        msix = *blk.transport().msix().ok_or("no MSI-X table")?;
        before = msi::count();
        blk.read(0, &mut [0u8; SECTOR_SIZE])
            .map_err(|e| alloc::format!("blk read: {e}"))?;
    } else {
        return skip("no virtio-rng or virtio-blk");
    }
    let arrived = hal.wait_until(WAIT_MS, &mut || msi::count() > before);
    ensure!(arrived, "MSI-X count stayed {before} after a completion");
    let expected_address = u64::from(MSI_ADDRESS_BASE | (apic::id() << 12));
    let entry = msix.entry(&hal, 0).map_err(|e| alloc::format!("{e}"))?;
    ensure!(
        entry == (expected_address, u32::from(msi::MSI_VECTOR), false),
        "MSI-X entry 0 is {entry:x?}"
    );
    ensure!(msix.is_enabled(&hal), "MSI-X not enabled");
    Ok(())
}
