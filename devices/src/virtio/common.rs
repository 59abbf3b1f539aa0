//! The common configuration structure (virtio 1.x, 4.1.4.3): feature
//! negotiation, device status, and the per-queue registers the driver
//! programs before it sets DRIVER_OK. Writes that need the device (a
//! reset, the activation) come back as an [`Action`] for the transport.

use virtio_queue::{Queue, QueueT};
use vm_memory::GuestAddress;

use super::interrupt::Interrupts;
use super::regs::*;

/// What a common-configuration write asks of the transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing beyond the register update.
    None,
    /// The driver wrote 0 to device_status: reset the device and queues.
    Reset,
    /// The driver set DRIVER_OK after a successful negotiation.
    Activate,
}

/// One queue's registers as the driver programs them.
#[derive(Debug, Clone, Copy)]
struct QueueRegs {
    max_size: u16,
    size: u16,
    enabled: bool,
    desc: u64,
    avail: u64,
    used: u64,
}

impl QueueRegs {
    fn new(max_size: u16) -> Self {
        Self {
            max_size,
            size: max_size,
            enabled: false,
            desc: 0,
            avail: 0,
            used: 0,
        }
    }

    /// The queue as virtio-queue models it, or None if its size or ring
    /// addresses are ones the specification forbids.
    fn build(&self) -> Option<Queue> {
        let mut queue = Queue::new(self.max_size).ok()?;
        if self.enabled {
            queue.try_set_size(self.size).ok()?;
            queue
                .try_set_desc_table_address(GuestAddress(self.desc))
                .ok()?;
            queue
                .try_set_avail_ring_address(GuestAddress(self.avail))
                .ok()?;
            queue
                .try_set_used_ring_address(GuestAddress(self.used))
                .ok()?;
            queue.set_ready(true);
        }
        Some(queue)
    }
}

/// The common configuration registers of one function.
#[derive(Debug)]
pub(crate) struct CommonConfig {
    device_features: u64,
    device_feature_select: u32,
    driver_feature_select: u32,
    driver_features: u64,
    status: u8,
    queue_select: u16,
    queues: Vec<QueueRegs>,
}

/// Replaces the `half` (0 low, 1 high) 32-bit half of `field`.
fn set_half(field: &mut u64, half: u32, value: u32) {
    let shift = 32 * u64::from(half & 1);
    *field = (*field & !(0xffff_ffff << shift)) | (u64::from(value) << shift);
}

/// The 32-bit half of `value` that a select register chooses (0 past the top).
fn half_of(value: u64, select: u32) -> u32 {
    match select {
        0 => value as u32,
        1 => (value >> 32) as u32,
        _ => 0,
    }
}

impl CommonConfig {
    /// Registers for a device offering `device_features` with queues of
    /// these maximum sizes.
    pub(crate) fn new(device_features: u64, queue_max_sizes: &[u16]) -> Self {
        Self {
            device_features,
            device_feature_select: 0,
            driver_feature_select: 0,
            driver_features: 0,
            status: 0,
            queue_select: 0,
            queues: queue_max_sizes.iter().map(|&m| QueueRegs::new(m)).collect(),
        }
    }

    /// The device status (without the device's own NEEDS_RESET bit).
    pub(crate) fn status(&self) -> u8 {
        self.status
    }

    /// The features the driver acknowledged.
    pub(crate) fn driver_features(&self) -> u64 {
        self.driver_features
    }

    /// Back to the power-on state (after the driver wrote 0 to the status).
    pub(crate) fn reset(&mut self) {
        let sizes: Vec<u16> = self.queues.iter().map(|q| q.max_size).collect();
        *self = Self::new(self.device_features, &sizes);
    }

    /// The queues as programmed, for activation; None if an enabled queue
    /// has a size or alignment the specification forbids.
    pub(crate) fn build_queues(&self) -> Option<Vec<Queue>> {
        self.queues.iter().map(QueueRegs::build).collect()
    }

    fn selected(&self) -> Option<&QueueRegs> {
        self.queues.get(usize::from(self.queue_select))
    }

    /// The selected queue, if the driver may still change it: it exists,
    /// is not enabled, and the device is not running.
    fn selected_writable(&mut self) -> Option<&mut QueueRegs> {
        if self.status & STATUS_DRIVER_OK != 0 {
            return None;
        }
        self.queues
            .get_mut(usize::from(self.queue_select))
            .filter(|q| !q.enabled)
    }

