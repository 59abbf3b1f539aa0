//! IAA: the first IAA device comes up with its admin commands completed
//! by MSI-X vector 0, and a page of each `pattern::PageKind` compresses
//! (verified on the device, as iaa_crypto does) and decompresses back to
//! the same bytes. Zeros and text fit zswap's 4096 bytes; the random page
//! does not (the device reports the overflow) and, like any page that does
//! not fit, is compressed again into 8 KiB. A descriptor asking for a
//! completion interrupt raises one (WQ 0's vector). Prints
//! `iaa: <bdf> zeros <n> text <n> counters <n> random <n> bytes, <d> descriptors`.
//! Left out of the plan without an IAA device.

use alloc::format;
use alloc::vec;

use guest_drivers::Hal;
use guest_drivers::compress::Compressor;
use guest_drivers::iaa::{Iaa, Options};
use guest_drivers::pattern::{PageKind, fill_page};

use super::{TestResult, ensure, skip};
use crate::hal::KernelHal;
use crate::{msi, pci, println};

/// Bytes per page.
const PAGE: usize = 4096;
/// How long the admin commands' interrupt may lag.
const WAIT_MS: u64 = 1000;

pub fn run() -> TestResult {
    let Some(device) = pci::iaa_devices().next() else {
        return skip("no IAA device");
    };
    let hal = KernelHal::new();
    let before = msi::count();
    let options = Options {
        msi: Some(msi::target()),
        ..Options::default()
    };
    let mut iaa = Iaa::new(hal, device, options).map_err(|e| format!("{}: {e}", device.bdf))?;
    ensure!(
        hal.wait_until(WAIT_MS, &mut || msi::count() > before),
        "no MSI-X interrupt completed an admin command"
    );
    let (mut page, mut packed, mut back) = (vec![0u8; PAGE], vec![0u8; 2 * PAGE], vec![0u8; PAGE]);
    let mut sizes = [0usize; PageKind::ALL.len()];
    for (i, kind) in PageKind::ALL.into_iter().enumerate() {
        fill_page(kind, i as u64, &mut page);
        let len = match iaa.compress(&page, &mut packed[..PAGE]) {
            Ok(len) => {
                ensure!(kind != PageKind::Random, "a random page fit in {len} bytes");
                len
            }
            // Zeros and text must fit; counters may not (matches of 3 bytes only).
            Err(e)
                if e.is_incompressible() && !matches!(kind, PageKind::Zeros | PageKind::Text) =>
            {
                iaa.compress(&page, &mut packed)
                    .map_err(|e| format!("{kind:?} into 8 KiB: {e}"))?
            }
            Err(e) => return Err(format!("{kind:?} compress: {e}")),
        };
        let n = iaa
            .decompress(&packed[..len], &mut back)
            .map_err(|e| format!("{kind:?} decompress: {e}"))?;
        ensure!(n == PAGE, "{kind:?}: decompressed to {n} bytes");
        ensure!(back == page, "{kind:?}: decompressed bytes differ");
        sizes[i] = len;
    }
    // A completion interrupt per descriptor on vector 1 (iaa_crypto's async_irq).
    iaa.set_completion_interrupts(true);
    let before = msi::count();
    let last = sizes[PageKind::ALL.len() - 1];
    iaa.decompress(&packed[..last], &mut back)
        .map_err(|e| format!("decompress with RCI: {e}"))?;
    ensure!(
        hal.wait_until(WAIT_MS, &mut || msi::count() > before),
        "no completion interrupt"
    );
    println!(
        "iaa: {} zeros {} text {} counters {} random {} bytes, {} descriptors",
        device.bdf,
        sizes[0],
        sizes[1],
        sizes[2],
        sizes[3],
        iaa.descriptors()
    );
    Ok(())
}
