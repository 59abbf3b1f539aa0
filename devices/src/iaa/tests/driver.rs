//! idxd's probe, bind and unbind sequences against the model.

use super::*;

#[test]
fn test_probe_sees_iaa_identity_bars_and_msix() {
    let mut d = Driver::new();
    assert_eq!(d.cfg_read32(0x00), 0x0cfe_8086);
    assert_eq!(d.cfg_read32(0x08) >> 8, 0x08_80_00);
    assert_eq!(d.cfg_read32(0x3c) >> 8 & 0xff, 0, "no INTx pin");
    // BAR sizing: all ones, read back, restore.
    for (bar, size) in [(0x10u64, BAR0_SIZE), (0x18, 0x2_0000)] {
        let lo = d.cfg_read32(bar);
        assert_eq!(lo & 0xf, 0b0100, "64-bit non-prefetchable memory");
        d.iaa.write_config(bar, &u32::MAX.to_le_bytes());
        d.iaa.write_config(bar + 4, &u32::MAX.to_le_bytes());
        let mask = u64::from(d.cfg_read32(bar) & !0xf) | (u64::from(d.cfg_read32(bar + 4)) << 32);
        assert_eq!(!mask + 1, size);
    }
    let cap = d.msix_cap();
    assert_eq!(
        (d.cfg_read32(cap) >> 16 & 0x7ff) + 1,
        9,
        "num WQs + 1 vectors"
    );
    assert_eq!(d.cfg_read32(cap + 4), MSIX_TABLE as u32, "table in BAR 0");
    assert_eq!(d.cfg_read32(cap + 8), MSIX_PBA as u32, "PBA in BAR 0");
}

#[test]
fn test_capability_registers_read_as_idxd_expects() {
    let mut d = Driver::new();
    let gencap = d.read64(GENCAP);
    assert_ne!(gencap & (1 << 31), 0, "configurable");
    assert_eq!(
        gencap & (1 << 4),
        0,
        "no CMDCAP: interrupt handle = MSI-X index"
    );
    assert_eq!(gencap >> 13 & 3, 0, "no event log");
    assert_eq!(gencap >> 16 & 0x1f, 21, "2 MiB transfers");
    assert_eq!(d.read64(WQCAP), 0x000a_0000_0008_0080);
    assert_eq!(d.read64(GRPCAP), 4);
    assert_eq!(d.read64(ENGCAP), 8);
    assert_eq!([d.read64(OPCAP), d.read64(OPCAP + 8)], [0b101, 0b1100]);
    assert_eq!(d.read64(OPCAP + 16) | d.read64(OPCAP + 24), 0);
    assert_eq!(d.read64(TABLE_OFFSET), 0x0000_000c_0008_0004);
    assert_eq!(d.read64(TABLE_OFFSET + 8), 0, "no perfmon");
    // 32-bit halves of 64-bit registers, as ioread32 would see them.
    assert_eq!(d.read32(WQCAP + 4), 0x000a_0000);
}

#[test]
fn test_idxd_probe_and_iaa_crypto_bind_enable_device_and_wq() {
    let mut d = Driver::new();
    d.probe();
    assert_eq!(d.read32(GENCTRL), 0b11);
    d.enable_wq0();
    assert_eq!(d.read32(WQCFG_TABLE + 24) >> 30, 1, "WQ state enabled");
    // A second bind attempt is answered "already enabled", which idxd accepts.
    assert_eq!(d.command(cmd::ENABLE_WQ, 0), cmdsts::WQ_ENABLED);
    assert_eq!(
        d.iaa.stats().commands,
        4,
        "reset, enable device, enable WQ twice"
    );
}

