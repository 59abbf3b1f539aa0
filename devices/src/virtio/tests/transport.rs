use super::harness::*;
use vm_memory::{Bytes, GuestAddress};

use crate::pci::{MSIX_CAP_ID, PCIE_CAP_ID, PM_CAP_ID};
use crate::virtio::*;

const VERSION_1: u64 = 1 << VIRTIO_F_VERSION_1;

#[test]
fn test_identity_matches_virtio_pci_modern() {
    let mut d = Driver::new(Rng::new());
    assert_eq!(d.read_config(0, 4), 0x1044_1af4);
    assert_eq!(d.read_config(8, 4), 0x00ff_0001, "class 00ff00, revision 1");
    assert_eq!(d.read_config(0x2c, 4), 0x1100_1af4, "subsystem");
    assert_eq!(d.read_config(0x3d, 1), 0, "no INTx pin");
    assert_eq!(
        d.read_config(0x10, 4) & 0xf,
        0b0100,
        "64-bit non-prefetchable"
    );
    d.write_config(0x10, 0xffff_ffff, 4);
    d.write_config(0x14, 0xffff_ffff, 4);
    let size = !(d.read_config(0x10, 4) & !0xf | d.read_config(0x14, 4) << 32) + 1;
    assert_eq!(size, BAR_SIZE);
    for id in [PCIE_CAP_ID, PM_CAP_ID, MSIX_CAP_ID] {
        assert_eq!(d.caps(id).len(), 1, "capability {id:#x}");
    }
}

#[test]
fn test_virtio_caps_point_into_bar0() {
    let mut d = Driver::new(Rng::new());
    let expect = [
        (CAP_COMMON_CFG, COMMON_OFFSET, u64::from(COMMON_CFG_LEN)),
        (CAP_ISR_CFG, ISR_OFFSET, 1),
        (CAP_NOTIFY_CFG, NOTIFY_OFFSET, 4),
    ];
    for (cfg_type, offset, length) in expect {
        let cap = d.virtio_cap(cfg_type).unwrap();
        assert_eq!(d.read_config(cap + 4, 1), 0, "bar");
        assert_eq!(d.read_config(cap + 8, 4), offset);
        assert_eq!(d.read_config(cap + 12, 4), length);
    }
    let notify = d.virtio_cap(CAP_NOTIFY_CFG).unwrap();
    assert_eq!(d.read_config(notify + 2, 1), 20, "cap_len");
    assert_eq!(d.read_config(notify + 16, 4), 4, "notify_off_multiplier");
    assert!(d.virtio_cap(CAP_DEVICE_CFG).is_none(), "rng has no config");
    assert!(d.virtio_cap(CAP_PCI_CFG).is_some());
    let msix = d.caps(MSIX_CAP_ID)[0];
    assert_eq!(d.read_config(msix + 2, 2), 1, "two vectors");
    assert_eq!(d.read_config(msix + 4, 4), MSIX_TABLE_OFFSET);
    assert_eq!(d.read_config(msix + 8, 4), MSIX_PBA_OFFSET);
}

#[test]
fn test_negotiation_offers_version_1_and_refuses_unoffered_bits() {
    let mut d = Driver::new(Rng::new());
    assert_eq!(d.device_features(), VERSION_1);
    assert!(!d.negotiate(VERSION_1 | 1 << 28), "indirect not offered");
    d.set_status(0);
    assert!(!d.negotiate(0), "legacy negotiation refused");
    d.set_status(0);
    assert!(d.negotiate(VERSION_1));
}

#[test]
fn test_driver_ok_without_features_ok_does_not_start() {
    let mut d = Driver::new(Rng::new());
    d.setup_queue(0, 16);
    d.set_status(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
    assert_eq!(d.status() & STATUS_DRIVER_OK, 0);
    let buf = d.alloc(16, 0);
    d.push(0, &[(buf, 16, true)]);
    d.kick(0);
    assert!(d.used(0).is_empty());
}

#[test]
fn test_notify_only_signals_until_event_thread_runs() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let buf = d.alloc(32, 0);
    d.push(0, &[(buf, 32, true)]);
    d.notify(0);
    assert!(d.used(0).is_empty(), "nothing done on the vCPU thread");
    let (_, token) = d.dev.events()[0];
    assert_eq!(token, 0);
    d.dev.handle_event(token);
    assert_eq!(d.used(0).len(), 1);
}

