//! `selftest=qatbench qatbench=<batches>:<size>`: on the first QAT
//! device, `batches` times submits `size` AES-128-CBC requests of 64 bytes
//! (in place, laid out once in their ring slots) behind ONE tail-CSR
//! doorbell and waits for the MSI-X that completes them, then exits 0.
//! The VMM's exit counters for 0 and N batches give the exits one request
//! costs.

use alloc::vec::Vec;

use guest_drivers::Hal;
use guest_drivers::qat::dma::put_buffer_list;
use guest_drivers::qat::la::{self, CipherMode, Direction, LaParams, Session};
use guest_drivers::qat::{DmaCursor, Qat, QatError, Request, RingPair, Segment, response_status};

use crate::exit::ExitCode;
use crate::hal::KernelHal;
use crate::{boot, cmdline, msi, pci, println};

/// Bytes each request encrypts.
const PAYLOAD: usize = 64;
/// DMA bytes per slot: CD, one-entry buffer list, payload.
const SCRATCH: usize = 512;
/// How long one batch may take.
const TIMEOUT_MS: u64 = 5000;

/// Parses `100:16`: batches, then requests per batch (1..=1023).
fn plan(text: &str) -> Option<(u32, usize)> {
    let (batches, size) = text.split_once(':')?;
    let size: usize = size.parse().ok()?;
    (1..=1023)
        .contains(&size)
        .then_some((batches.parse().ok()?, size))
}

/// `size` requests, request `i` in slot `i`.
fn requests(ring: &RingPair<KernelHal>, size: usize) -> Result<Vec<Request>, QatError> {
    let session = Session::cipher(&[0x2b; 16], CipherMode::Cbc, Direction::Encrypt)?;
    let hal = *ring.hal();
    (0..size)
        .map(|i| {
            let region = ring.scratch(i).ok_or(QatError::BadRingSize(size))?;
            let mut cursor = DmaCursor::new(region);
            let cd_addr = cursor.put(&hal, &session.cd)?;
            let data = cursor.put(&hal, &[i as u8; PAYLOAD])?;
            let seg = Segment {
                addr: data,
                len: PAYLOAD as u32,
            };
            let list = put_buffer_list(&hal, &mut cursor, &[seg])?;
            let params = LaParams {
                cd_addr,
                src: list,
                dst: list,
                cipher_len: PAYLOAD as u32,
                ..LaParams::default()
            };
            Ok(la::request(&session, &params))
        })
        .collect()
}

/// How long the count of MSI-X interrupts may take to catch up with the
/// doorbells once every response has been read.
const MSI_SETTLE_MS: u64 = 100;

/// Runs the plan on the command line; prints one line and exits 0, or
/// says what went wrong and exits 1.
pub fn run() -> ExitCode {
    let text = cmdline::get(boot::info().cmdline, "qatbench").flatten();
    let Some((batches, size)) = text.and_then(plan) else {
        println!("qatbench: expected qatbench=<batches>:<size> (size 1..=1023)");
        return ExitCode::Failure;
    };
    match bench(batches, size) {
        Ok(doorbells) => {
            // The driver polls the response ring, so it can see the last
            // responses before their MSI-X message lands: give the
            // interrupts a bounded moment to arrive before counting them.
            KernelHal::new().wait_until(MSI_SETTLE_MS, &mut || msi::count() >= doorbells);
            println!(
                "qatbench: {batches} batches of {size} AES-128-CBC requests of {PAYLOAD} bytes, {doorbells} doorbells, {} MSI-X interrupts",
                msi::count()
            );
            ExitCode::Success
        }
        Err(e) => {
            println!("qatbench: {e}");
            ExitCode::Failure
        }
    }
}

fn bench(batches: u32, size: usize) -> Result<u64, QatError> {
    let Some(device) = pci::qat_devices().next() else {
        return Err(QatError::Unsupported("no QAT device"));
    };
    let qat = Qat::probe(KernelHal::new(), device, Some(msi::target()))?;
    let slots = (size + 1).next_power_of_two().max(4);
    let mut ring = qat.ring_pair(1, slots, SCRATCH)?;
    let reqs = requests(&ring, size)?;
    for _ in 0..batches {
        let responses = ring.run(&reqs, TIMEOUT_MS)?;
        if let Some(bad) = responses.iter().find(|r| response_status(r) != 0) {
            return Err(QatError::AdminFailed {
                ae: 0,
                cmd: bad[7],
                status: response_status(bad),
            });
        }
    }
    Ok(ring.doorbells())
}
