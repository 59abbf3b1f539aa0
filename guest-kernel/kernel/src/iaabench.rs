//! `selftest=iaabench iaabench=<count>[:verify][:irq]`: on the first IAA
//! device, compresses one 4 KiB text page and decompresses the result
//! `count` times (with `:verify`, each compress is also verified on the
//! device as iaa_crypto does; with `:irq`, each descriptor also raises a
//! completion interrupt, though the record is still polled), then exits 0. Each operation is one descriptor, one
//! `movdir64b`; the VMM's exit counters for `count` 0 and N give the exits
//! one descriptor costs. Buffers stay in DMA memory: no copies in the loop.

use alloc::vec;

use guest_drivers::Hal;
use guest_drivers::iaa::{Iaa, IaaError, Options};
use guest_drivers::pattern::{PageKind, fill_page};

use crate::exit::ExitCode;
use crate::hal::KernelHal;
use crate::{boot, cmdline, msi, pci, println};

/// Bytes per page.
const PAGE: u32 = 4096;

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    count: u32,
    verify: bool,
    irq: bool,
}

/// Parses `100`, `100:verify`, `100:irq` or `100:verify:irq`.
fn plan(text: &str) -> Option<Plan> {
    let mut parts = text.split(':');
    let mut plan = Plan {
        count: parts.next()?.parse().ok()?,
        verify: false,
        irq: false,
    };
    for flag in parts {
        match flag {
            "verify" => plan.verify = true,
            "irq" => plan.irq = true,
            _ => return None,
        }
    }
    Some(plan)
}

/// The three DMA buffers: the page, its compressed form, the page again.
struct Buffers {
    page: u64,
    packed: u64,
    back: u64,
}

/// One compress (+ verify) + decompress; the decompress must give back
/// 4096 bytes with the compress's CRC. Returns the compressed length.
fn pair(iaa: &mut Iaa<KernelHal>, b: &Buffers, verify: bool) -> Result<u32, IaaError> {
    let packed = iaa.compress_dma(b.page, PAGE, b.packed, PAGE)?;
    if verify {
        iaa.verify_dma(b.packed, packed.len, b.page, PAGE, packed.crc)?;
    }
    let back = iaa.decompress_dma(b.packed, packed.len, b.back, PAGE)?;
    if back.len != PAGE || back.crc != packed.crc {
        return Err(IaaError::VerifyFailed {
            compress: packed.crc,
            verify: back.crc,
        });
    }
    Ok(packed.len)
}

/// Runs the plan on the command line; prints one line and exits 0, or
/// says what went wrong and exits 1.
pub fn run() -> ExitCode {
    let text = cmdline::get(boot::info().cmdline, "iaabench").flatten();
    let Some(plan) = text.and_then(plan) else {
        println!("iaabench: expected iaabench=<count>[:verify][:irq]");
        return ExitCode::Failure;
    };
    let Some(device) = pci::iaa_devices().next() else {
        println!("iaabench: no IAA device");
        return ExitCode::Failure;
    };
    let hal = KernelHal::new();
    let options = Options {
        msi: Some(msi::target()),
        verify: plan.verify,
        completion_interrupts: plan.irq,
    };
    let mut iaa = match Iaa::new(hal, device, options) {
        Ok(iaa) => iaa,
        Err(e) => {
            println!("iaabench: {}: {e}", device.bdf);
            return ExitCode::Failure;
        }
    };
    let Ok(base) = hal.dma_alloc(4 * PAGE as usize) else {
        println!("iaabench: no DMA memory");
        return ExitCode::Failure;
    };
    let buffers = Buffers {
        page: base,
        packed: base + u64::from(PAGE),
        back: base + 3 * u64::from(PAGE),
    };
    let mut page = vec![0u8; PAGE as usize];
    fill_page(PageKind::Text, 1, &mut page);
    hal.dma_write(buffers.page, &page);
    let mut packed = 0;
    for _ in 0..plan.count {
        match pair(&mut iaa, &buffers, plan.verify) {
            Ok(len) => packed = len,
            Err(e) => {
                println!("iaabench: {e}");
                return ExitCode::Failure;
            }
        }
    }
    let mut back = vec![0u8; PAGE as usize];
    hal.dma_read(buffers.back, &mut back);
    if plan.count > 0 && back != page {
        println!("iaabench: the decompressed page differs");
        return ExitCode::Failure;
    }
    println!(
        "iaabench: {} pairs of 4096 bytes ({packed} compressed), {} descriptors, {} MSI-X interrupts",
        plan.count,
        iaa.descriptors(),
        msi::count()
    );
    ExitCode::Success
}
