//! A split virtqueue (virtio 1.x, 2.7): descriptor table, available ring
//! and used ring in one zeroed DMA allocation, plus the driver's shadow
//! state (free descriptor list, chain lengths, ring indices).
//!
//! Layout for `size` entries: descriptors (16 bytes each) at 0, the
//! available ring (flags, idx, ring, used_event) right after, the used ring
//! (flags, idx, {id, len} ring, avail_event) at the next 4-byte boundary.

use alloc::vec;
use alloc::vec::Vec;

use super::error::VirtioError;
use crate::hal::{Hal, Mmio};

/// Descriptor flag: the chain continues at `next`.
const DESC_F_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer.
const DESC_F_WRITE: u16 = 2;
/// Bytes per descriptor.
const DESC_SIZE: u64 = 16;

/// One buffer of a request: device-readable or device-writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffer {
    /// Physical address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u32,
    /// The device writes it (otherwise it only reads it).
    pub writable: bool,
}

impl Buffer {
    /// A buffer the device reads.
    pub fn readable(addr: u64, len: u32) -> Self {
        Self {
            addr,
            len,
            writable: false,
        }
    }

    /// A buffer the device writes.
    pub fn writable(addr: u64, len: u32) -> Self {
        Self {
            addr,
            len,
            writable: true,
        }
    }
}

/// Where each part of a queue of `size` entries starts, from the base.
fn layout(size: u16) -> (u64, u64, u64) {
    let avail = DESC_SIZE * u64::from(size);
    let used = (avail + 6 + 2 * u64::from(size)).next_multiple_of(4);
    let total = used + 6 + 8 * u64::from(size);
    (avail, used, total)
}

/// A split virtqueue the driver owns.
#[derive(Debug)]
pub struct VirtQueue {
    index: u16,
    size: u16,
    desc: u64,
    avail: u64,
    used: u64,
    notify: Mmio,
    /// Shadow of each descriptor's `next` field (the free list links too).
    next: Vec<u16>,
    /// Descriptors in the chain starting at each head (0: not in flight).
    chain_len: Vec<u16>,
    free_head: u16,
    num_free: u16,
    avail_idx: u16,
    last_used: u16,
}

impl VirtQueue {
    /// Bytes of DMA memory a queue of `size` entries needs.
    pub fn memory_size(size: u16) -> usize {
        layout(size).2 as usize
    }

    /// A queue of `size` (a power of two) entries whose rings live at
    /// `base` (zeroed, [`VirtQueue::memory_size`] bytes); notifications go
    /// to `notify` as a 16-bit write of `index`.
    pub fn new(index: u16, size: u16, base: u64, notify: Mmio) -> Self {
        let (avail, used, _) = layout(size);
        Self {
            index,
            size,
            desc: base,
            avail: base + avail,
            used: base + used,
            notify,
            next: (1..=size).collect(),
            chain_len: vec![0; usize::from(size)],
            free_head: 0,
            num_free: size,
            avail_idx: 0,
            last_used: 0,
        }
    }

    /// The queue's index on its device.
    pub fn index(&self) -> u16 {
        self.index
    }

    /// Number of entries.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Physical addresses of the descriptor table, available and used rings.
    pub fn addresses(&self) -> (u64, u64, u64) {
        (self.desc, self.avail, self.used)
    }

    /// Free descriptors.
    pub fn num_free(&self) -> u16 {
        self.num_free
    }

