//! virtio-rng: 64 bytes of entropy arrive from the first entropy device,
//! and they are not all the same byte. Skipped without one.

use guest_drivers::virtio::{DEVICE_TYPE_RNG, VirtioRng};

use super::{TestResult, ensure, skip};
use crate::hal::KernelHal;
use crate::{msi, pci};

pub fn run() -> TestResult {
    let Some(device) = pci::virtio_devices(DEVICE_TYPE_RNG).next() else {
        return skip("no virtio-rng");
    };
    let mut rng = VirtioRng::new(KernelHal::new(), device, Some(msi::target()))
        .map_err(|e| alloc::format!("{}: {e}", device.bdf))?;
    let mut bytes = [0u8; 64];
    rng.fill(&mut bytes)
        .map_err(|e| alloc::format!("read: {e}"))?;
    ensure!(
        bytes.iter().any(|&b| b != bytes[0]),
        "64 bytes all {:#04x}",
        bytes[0]
    );
    Ok(())
}