#[test]
fn test_wq_and_device_unbind_leave_nothing_sticky() {
    let mut d = Driver::ready();
    // idxd_drv_disable_wq: drain, free the IRQ (permission entry zeroed), reset.
    assert_eq!(d.command(cmd::DRAIN_WQ, 1), 0);
    d.write32(MSIX_PERM_TABLE + 8, 0);
    assert_eq!(d.command(cmd::RESET_WQ, 1), 0);
    for i in 0..8 {
        assert_eq!(
            d.read32(WQCFG_TABLE + 4 * i),
            0,
            "WQCFG dword {i} after RESET_WQ"
        );
    }
    // idxd_device_drv_remove: disable, reset, GENCTRL unmasked again.
    assert_eq!(d.command(cmd::DISABLE_DEVICE, 0), 0);
    assert_eq!(d.read32(GENSTS) & 3, STATE_DISABLED);
    assert_eq!(d.command(cmd::RESET_DEVICE, 0), 0);
    assert_eq!(d.read32(GENCTRL), 0);
    assert_eq!(d.read64(GRPCFG_TABLE + GRPCFG_ENGINES), 0);
    // And the whole bring-up works again.
    d.write32(GENCTRL, 0b11);
    d.write_config();
    assert_eq!(d.command(cmd::ENABLE_DEVICE, 0), 0);
    d.enable_wq0();
    let record = d.compress(&[7u8; 4096], 4096);
    assert_eq!(status(&record), 1);
}

#[test]
fn test_enable_device_without_bus_master_fails() {
    let mut d = Driver::new();
    d.pci_enable();
    d.cfg_write16(0x04, 0x0002);
    // No bus mastering: the completion interrupt cannot be sent either, so
    // poll the status as idxd's init reset does.
    d.write32(CMD, CMD_INT_REQ | (cmd::ENABLE_DEVICE << CMD_CODE_SHIFT));
    assert!(d.msi.take().is_empty());
    assert_eq!(d.read32(CMDSTS), cmdsts::BUSMASTER_EN);
    assert_eq!(d.read32(INTCAUSE) & INTC_CMD, INTC_CMD);
}

#[test]
fn test_masked_vector_zero_pends_and_fires_on_unmask() {
    let mut d = Driver::new();
    d.pci_enable();
    d.write32(MSIX_TABLE + 12, 1);
    d.write32(CMD, CMD_INT_REQ | (cmd::DRAIN_ALL << CMD_CODE_SHIFT));
    assert!(d.msi.take().is_empty());
    assert_eq!(d.read32(MSIX_PBA) & 1, 1);
    d.write32(MSIX_TABLE + 12, 0);
    assert_eq!(d.msi.take(), vec![0]);
}

#[test]
fn test_misaligned_completion_record_is_a_software_error() {
    let mut d = Driver::ready();
    let mut desc = compress_desc(16, 4096);
    desc.completion_addr = COMPLETION_ADDR + 8;
    d.put(SRC_ADDR, &[1; 16]);
    d.submit_to(0, &desc);
    assert_eq!(
        d.msi.take(),
        vec![0],
        "GENCTRL enables software-error interrupts"
    );
    let cause = d.read32(INTCAUSE);
    assert_eq!(cause & INTC_ERR, INTC_ERR);
    d.write32(INTCAUSE, cause);
    let swerr = d.read64(SWERR);
    assert_eq!(
        swerr & 0b1101,
        0b1101,
        "valid, descriptor and WQ index valid"
    );
    assert_eq!(swerr >> 8 & 0xff, 0x1b);
    assert_eq!(swerr >> 32 & 0xff, u64::from(opcode::COMPRESS));
    assert_eq!(d.read64(SWERR + 16), COMPLETION_ADDR + 8);
    d.write64(SWERR, swerr & 0b11);
    assert_eq!(d.read64(SWERR), 0);
    assert_eq!(d.get(COMPLETION_ADDR, 64), vec![0; 64], "no record written");
}

#[test]
fn test_portal_write_to_disabled_wq_is_dropped() {
    let mut d = Driver::new();
    d.probe();
    d.put(SRC_ADDR, &[1; 64]);
    let record = d.run(&compress_desc(64, 4096));
    assert_eq!(record, [0; 64], "WQ 0 not enabled: nothing happens");
    d.enable_wq0();
    d.submit_to(1, &compress_desc(64, 4096));
    assert_eq!(d.record(COMPLETION_ADDR), [0; 64], "WQ 1 not enabled");
    assert_eq!(d.iaa.stats().dropped, 2);
    assert!(d.msi.take().is_empty());
    assert_eq!(d.read64(SWERR), 0);
}

#[test]
fn test_device_is_send_for_the_vmm_bus() {
    fn shareable<T: Send + 'static>() {}
    shareable::<Iaa>();
}