    /// Makes the chain `buffers` available to the device (without
    /// notifying it); returns the head descriptor's index.
    pub fn add<H: Hal>(&mut self, hal: &H, buffers: &[Buffer]) -> Result<u16, VirtioError> {
        let count = u16::try_from(buffers.len()).map_err(|_| VirtioError::QueueFull)?;
        if count == 0 || count > self.num_free {
            return Err(VirtioError::QueueFull);
        }
        let head = self.free_head;
        let mut index = head;
        for (i, buffer) in buffers.iter().enumerate() {
            let last = i + 1 == buffers.len();
            let next = self.next[usize::from(index)];
            let flags =
                if last { 0 } else { DESC_F_NEXT } | if buffer.writable { DESC_F_WRITE } else { 0 };
            let mut desc = [0u8; DESC_SIZE as usize];
            desc[..8].copy_from_slice(&buffer.addr.to_le_bytes());
            desc[8..12].copy_from_slice(&buffer.len.to_le_bytes());
            desc[12..14].copy_from_slice(&flags.to_le_bytes());
            desc[14..].copy_from_slice(&(if last { 0 } else { next }).to_le_bytes());
            hal.dma_write(self.desc + DESC_SIZE * u64::from(index), &desc);
            if last {
                self.free_head = next;
            } else {
                index = next;
            }
        }
        self.num_free -= count;
        self.chain_len[usize::from(head)] = count;
        let slot = u64::from(self.avail_idx % self.size);
        hal.dma_store(self.avail + 4 + 2 * slot, head);
        self.avail_idx = self.avail_idx.wrapping_add(1);
        hal.dma_store(self.avail + 2, self.avail_idx);
        Ok(head)
    }

    /// Tells the device new buffers are available.
    pub fn notify<H: Hal>(&self, hal: &H) {
        self.notify.write(hal, 0, self.index);
    }

    /// Whether the device has used a chain not yet popped.
    pub fn has_used<H: Hal>(&self, hal: &H) -> bool {
        hal.dma_load::<u16>(self.used + 2) != self.last_used
    }

    /// Takes the next used chain: its head and the bytes the device
    /// wrote; its descriptors become free.
    pub fn pop_used<H: Hal>(&mut self, hal: &H) -> Result<Option<(u16, u32)>, VirtioError> {
        if !self.has_used(hal) {
            return Ok(None);
        }
        let slot = self.used + 4 + 8 * u64::from(self.last_used % self.size);
        let id: u32 = hal.dma_load(slot);
        let len: u32 = hal.dma_load(slot + 4);
        let head = u16::try_from(id)
            .ok()
            .filter(|&h| h < self.size && self.chain_len[usize::from(h)] != 0)
            .ok_or(VirtioError::BadUsedEntry(id))?;
        self.last_used = self.last_used.wrapping_add(1);
        let count = core::mem::take(&mut self.chain_len[usize::from(head)]);
        let mut last = head;
        for _ in 1..count {
            last = self.next[usize::from(last)];
        }
        self.next[usize::from(last)] = self.free_head;
        self.free_head = head;
        self.num_free += count;
        Ok(Some((head, len)))
    }

    /// Waits (at most `timeout_ms`) until a used chain is there, then pops it.
    pub fn wait_used<H: Hal>(
        &mut self,
        hal: &H,
        timeout_ms: u64,
    ) -> Result<(u16, u32), VirtioError> {
        if !hal.wait_until(timeout_ms, &mut || self.has_used(hal)) {
            return Err(VirtioError::Timeout);
        }
        self.pop_used(hal)?.ok_or(VirtioError::Timeout)
    }

    /// Adds `buffers`, notifies, and waits for the device to use them;
    /// returns the bytes it wrote.
    pub fn submit_and_wait<H: Hal>(
        &mut self,
        hal: &H,
        buffers: &[Buffer],
        timeout_ms: u64,
    ) -> Result<u32, VirtioError> {
        let head = self.add(hal, buffers)?;
        self.notify(hal);
        let (used, len) = self.wait_used(hal, timeout_ms)?;
        if used != head {
            return Err(VirtioError::BadUsedEntry(u32::from(used)));
        }
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_layout_aligns_used_ring() {
        // 16 entries: 256 bytes of descriptors, avail 6 + 32 = 38 bytes
        // (ends at 294), used ring at 296, 6 + 128 bytes.
        assert_eq!(layout(16), (256, 296, 430));
        assert_eq!(VirtQueue::memory_size(256), 4096 + 518 + 2 + 6 + 2048);
    }
}
