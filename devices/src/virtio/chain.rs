//! A descriptor chain read out of the ring once, checked, and handed to
//! the device models as plain segments: whether it ended properly (no loop,
//! no unreadable descriptor, no bad indirect table), whether its
//! device-readable part comes before its device-writable part, and whether
//! each buffer lies in guest memory.

use virtio_queue::desc::split::Descriptor;
use virtio_queue::DescriptorChain;
use vm_memory::{GuestAddress, GuestMemoryBackend};

use super::device::GuestMemory;

/// One buffer of a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Guest-physical address.
    pub addr: GuestAddress,
    /// Length in bytes.
    pub len: u32,
    /// Device-writable (VIRTQ_DESC_F_WRITE).
    pub writable: bool,
    /// The whole buffer lies in guest memory.
    pub in_memory: bool,
}

/// A chain's buffers and what is wrong with it, if anything.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    /// The head index to return in the used ring.
    pub head: u16,
    /// The buffers, in chain order.
    pub segments: Vec<Segment>,
    /// The chain ended on a descriptor without NEXT. False for loops
    /// (cut off after the queue size), unreadable descriptors or invalid
    /// indirect tables, and for empty chains.
    pub complete: bool,
}

impl Chain {
    /// Reads `chain` out of guest memory.
    pub(crate) fn read(chain: DescriptorChain<&GuestMemory>, mem: &GuestMemory) -> Self {
        let head = chain.head_index();
        let mut segments = Vec::new();
        let mut ended = false;
        for desc in chain {
            ended = !desc.has_next();
            segments.push(segment(&desc, mem));
        }
        Self {
            head,
            segments,
            complete: ended,
        }
    }

    /// Whether no device-readable buffer follows a device-writable one
    /// (virtio 1.x, 2.7.4.2).
    pub(crate) fn well_ordered(&self) -> bool {
        let first_writable = self
            .segments
            .iter()
            .position(|s| s.writable)
            .unwrap_or(self.segments.len());
        self.segments
            .iter()
            .skip(first_writable)
            .all(|s| s.writable)
    }

    /// The device-readable buffers.
    pub(crate) fn readable(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(|s| !s.writable)
    }

    /// The device-writable buffers.
    pub(crate) fn writable(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(|s| s.writable)
    }
}

fn segment(desc: &Descriptor, mem: &GuestMemory) -> Segment {
    let len = desc.len();
    Segment {
        addr: desc.addr(),
        len,
        writable: desc.is_write_only(),
        in_memory: usize::try_from(len)
            .is_ok_and(|l| GuestMemoryBackend::check_range(mem, desc.addr(), l)),
    }
}

/// Puts a finished chain in the used ring with `len` bytes written.
/// A head the ring cannot hold (index past the queue size) is skipped;
/// a used ring the device cannot write is an unrecoverable error.
pub(crate) fn complete(
    queue: &mut virtio_queue::Queue,
    mem: &GuestMemory,
    chain: &Chain,
    len: u32,
    index: usize,
    signals: &mut super::Signals,
) {
    use virtio_queue::QueueT;
    if chain.head >= queue.size() {
        return;
    }
    match queue.add_used(mem, chain.head, len) {
        Ok(()) => signals.used(index),
        Err(_) => signals.needs_reset(),
    }
}