#[test]
fn test_reset_clears_status_queues_and_vectors() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let buf = d.alloc(32, 0);
    d.push(0, &[(buf, 32, true)]);
    d.kick(0);
    assert_eq!(d.used(0).len(), 1);
    d.set_status(0);
    assert_eq!(d.status(), 0);
    let c = COMMON_OFFSET;
    d.write_bar(c + COMMON_Q_SELECT, 0, 2);
    assert_eq!(d.read_bar(c + COMMON_Q_ENABLE, 2), 0);
    assert_eq!(d.read_bar(c + COMMON_Q_SIZE, 2), 256);
    assert_eq!(d.read_bar(c + COMMON_Q_DESC, 8), 0);
    assert_eq!(d.read_bar(c + COMMON_Q_MSIX, 2), u64::from(NO_VECTOR));
    assert_eq!(d.read_bar(c + COMMON_MSIX, 2), u64::from(NO_VECTOR));
    // A stale kick after reset does nothing.
    d.push(0, &[(buf, 32, true)]);
    d.kick(0);
    assert!(d.used(0).is_empty());
    // The device comes back on a fresh bring-up.
    d.rings.clear();
    d.init(VERSION_1, 16);
    let head = d.push(0, &[(buf, 32, true)]);
    d.kick(0);
    assert_eq!(d.used(0), vec![(u32::from(head), 32)]);
}

#[test]
fn test_masked_vector_pends_and_fires_with_its_number_on_unmask() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    d.write_bar(MSIX_TABLE_OFFSET + 16 + 12, 1, 4);
    let buf = d.alloc(8, 0);
    d.push(0, &[(buf, 8, true)]);
    d.kick(0);
    assert_eq!(d.used(0).len(), 1);
    assert!(d.msi.take_vectors().is_empty());
    assert_eq!(d.read_bar(MSIX_PBA_OFFSET, 8), 0b10);
    d.write_bar(MSIX_TABLE_OFFSET + 16 + 12, 0, 4);
    assert_eq!(d.msi.take_vectors(), vec![1]);
    assert_eq!(d.read_bar(MSIX_PBA_OFFSET, 8), 0);
}

#[test]
fn test_function_mask_then_enable_releases_pending() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let cap = d.caps(MSIX_CAP_ID)[0];
    d.write_config(cap + 2, 0xc000, 2);
    let buf = d.alloc(8, 0);
    d.push(0, &[(buf, 8, true)]);
    d.kick(0);
    assert!(d.msi.take_vectors().is_empty());
    d.write_config(cap + 2, 0x8000, 2);
    assert_eq!(d.msi.take_vectors(), vec![1]);
}

#[test]
fn test_isr_reports_queue_interrupt_and_clears_on_read() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let buf = d.alloc(8, 0);
    d.push(0, &[(buf, 8, true)]);
    d.kick(0);
    assert_eq!(d.read_bar(ISR_OFFSET, 1), 1);
    assert_eq!(d.read_bar(ISR_OFFSET, 1), 0);
}

#[test]
fn test_pci_cfg_window_reaches_common_config() {
    let mut d = Driver::new(Rng::new());
    let cap = d.virtio_cap(CAP_PCI_CFG).unwrap();
    d.write_config(cap + 4, 0, 1);
    d.write_config(cap + 8, COMMON_OFFSET + COMMON_NUMQ, 4);
    d.write_config(cap + 12, 2, 4);
    assert_eq!(
        d.read_config(cap + 16, 2),
        1,
        "num_queues through the window"
    );
    d.write_config(cap + 8, COMMON_OFFSET + COMMON_DFSELECT, 4);
    d.write_config(cap + 12, 4, 4);
    d.write_config(cap + 16, 1, 4);
    assert_eq!(d.read_bar(COMMON_OFFSET + COMMON_DFSELECT, 4), 1);
    d.write_config(cap + 4, 3, 1);
    assert_eq!(d.read_config(cap + 16, 4), 0, "no BAR 3");
}

#[test]
fn test_queue_rings_outside_memory_set_needs_reset() {
    let mut d = Driver::new(Rng::new());
    assert!(d.negotiate(VERSION_1));
    d.enable_msix();
    d.write_bar(COMMON_OFFSET + COMMON_MSIX, 0, 2);
    let c = COMMON_OFFSET;
    d.write_bar(c + COMMON_Q_SELECT, 0, 2);
    d.write_bar(c + COMMON_Q_SIZE, 16, 2);
    d.write_bar(c + COMMON_Q_DESC, 0x1_0000, 8);
    d.write_bar(c + COMMON_Q_AVAIL, 0x1_4000, 8);
    d.write_bar(c + COMMON_Q_USED, MEM_SIZE, 8);
    d.write_bar(c + COMMON_Q_ENABLE, 1, 2);
    let ok = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK;
    d.set_status(ok | STATUS_DRIVER_OK);
    assert_ne!(d.status() & STATUS_DEVICE_NEEDS_RESET, 0);
    assert_eq!(d.msi.take_vectors(), vec![0], "config vector");
    d.set_status(0);
    assert_eq!(d.status(), 0);
}

