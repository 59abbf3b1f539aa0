//! virtio-rng (virtio 1.x, 5.4): one queue of device-writable buffers the
//! device fills with bytes from the host's random source.

use virtio_queue::{Queue, QueueT};
use vm_memory::Bytes;

use super::chain::{complete, Chain};
use super::device::{DeviceType, GuestMemory, Signals, VirtioDevice};

/// Queue size the device offers.
const QUEUE_SIZE: u16 = 256;
/// Most bytes one request gets (the driver asks again for more).
const MAX_BYTES_PER_REQUEST: usize = 64 * 1024;

/// An entropy device backed by the host's `getrandom`.
#[derive(Debug)]
pub struct Rng {
    queue_sizes: [u16; 1],
}

impl Rng {
    /// A new entropy device.
    pub fn new() -> Self {
        Self {
            queue_sizes: [QUEUE_SIZE],
        }
    }

    /// Fills the chain's writable buffers; returns the bytes written.
    fn fill(chain: &Chain, mem: &GuestMemory) -> u32 {
        if !chain.complete {
            return 0;
        }
        let mut written = 0usize;
        let mut bytes = Vec::new();
        for segment in chain.writable() {
            let room = MAX_BYTES_PER_REQUEST - written;
            let len = (segment.len as usize).min(room);
            if len == 0 || !segment.in_memory {
                break;
            }
            bytes.resize(len, 0);
            if getrandom::fill(&mut bytes).is_err()
                || mem.write_slice(&bytes, segment.addr).is_err()
            {
                break;
            }
            written += len;
        }
        written as u32
    }
}

impl Default for Rng {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtioDevice for Rng {
    fn device_type(&self) -> DeviceType {
        DeviceType::Rng
    }

    fn name(&self) -> &str {
        "virtio-rng"
    }

    fn queue_max_sizes(&self) -> &[u16] {
        &self.queue_sizes
    }

    fn features(&self) -> u64 {
        0
    }

    fn process_queue(
        &mut self,
        index: usize,
        queue: &mut Queue,
        mem: &GuestMemory,
        signals: &mut Signals,
    ) {
        while let Some(descriptors) = queue.pop_descriptor_chain(mem) {
            let chain = Chain::read(descriptors, mem);
            let written = Self::fill(&chain, mem);
            complete(queue, mem, &chain, written, index, signals);
        }
    }
}
