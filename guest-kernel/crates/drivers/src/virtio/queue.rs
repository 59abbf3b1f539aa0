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
    use core::cell::RefCell;

    use super::*;
    use crate::hal::{Bdf, HalError, Register};

    /// DMA memory in a vector; notifications counted.
    struct Memory {
        bytes: RefCell<Vec<u8>>,
        notified: RefCell<Vec<u16>>,
    }

    impl Memory {
        fn new(size: usize) -> Self {
            Self {
                bytes: RefCell::new(vec![0; size]),
                notified: RefCell::new(Vec::new()),
            }
        }

        fn u16_at(&self, at: u64) -> u16 {
            self.dma_load(at)
        }
    }

    impl Hal for Memory {
        fn map_mmio(&self, paddr: u64, _len: u64) -> Result<u64, HalError> {
            Ok(paddr)
        }
        fn mmio_read<T: Register>(&self, _addr: u64) -> T {
            T::from_u64(0)
        }
        fn mmio_write<T: Register>(&self, _addr: u64, value: T) {
            self.notified.borrow_mut().push(value.to_u64() as u16);
        }
        fn config_read<T: Register>(&self, _bdf: Bdf, _offset: u16) -> T {
            T::from_u64(u64::MAX)
        }
        fn config_write<T: Register>(&self, _bdf: Bdf, _offset: u16, _value: T) {}
        fn dma_alloc(&self, size: usize) -> Result<u64, HalError> {
            Err(HalError::OutOfMemory(size))
        }
        fn dma_read(&self, paddr: u64, buf: &mut [u8]) {
            let at = paddr as usize;
            buf.copy_from_slice(&self.bytes.borrow()[at..at + buf.len()]);
        }
        fn dma_write(&self, paddr: u64, data: &[u8]) {
            let at = paddr as usize;
            self.bytes.borrow_mut()[at..at + data.len()].copy_from_slice(data);
        }
        fn dma_load<T: Register>(&self, paddr: u64) -> T {
            let mut bytes = [0u8; 8];
            self.dma_read(paddr, &mut bytes[..T::SIZE]);
            T::from_u64(u64::from_le_bytes(bytes))
        }
        fn dma_store<T: Register>(&self, paddr: u64, value: T) {
            self.dma_write(paddr, &value.to_u64().to_le_bytes()[..T::SIZE]);
        }
        fn portal_write(&self, _addr: u64, _data: &[u8; 64]) {}
        fn wait_until(&self, _timeout_ms: u64, done: &mut dyn FnMut() -> bool) -> bool {
            done()
        }
    }

    /// Plays the device: takes the next available head and returns the
    /// descriptors of its chain (address, len, flags).
    fn take_available(mem: &Memory, q: &VirtQueue, seen: &mut u16) -> (u16, Vec<(u64, u32, u16)>) {
        let slot = u64::from(*seen % q.size);
        let head = mem.u16_at(q.avail + 4 + 2 * slot);
        *seen += 1;
        let mut chain = Vec::new();
        let mut index = head;
        loop {
            let mut desc = [0u8; 16];
            mem.dma_read(q.desc + 16 * u64::from(index), &mut desc);
            let addr = u64::from_le_bytes(desc[..8].try_into().unwrap());
            let len = u32::from_le_bytes(desc[8..12].try_into().unwrap());
            let flags = u16::from_le_bytes(desc[12..14].try_into().unwrap());
            chain.push((addr, len, flags));
            if flags & DESC_F_NEXT == 0 {
                break;
            }
            index = u16::from_le_bytes(desc[14..].try_into().unwrap());
        }
        (head, chain)
    }

    /// Plays the device: puts `head` in the used ring with `len`.
    fn give_used(mem: &Memory, q: &VirtQueue, used: &mut u16, head: u16, len: u32) {
        let slot = q.used + 4 + 8 * u64::from(*used % q.size);
        mem.dma_store(slot, u32::from(head));
        mem.dma_store(slot + 4, len);
        *used = used.wrapping_add(1);
        mem.dma_store(q.used + 2, *used);
    }

    #[test]
    fn test_layout_aligns_used_ring() {
        // 16 entries: 256 bytes of descriptors, avail 6 + 32 = 38 bytes
        // (ends at 294), used ring at 296, 6 + 128 bytes.
        assert_eq!(layout(16), (256, 296, 430));
        assert_eq!(VirtQueue::memory_size(256), 4096 + 518 + 2 + 6 + 2048);
    }

    #[test]
    fn test_chains_carry_flags_and_publish_avail_index() {
        let mem = Memory::new(4096);
        let notify = Mmio::map(&mem, 0x9000, 2).unwrap();
        let mut q = VirtQueue::new(3, 4, 0, notify);
        let head = q
            .add(
                &mem,
                &[Buffer::readable(0x100, 16), Buffer::writable(0x200, 1)],
            )
            .unwrap();
        assert_eq!(mem.u16_at(q.avail + 2), 1, "avail idx published");
        let mut seen = 0;
        let (got, chain) = take_available(&mem, &q, &mut seen);
        assert_eq!(got, head);
        assert_eq!(chain, [(0x100, 16, DESC_F_NEXT), (0x200, 1, DESC_F_WRITE)]);
        q.notify(&mem);
        assert_eq!(*mem.notified.borrow(), [3]);
        assert!(!q.has_used(&mem));
        assert_eq!(q.pop_used(&mem), Ok(None));
    }

    #[test]
    fn test_out_of_order_completions_recycle_every_descriptor() {
        let mem = Memory::new(4096);
        let notify = Mmio::map(&mem, 0x9000, 2).unwrap();
        let mut q = VirtQueue::new(0, 8, 0, notify);
        let (mut seen, mut used) = (0u16, 0u16);
        // Many rounds of three chains of 1, 2 and 3 descriptors (6 of 8),
        // completed in reverse order.
        for round in 0..50u32 {
            let mut heads = Vec::new();
            for n in 1..=3u32 {
                let buffers: Vec<_> = (0..n)
                    .map(|i| Buffer::writable(u64::from(round * 16 + i), n))
                    .collect();
                heads.push(q.add(&mem, &buffers).unwrap());
            }
            assert_eq!(q.num_free(), 2);
            assert_eq!(
                q.add(&mem, &[Buffer::readable(0, 1); 3]),
                Err(VirtioError::QueueFull)
            );
            let mut taken = Vec::new();
            for _ in 0..3 {
                taken.push(take_available(&mem, &q, &mut seen));
            }
            for (head, chain) in taken.iter().rev() {
                give_used(&mem, &q, &mut used, *head, chain.len() as u32);
            }
            for (head, chain) in taken.iter().rev() {
                assert_eq!(q.pop_used(&mem), Ok(Some((*head, chain.len() as u32))));
            }
            assert_eq!(q.num_free(), 8, "round {round}");
        }
    }

    #[test]
    fn test_unknown_used_id_is_an_error() {
        let mem = Memory::new(4096);
        let notify = Mmio::map(&mem, 0x9000, 2).unwrap();
        let mut q = VirtQueue::new(0, 4, 0, notify);
        let mut used = 0;
        give_used(&mem, &q, &mut used, 2, 0);
        assert_eq!(q.pop_used(&mem), Err(VirtioError::BadUsedEntry(2)));
        give_used(&mem, &q, &mut used, 9, 0);
        assert_eq!(q.wait_used(&mem, 0), Err(VirtioError::BadUsedEntry(2)));
    }
}