    /// The structure's current bytes (queue fields for the selected queue).
    fn snapshot(&self, irq: &Interrupts) -> [u8; COMMON_CFG_LEN as usize] {
        let mut b = [0u8; COMMON_CFG_LEN as usize];
        let mut put = |offset: u64, bytes: &[u8]| {
            let at = offset as usize;
            b[at..at + bytes.len()].copy_from_slice(bytes);
        };
        put(COMMON_DFSELECT, &self.device_feature_select.to_le_bytes());
        let offered = half_of(self.device_features, self.device_feature_select);
        put(COMMON_DF, &offered.to_le_bytes());
        put(COMMON_GFSELECT, &self.driver_feature_select.to_le_bytes());
        let acked = half_of(self.driver_features, self.driver_feature_select);
        put(COMMON_GF, &acked.to_le_bytes());
        put(COMMON_MSIX, &irq.config_vector().to_le_bytes());
        put(COMMON_NUMQ, &(self.queues.len() as u16).to_le_bytes());
        let needs_reset = if irq.needs_reset() {
            STATUS_DEVICE_NEEDS_RESET
        } else {
            0
        };
        put(COMMON_STATUS, &[self.status | needs_reset]);
        put(COMMON_CFGGENERATION, &[irq.generation()]);
        put(COMMON_Q_SELECT, &self.queue_select.to_le_bytes());
        let index = usize::from(self.queue_select);
        put(COMMON_Q_MSIX, &irq.queue_vector(index).to_le_bytes());
        if let Some(q) = self.selected() {
            put(COMMON_Q_SIZE, &q.size.to_le_bytes());
            put(COMMON_Q_ENABLE, &u16::from(q.enabled).to_le_bytes());
            put(COMMON_Q_NOFF, &self.queue_select.to_le_bytes());
            put(COMMON_Q_DESC, &q.desc.to_le_bytes());
            put(COMMON_Q_AVAIL, &q.avail.to_le_bytes());
            put(COMMON_Q_USED, &q.used.to_le_bytes());
        }
        b
    }