#[test]
fn test_garbage_everywhere_never_panics() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for offset in 0..BAR_SIZE + 16 {
        for len in [1usize, 2, 4, 8] {
            let value = rng.next();
            d.write_bar(offset, value, len);
            d.read_bar(offset, len);
        }
        if offset % 64 == 0 {
            d.handle_all();
            d.dev.handle_event(DEVICE_TOKEN_BASE);
            d.dev.handle_event(u32::MAX);
        }
    }
    for offset in [u64::MAX, u64::MAX - 3, u64::MAX - 4095, 1 << 63] {
        d.write_bar(offset, u64::MAX, 8);
        d.read_bar(offset, 8);
        d.write_config(offset, u64::MAX, 4);
        d.read_config(offset, 4);
    }
    for offset in 0..4096 + 16 {
        for len in [1usize, 2, 4] {
            let value = rng.next();
            d.write_config(offset, value, len);
            d.read_config(offset, len);
        }
    }
    d.handle_all();
    // Ring memory full of garbage, device driven by random registers.
    for _ in 0..200 {
        let at = 0x1_0000 + rng.next() % 0x1_0000 / 8 * 8;
        d.mem.write_obj(rng.next(), GuestAddress(at)).unwrap();
        let offset = rng.next() % 0x40;
        d.write_bar(offset, rng.next(), 2);
        d.handle_all();
    }
}

/// An INTx line that remembers its level and how often it was asserted.
#[derive(Default)]
struct Line {
    level: std::sync::atomic::AtomicBool,
    asserts: std::sync::atomic::AtomicUsize,
}

impl crate::pci::IntxLine for Line {
    fn set_level(&self, asserted: bool) {
        use std::sync::atomic::Ordering::SeqCst;
        if asserted && !self.level.swap(true, SeqCst) {
            self.asserts.fetch_add(1, SeqCst);
        }
        if !asserted {
            self.level.store(false, SeqCst);
        }
    }
}

#[test]
fn test_intx_asserts_with_isr_until_the_isr_is_read() {
    use std::sync::atomic::Ordering::SeqCst;
    let line = std::sync::Arc::new(Line::default());
    let mut d = Driver::new(Rng::new());
    d.dev = VirtioPci::new(Rng::new(), d.mem.clone(), d.msi.clone())
        .unwrap()
        .with_intx(line.clone());
    d.enable_bus_master();
    assert_eq!(d.read_config(0x3d, 1), 1, "interrupt pin INTA");
    // Bring-up without MSI-X: the driver falls back to INTx.
    assert!(d.negotiate(1 << VIRTIO_F_VERSION_1));
    d.setup_queue(0, 16);
    let ok = STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK;
    d.set_status(ok);
    d.handle_all();
    let buf = d.alloc(32, 0);
    d.push(0, &[(buf, 32, true)]);
    d.kick(0);
    assert!(line.level.load(SeqCst), "asserted after used buffers");
    assert!(d.msi.take_vectors().is_empty(), "no MSI-X message");
    assert_eq!(d.read_bar(ISR_OFFSET, 1), u64::from(ISR_QUEUE));
    assert!(!line.level.load(SeqCst), "reading the ISR deasserts");
    assert_eq!(d.read_bar(ISR_OFFSET, 1), 0, "and clears it");

    // The command register's INTx disable keeps the line low.
    d.write_config(0x04, 0x0406, 2);
    d.push(0, &[(buf, 32, true)]);
    d.kick(0);
    assert!(!line.level.load(SeqCst));
    d.write_config(0x04, 0x0006, 2);
    assert!(
        line.level.load(SeqCst),
        "pending ISR asserts once re-enabled"
    );
    assert_eq!(line.asserts.load(SeqCst), 2);

    // With MSI-X enabled the line stays low and messages go out instead.
    d.read_bar(ISR_OFFSET, 1);
    d.enable_msix();
    d.push(0, &[(buf, 32, true)]);
    d.kick(0);
    assert!(!line.level.load(SeqCst));
    assert_eq!(d.msi.take_vectors(), vec![1]);
}

#[test]
fn test_no_queue_work_or_msix_without_bus_master() {
    let mut d = Driver::new(Rng::new());
    d.init(VERSION_1, 16);
    d.write_config(0x04, 0x0002, 2);
    let buf = d.alloc(32, 0);
    let head = d.push(0, &[(buf, 32, true)]);
    d.kick(0);
    assert!(d.used(0).is_empty(), "no DMA while bus master is off");
    assert!(d.msi.take_vectors().is_empty());
    d.enable_bus_master();
    d.handle_all();
    assert_eq!(
        d.used(0),
        vec![(u32::from(head), 32)],
        "served once enabled"
    );
    assert_eq!(d.msi.take_vectors(), vec![1]);
}
