//! What a virtio device model implements to sit behind a transport: its
//! identity, queues, features and configuration, and the processing of
//! its queues. The transport ([`VirtioPci`](super::VirtioPci)) owns the
//! registers, the notifications and the interrupts.

use std::os::fd::RawFd;

use thiserror::Error;
use virtio_queue::Queue;
use vm_memory::GuestMemoryMmap;

/// The guest memory every model works on (the VMM's type).
pub type GuestMemory = GuestMemoryMmap<()>;

/// Virtio device types (virtio 1.x, section 5) this project models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceType {
    /// Network card.
    Net = 1,
    /// Block device.
    Block = 2,
    /// Entropy source.
    Rng = 4,
}

impl DeviceType {
    /// The PCI class code (base class, subclass, interface) Linux and QEMU
    /// use for the device.
    pub fn pci_class(self) -> u32 {
        match self {
            DeviceType::Net => 0x02_00_00,
            DeviceType::Block => 0x01_80_00,
            DeviceType::Rng => 0x00_ff_00,
        }
    }
}

/// Why a device refuses to start.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ActivateError {
    /// The negotiated features are ones the device cannot run with.
    #[error("unsupported feature combination {0:#x}")]
    Features(u64),
    /// The device's backend is not usable.
    #[error("backend unavailable: {0}")]
    Backend(String),
}

/// What a device reports back from queue processing: which queues got
/// used buffers (the transport then interrupts the driver), whether its
/// configuration changed, and whether it needs a reset.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Signals {
    used: u64,
    config_changed: bool,
    needs_reset: bool,
}

impl Signals {
    /// Queue `index` has new used buffers (indexes past 63 are ignored:
    /// no device here has that many queues).
    pub fn used(&mut self, index: usize) {
        if index < 64 {
            self.used |= 1 << index;
        }
    }

    /// The device configuration changed (the driver gets a config interrupt).
    pub fn config_changed(&mut self) {
        self.config_changed = true;
    }

    /// The device hit an error it cannot recover from (the driver sees
    /// DEVICE_NEEDS_RESET in the status register).
    pub fn needs_reset(&mut self) {
        self.needs_reset = true;
    }

    /// Queues with used buffers, in index order.
    pub fn used_queues(&self) -> impl Iterator<Item = usize> + '_ {
        (0..64).filter(move |i| self.used & (1 << i) != 0)
    }

    /// Whether [`config_changed`](Self::config_changed) was called.
    pub fn is_config_changed(&self) -> bool {
        self.config_changed
    }

    /// Whether [`needs_reset`](Self::needs_reset) was called.
    pub fn is_needs_reset(&self) -> bool {
        self.needs_reset
    }
}

/// Copies the bytes of `config` at `offset` into `data`; bytes past its
/// end read as zero (how a device-configuration read beyond the fields a
/// device defines answers).
pub fn read_config_bytes(config: &[u8], offset: u64, data: &mut [u8]) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte = offset
            .checked_add(i as u64)
            .and_then(|o| usize::try_from(o).ok())
            .and_then(|o| config.get(o).copied())
            .unwrap_or(0);
    }
}

/// A virtio device model. All methods run on the event-manager thread
/// (queue work) or, briefly, on a vCPU thread (configuration access,
/// activation and reset); none may block for long except queue work.
pub trait VirtioDevice: Send + 'static {
    /// The device type.
    fn device_type(&self) -> DeviceType;

    /// A short name for traces and logs (e.g. `virtio-blk`).
    fn name(&self) -> &str;

    /// The maximum size of each queue (powers of two, 1 to 32768); the
    /// number of entries is the number of queues.
    fn queue_max_sizes(&self) -> &[u16];

    /// The device's feature bits; the transport adds VIRTIO_F_VERSION_1.
    fn features(&self) -> u64;

    /// Bytes of device-specific configuration (0: none, and no device
    /// configuration capability is exposed).
    fn config_len(&self) -> u32 {
        0
    }

    /// A read of the device configuration at `offset`; bytes outside it
    /// read as zero.
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let _ = offset;
        data.fill(0);
    }

    /// A write to the device configuration at `offset` (ignored by default).
    fn write_config(&mut self, offset: u64, data: &[u8]) {
        let _ = (offset, data);
    }

    /// The driver set DRIVER_OK with these negotiated features; queues
    /// will be processed from now on.
    fn activate(&mut self, features: u64) -> Result<(), ActivateError> {
        let _ = features;
        Ok(())
    }

    /// The driver reset the device: forget negotiated state. The transport
    /// resets the queues itself.
    fn reset(&mut self) {}

    /// The driver notified queue `index`: consume what it made available,
    /// put the results in the used ring and report through `signals`.
    /// Must never panic on what the guest wrote.
    fn process_queue(
        &mut self,
        index: usize,
        queue: &mut Queue,
        mem: &GuestMemory,
        signals: &mut Signals,
    );

    /// Extra file descriptors to poll (a network backend's socket, say),
    /// with the device's own tokens.
    fn event_fds(&self) -> Vec<(RawFd, u32)> {
        Vec::new()
    }

    /// One of [`event_fds`](Self::event_fds) is readable; called only while
    /// the device is active. `queues` holds every queue by index.
    fn handle_event(
        &mut self,
        token: u32,
        queues: &mut [Queue],
        mem: &GuestMemory,
        signals: &mut Signals,
    ) {
        let _ = (token, queues, mem, signals);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_signals_collect_used_queues_in_order() {
        let mut s = Signals::default();
        s.used(3);
        s.used(0);
        s.used(3);
        s.used(200);
        assert_eq!(s.used_queues().collect::<Vec<_>>(), vec![0, 3]);
        assert!(!s.is_config_changed() && !s.is_needs_reset());
        s.config_changed();
        s.needs_reset();
        assert!(s.is_config_changed() && s.is_needs_reset());
    }

    #[test]
    fn test_class_codes_are_the_ones_linux_expects() {
        assert_eq!(DeviceType::Block.pci_class(), 0x018000);
        assert_eq!(DeviceType::Net.pci_class(), 0x020000);
        assert_eq!(DeviceType::Rng.pci_class(), 0x00ff00);
    }
}