    /// A read at `offset` of any width; bytes past the structure read 0.
    pub(crate) fn read(&self, irq: &Interrupts, offset: u64, data: &mut [u8]) {
        let snapshot = self.snapshot(irq);
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = offset
                .checked_add(i as u64)
                .and_then(|o| usize::try_from(o).ok())
                .and_then(|o| snapshot.get(o).copied())
                .unwrap_or(0);
        }
    }

    /// A write at `offset`. Only accesses of a field's own width (or
    /// either 32-bit half of a 64-bit field) take effect.
    pub(crate) fn write(&mut self, irq: &Interrupts, offset: u64, data: &[u8]) -> Action {
        let value = match *data {
            [a] => u64::from(a),
            [a, b] => u64::from(u16::from_le_bytes([a, b])),
            [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d])),
            [a, b, c, d, e, f, g, h] => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
            _ => return Action::None,
        };
        let (v16, v32) = (value as u16, value as u32);
        match (offset, data.len()) {
            (COMMON_DFSELECT, 4) => self.device_feature_select = v32,
            (COMMON_GFSELECT, 4) => self.driver_feature_select = v32,
            (COMMON_GF, 4)
                if self.status & STATUS_FEATURES_OK == 0 && self.driver_feature_select < 2 =>
            {
                set_half(&mut self.driver_features, self.driver_feature_select, v32);
            }
            (COMMON_MSIX, 2) => irq.set_config_vector(v16),
            (COMMON_STATUS, 1) => return self.write_status(value as u8),
            (COMMON_Q_SELECT, 2) => self.queue_select = v16,
            (COMMON_Q_SIZE, 2) => {
                if let Some(q) = self.selected_writable() {
                    if v16.is_power_of_two() && v16 <= q.max_size {
                        q.size = v16;
                    }
                }
            }
            (COMMON_Q_MSIX, 2) => irq.set_queue_vector(usize::from(self.queue_select), v16),
            (COMMON_Q_ENABLE, 2) => {
                if let Some(q) = self.selected_writable() {
                    q.enabled = v16 == 1;
                }
            }
            (COMMON_Q_DESC..=0x37, 4 | 8) => self.write_address(offset, data.len(), value),
            _ => {}
        }
        Action::None
    }

    /// A write to one of the ring address fields (or a 32-bit half of one).
    fn write_address(&mut self, offset: u64, len: usize, value: u64) {
        let Some(q) = self.selected_writable() else {
            return;
        };
        let field = match (offset - COMMON_Q_DESC) / 8 {
            0 => &mut q.desc,
            1 => &mut q.avail,
            _ => &mut q.used,
        };
        match (offset % 8, len) {
            (0, 8) => *field = value,
            (0, 4) => set_half(field, 0, value as u32),
            (4, 4) => set_half(field, 1, value as u32),
            _ => {}
        }
    }

    /// Whether the driver's features are a subset of the offer that
    /// includes VIRTIO_F_VERSION_1 (this transport is modern only).
    fn features_acceptable(&self) -> bool {
        self.driver_features & !self.device_features == 0
            && self.driver_features & (1 << VIRTIO_F_VERSION_1) != 0
    }

    fn write_status(&mut self, value: u8) -> Action {
        if value == 0 {
            return Action::Reset;
        }
        // The driver only ever adds bits; the device refuses FEATURES_OK
        // after a bad negotiation and DRIVER_OK without FEATURES_OK.
        let old = self.status;
        let mut new = old | (value & !STATUS_DEVICE_NEEDS_RESET);
        let added = new & !old;
        if added & STATUS_FEATURES_OK != 0 && !self.features_acceptable() {
            new &= !STATUS_FEATURES_OK;
        }
        let mut action = Action::None;
        if added & STATUS_DRIVER_OK != 0 {
            if new & STATUS_FEATURES_OK != 0 && new & STATUS_FAILED == 0 {
                action = Action::Activate;
            } else {
                new &= !STATUS_DRIVER_OK;
            }
        }
        self.status = new;
        action
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::pci::{MsiMessage, MsiSink};

    struct NoSink;
    impl MsiSink for NoSink {
        fn send(&self, _: u16, _: MsiMessage) {}
    }

    fn setup() -> (CommonConfig, Interrupts) {
        let features = (1 << VIRTIO_F_VERSION_1) | 0b101;
        (
            CommonConfig::new(features, &[256, 64]),
            Interrupts::new(2, Arc::new(NoSink)),
        )
    }

    fn read(c: &CommonConfig, irq: &Interrupts, offset: u64, len: usize) -> u64 {
        let mut b = [0u8; 8];
        c.read(irq, offset, &mut b[..len]);
        u64::from_le_bytes(b)
    }

    #[test]
    fn test_device_features_read_by_halves() {
        let (mut c, irq) = setup();
        assert_eq!(read(&c, &irq, COMMON_DF, 4), 0b101);
        c.write(&irq, COMMON_DFSELECT, &1u32.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_DF, 4), 1);
        c.write(&irq, COMMON_DFSELECT, &7u32.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_DF, 4), 0);
    }

    #[test]
    fn test_features_ok_refused_for_unoffered_bit() {
        let (mut c, irq) = setup();
        c.write(&irq, COMMON_GF, &0b110u32.to_le_bytes());
        c.write(&irq, COMMON_GFSELECT, &1u32.to_le_bytes());
        c.write(&irq, COMMON_GF, &1u32.to_le_bytes());
        assert_eq!(
            c.write(&irq, COMMON_STATUS, &[STATUS_FEATURES_OK]),
            Action::None
        );
        assert_eq!(read(&c, &irq, COMMON_STATUS, 1), 0);
    }

    #[test]
    fn test_features_ok_refused_without_version_1() {
        let (mut c, irq) = setup();
        c.write(&irq, COMMON_GF, &0b1u32.to_le_bytes());
        c.write(&irq, COMMON_STATUS, &[STATUS_FEATURES_OK]);
        assert_eq!(read(&c, &irq, COMMON_STATUS, 1), 0);
        let action = c.write(
            &irq,
            COMMON_STATUS,
            &[STATUS_FEATURES_OK | STATUS_DRIVER_OK],
        );
        assert_eq!(action, Action::None, "no DRIVER_OK without FEATURES_OK");
        assert_eq!(read(&c, &irq, COMMON_STATUS, 1), 0);
    }

    #[test]
    fn test_good_negotiation_activates_once() {
        let (mut c, irq) = setup();
        c.write(&irq, COMMON_GF, &0b100u32.to_le_bytes());
        c.write(&irq, COMMON_GFSELECT, &1u32.to_le_bytes());
        c.write(&irq, COMMON_GF, &1u32.to_le_bytes());
        c.write(&irq, COMMON_STATUS, &[STATUS_FEATURES_OK]);
        assert_eq!(read(&c, &irq, COMMON_STATUS, 1), 8);
        assert_eq!(c.driver_features(), (1 << 32) | 0b100);
        c.write(&irq, COMMON_GF, &0u32.to_le_bytes());
        assert_eq!(
            c.driver_features(),
            (1 << 32) | 0b100,
            "frozen after FEATURES_OK"
        );
        let action = c.write(
            &irq,
            COMMON_STATUS,
            &[STATUS_FEATURES_OK | STATUS_DRIVER_OK],
        );
        assert_eq!(action, Action::Activate);
        let again = c.write(
            &irq,
            COMMON_STATUS,
            &[STATUS_FEATURES_OK | STATUS_DRIVER_OK],
        );
        assert_eq!(again, Action::None);
        assert_eq!(c.write(&irq, COMMON_STATUS, &[0]), Action::Reset);
    }

    #[test]
    fn test_queue_registers_follow_select_and_validate_size() {
        let (mut c, irq) = setup();
        c.write(&irq, COMMON_Q_SELECT, &1u16.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_Q_SIZE, 2), 64);
        assert_eq!(read(&c, &irq, COMMON_Q_NOFF, 2), 1);
        c.write(&irq, COMMON_Q_SIZE, &100u16.to_le_bytes());
        c.write(&irq, COMMON_Q_SIZE, &128u16.to_le_bytes());
        assert_eq!(
            read(&c, &irq, COMMON_Q_SIZE, 2),
            64,
            "not a power of two / too big"
        );
        c.write(&irq, COMMON_Q_SIZE, &16u16.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_Q_SIZE, 2), 16);
        c.write(&irq, COMMON_Q_DESC, &0x1000u32.to_le_bytes());
        c.write(&irq, COMMON_Q_DESC + 4, &0x2u32.to_le_bytes());
        c.write(&irq, COMMON_Q_USED, &0x3000_0000_4000u64.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_Q_DESC, 8), 0x2_0000_1000);
        assert_eq!(read(&c, &irq, COMMON_Q_USED, 8), 0x3000_0000_4000);
        c.write(&irq, COMMON_Q_SELECT, &9u16.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_Q_SIZE, 2), 0, "no such queue");
        assert_eq!(read(&c, &irq, COMMON_NUMQ, 2), 2);
    }

    #[test]
    fn test_vectors_beyond_table_read_back_as_no_vector() {
        let (mut c, irq) = setup();
        c.write(&irq, COMMON_MSIX, &2u16.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_MSIX, 2), 2);
        c.write(&irq, COMMON_MSIX, &3u16.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_MSIX, 2), u64::from(NO_VECTOR));
        c.write(&irq, COMMON_Q_MSIX, &1u16.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_Q_MSIX, 2), 1);
        c.write(&irq, COMMON_Q_MSIX, &NO_VECTOR.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_Q_MSIX, 2), u64::from(NO_VECTOR));
    }

    #[test]
    fn test_enabled_queue_is_frozen_and_builds() {
        let (mut c, irq) = setup();
        c.write(&irq, COMMON_Q_SIZE, &128u16.to_le_bytes());
        c.write(&irq, COMMON_Q_DESC, &0x1000u64.to_le_bytes());
        c.write(&irq, COMMON_Q_AVAIL, &0x2000u64.to_le_bytes());
        c.write(&irq, COMMON_Q_USED, &0x3000u64.to_le_bytes());
        c.write(&irq, COMMON_Q_ENABLE, &1u16.to_le_bytes());
        c.write(&irq, COMMON_Q_SIZE, &32u16.to_le_bytes());
        assert_eq!(read(&c, &irq, COMMON_Q_SIZE, 2), 128);
        let queues = c.build_queues().expect("valid");
        assert!(queues[0].ready() && !queues[1].ready());
        assert_eq!(queues[0].size(), 128);
    }

    #[test]
    fn test_misaligned_ring_fails_to_build() {
        let (mut c, irq) = setup();
        c.write(&irq, COMMON_Q_DESC, &0x1001u64.to_le_bytes());
        c.write(&irq, COMMON_Q_ENABLE, &1u16.to_le_bytes());
        assert!(c.build_queues().is_none());
    }
}
