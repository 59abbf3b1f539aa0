//! virtio-rng (virtio 1.x, 5.4): one request queue of device-writable
//! buffers the device fills with entropy.

use super::error::VirtioError;
use super::queue::{Buffer, VirtQueue};
use super::transport::VirtioPci;
use super::DEVICE_TYPE_RNG;
use crate::hal::Hal;
use crate::pci::{MsiTarget, PciDevice};

/// Bytes asked for per request at most.
const CHUNK: usize = 256;
/// Entries in the request queue.
const QUEUE_SIZE: u16 = 4;
/// How long one request may take.
const TIMEOUT_MS: u64 = 5000;

/// A virtio entropy device.
#[derive(Debug)]
pub struct VirtioRng<H: Hal> {
    hal: H,
    transport: VirtioPci,
    queue: VirtQueue,
    buffer: u64,
}

impl<H: Hal> VirtioRng<H> {
    /// Initialises the entropy device `device`; completions interrupt
    /// `msi` through MSI-X entry 0 (or are only polled for).
    pub fn new(hal: H, device: &PciDevice, msi: Option<MsiTarget>) -> Result<Self, VirtioError> {
        let transport = VirtioPci::new(&hal, device, DEVICE_TYPE_RNG)?;
        transport.negotiate(&hal, 0)?;
        let setup = (|| {
            let vector = match msi {
                Some(target) => transport.enable_msix(&hal, target).map(|_| Some(0))?,
                None => None,
            };
            let queue = transport.setup_queue(&hal, 0, QUEUE_SIZE, vector)?;
            let buffer = hal.dma_alloc(CHUNK)?;
            transport.driver_ok(&hal)?;
            Ok::<_, VirtioError>((queue, buffer))
        })();
        let (queue, buffer) = setup.inspect_err(|_| transport.fail(&hal))?;
        Ok(Self {
            hal,
            transport,
            queue,
            buffer,
        })
    }

    /// The transport (status, MSI-X table, ...).
    pub fn transport(&self) -> &VirtioPci {
        &self.transport
    }

    /// Fills the start of `buf` with entropy (one request of at most 256
    /// bytes); returns how many bytes the device gave.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, VirtioError> {
        let want = buf.len().min(CHUNK);
        if want == 0 {
            return Ok(0);
        }
        let request = Buffer::writable(self.buffer, want as u32);
        let got = self
            .queue
            .submit_and_wait(&self.hal, &[request], TIMEOUT_MS)?;
        let got = (got as usize).min(want);
        self.hal.dma_read(self.buffer, &mut buf[..got]);
        Ok(got)
    }

    /// Fills all of `buf`, with as many requests as it takes.
    pub fn fill(&mut self, buf: &mut [u8]) -> Result<(), VirtioError> {
        let mut done = 0;
        while done < buf.len() {
            let got = self.read(&mut buf[done..])?;
            if got == 0 {
                return Err(VirtioError::Timeout);
            }
            done += got;
        }
        Ok(())
    }
}
