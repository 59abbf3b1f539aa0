//! Bring-up as Linux's qat_420xx does it, the admin mailbox, ring
//! transport and interrupts.

use super::build::*;
use super::harness::*;
use crate::pci::PciFunction;
use crate::qat::regs::*;

#[test]
fn test_linux_probe_sequence_brings_the_device_up() {
    let mut d = Driver::new();
    d.probe();
    let ts1 = u64::from_le_bytes(d.admin(0, 19, 0, 0)[16..24].try_into().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(2));
    let ts2 = u64::from_le_bytes(d.admin(0, 19, 0, 0)[16..24].try_into().unwrap());
    assert!(ts2 > ts1, "TIMER_GET advances at 100 MHz");
    assert_eq!(
        d.admin(ADMIN_AE, 200, 0, 0)[2],
        1,
        "unknown admin command fails"
    );
}

#[test]
fn test_fuses_and_capabilities_in_config_space() {
    let mut d = Driver::new();
    assert_eq!(d.cfg32(FUSECTL4 as u64), 0);
    assert_eq!(d.cfg32(FUSECTL1 as u64), FUSE_UCS_SLICE_OFF);
    d.dev.write_config(FUSECTL1 as u64, &[0; 4]);
    assert_eq!(
        d.cfg32(FUSECTL1 as u64),
        FUSE_UCS_SLICE_OFF,
        "fuses are read only"
    );
    // BAR sizing: 2 MiB, 8 MiB, 2 MiB, 64-bit memory.
    for (reg, size) in [
        (0x10u64, SRAM_BAR_SIZE),
        (0x18, PMISC_BAR_SIZE),
        (0x20, ETR_BAR_SIZE),
    ] {
        d.dev.write_config(reg, &u32::MAX.to_le_bytes());
        assert_eq!(d.cfg32(reg), (!(size as u32 - 1)) | 0x4);
    }
    let msix = d.msix_cap();
    assert_eq!(d.cfg32(msix) >> 16 & 0x7ff, u32::from(MSIX_VECTORS) - 1);
}

#[test]
fn test_pm_status_needs_drv_active() {
    let mut d = Driver::new();
    assert_eq!(d.pmisc(PM_STATUS) & PM_INIT_STATE, 0);
    d.set_pmisc(PM_INTERRUPT, PM_DRV_ACTIVE);
    assert_ne!(d.pmisc(PM_STATUS) & PM_INIT_STATE, 0);
    d.set_pmisc(PM_HOST_MSG, 0x3);
    assert_eq!(d.pmisc(PM_HOST_MSG), 0x2, "host message taken at once");
}

#[test]
fn test_full_ring_in_flight_every_opaque_once_with_wraparound() {
    let mut d = Driver::new();
    d.probe();
    // sym ring sizes: TX 64 KiB (512 requests), RX 16 KiB (512 responses).
    let mut ring = d.ring_pair(3, 10, 8);
    let cd = d.put(&cipher_block(0x23, &[7; 16]));
    let data = d.put(&[0u8; 16]);
    let list = buffer_list(&mut d, &[(data, 16)]);
    let mut seen = std::collections::BTreeSet::new();
    for round in 0..3u64 {
        for i in 0..511u64 {
            let mut r = la_request(0, LA_FLAGS, cd, 10, list, list, round << 32 | i);
            cipher_params(&mut r, 0, 16, &[0; 16]);
            cipher_ctrl(&mut r, 16, 0, 4);
            d.submit(&mut ring, &r);
        }
        d.run();
        assert_eq!(d.msi.take(), vec![3], "one coalesced interrupt per pass");
        for resp in d.responses(&mut ring) {
            assert_eq!(resp[6], 0);
            assert!(seen.insert(u64::from_le_bytes(resp[8..16].try_into().unwrap())));
        }
    }
    assert_eq!(seen.len(), 3 * 511);
}

#[test]
fn test_rx_full_stalls_and_head_write_resumes() {
    let mut d = Driver::new();
    d.probe();
    // TX 8 KiB holds 63 requests in flight, RX 128 bytes holds 3 responses.
    let mut ring = d.ring_pair(0, 7, 1);
    let cd = d.put(&cipher_block(0x23, &[7; 16]));
    let data = d.put(&[0u8; 16]);
    let list = buffer_list(&mut d, &[(data, 16)]);
    for i in 0..10 {
        let mut r = la_request(0, LA_FLAGS, cd, 10, list, list, i);
        cipher_params(&mut r, 0, 16, &[0; 16]);
        cipher_ctrl(&mut r, 16, 0, 4);
        d.submit(&mut ring, &r);
    }
    d.run();
    let mut got = 0;
    for _ in 0..10 {
        let n = d.responses(&mut ring).len();
        got += n;
        d.run();
    }
    assert_eq!(got, 10);
}

/// Linux never writes INT_FLAG_AND_COL before its first interrupt (only
/// its ISR and bottom half do): a ring made by `adf_create_ring` must
/// interrupt on its very first response.
#[test]
fn test_first_response_of_a_linux_ring_interrupts() {
    let mut d = Driver::new();
    d.probe();
    let mut ring = d.ring_pair(3, 7, 6);
    assert_eq!(
        d.csr(3, INT_FLAG_AND_COL),
        1 << 1,
        "INT_COL_EN shows through"
    );
    let cd = d.put(&cipher_block(0x23, &[7; 16]));
    let data = d.put(&[0u8; 16]);
    let list = buffer_list(&mut d, &[(data, 16)]);
    let mut r = la_request(0, LA_FLAGS, cd, 10, list, list, 1);
    cipher_params(&mut r, 0, 16, &[0; 16]);
    cipher_ctrl(&mut r, 16, 0, 4);
    d.msi.take();
    d.submit(&mut ring, &r);
    d.run();
    assert_eq!(d.msi.take(), vec![3], "the first response interrupts");
    assert_eq!(d.responses(&mut ring).len(), 1);
    d.submit(&mut ring, &r);
    d.run();
    assert_eq!(d.msi.take(), vec![3], "and the next, after the bottom half");
}

#[test]
fn test_rearm_with_pending_responses_fires_again() {
    let mut d = Driver::new();
    d.probe();
    let mut ring = d.ring_pair(5, 7, 6);
    let cd = d.put(&cipher_block(0x23, &[7; 16]));
    let data = d.put(&[0u8; 16]);
    let list = buffer_list(&mut d, &[(data, 16)]);
    let mut r = la_request(0, LA_FLAGS, cd, 10, list, list, 1);
    cipher_params(&mut r, 0, 16, &[0; 16]);
    cipher_ctrl(&mut r, 16, 0, 4);
    // The ISR masked the bank; a response lands meanwhile.
    d.set_csr(5, INT_FLAG_AND_COL, 0);
    d.submit(&mut ring, &r);
    d.run();
    assert!(d.msi.take().is_empty(), "masked");
    d.set_csr(5, INT_FLAG_AND_COL, 2);
    assert_eq!(d.msi.take(), vec![5], "re-enable with a pending response");
    assert_eq!(d.responses(&mut ring).len(), 1);
    // Bank masked in SMIAPF: no vector.
    d.set_pmisc(SMIAPF_RP_X0_MASK, 1 << 5);
    d.submit(&mut ring, &r);
    d.run();
    assert!(d.msi.take().is_empty());
}

#[test]
fn test_pke_requests_answer_with_the_pke_error() {
    let mut d = Driver::new();
    d.probe();
    let mut ring = d.ring_pair(2, 7, 6);
    let mut r = [0u8; 64];
    r[2] = 3;
    r[3] = 0x80;
    r[24..32].copy_from_slice(&77u64.to_le_bytes());
    r[32..40].copy_from_slice(&0x1000u64.to_le_bytes());
    let resp = d.roundtrip(&mut ring, &r);
    assert_eq!((resp[2], resp[5] & 0x40), (3, 0x40));
    assert_eq!(u64::from_le_bytes(resp[8..16].try_into().unwrap()), 77);
    assert_eq!(u64::from_le_bytes(resp[16..24].try_into().unwrap()), 0x1000);
    // The next request starts 64 bytes on.
    let resp = d.roundtrip(&mut ring, &r);
    assert_eq!(resp[5] & 0x40, 0x40);
}

#[test]
fn test_ring_pair_reset_clears_the_bank() {
    let mut d = Driver::new();
    d.probe();
    let _ring = d.ring_pair(9, 7, 6);
    d.set_csr(9, RING_TAIL, 128);
    d.set_bar32(ETR_BAR, RPRESETCTL + 8 * 9, 1);
    assert_eq!(d.bar32(ETR_BAR, RPRESETSTS + 8 * 9) & 1, 1);
    assert_eq!((d.csr(9, RING_TAIL), d.csr(9, RING_CONFIG)), (0, 0));
    d.set_bar32(ETR_BAR, RPRESETSTS + 8 * 9, 1);
    assert_eq!(d.bar32(ETR_BAR, RPRESETSTS + 8 * 9), 0);
}

#[test]
fn test_garbage_to_every_config_and_bar_offset_never_panics() {
    let mut d = Driver::new();
    d.probe();
    let _ring = d.ring_pair(1, 7, 6);
    let patterns: [&[u8]; 4] = [
        &[0xff; 4],
        &[0xa5],
        &[0x5a, 0x01],
        &[0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
    ];
    for offset in 0..4096u64 {
        for p in patterns {
            d.dev.write_config(offset, p);
            let mut b = [0u8; 8];
            d.dev.read_config(offset, &mut b[..p.len()]);
        }
    }
    // Re-enable bus mastering (the garbage turned it off and on).
    d.set_cfg16(0x04, 0x0006);
    let strides: [(u8, u64, u64); 3] = [
        (SRAM_BAR, SRAM_BAR_SIZE, 0x40),
        (PMISC_BAR, PMISC_BAR_SIZE, 0x3fc),
        (ETR_BAR, ETR_BAR_SIZE, 0x40),
    ];
    for (bar, size, stride) in strides {
        let mut offset = 0;
        while offset < size {
            for p in patterns {
                d.dev.write_bar(bar, offset, p);
                let mut b = [0u8; 8];
                d.dev.read_bar(bar, offset, &mut b[..p.len()]);
            }
            offset += stride;
        }
        // Every word of the bank CSRs and the special PMISC windows.
        for base in [
            BANK_BASE,
            BANK_BASE + BANK_STRIDE * 63,
            AE_LOCAL_BASE,
            CAP_BASE + 0x1000,
            MSIX_RTTABLE,
            ATUFAULTSTATUS,
        ] {
            for o in (base..base + 0x2000).step_by(4) {
                d.dev.write_bar(bar, o, &[0xff; 4]);
            }
        }
        d.dev.write_bar(bar, u64::MAX - 2, &[0xff; 8]);
        d.dev.read_bar(bar, u64::MAX - 2, &mut [0; 8]);
        d.run();
    }
    d.dev.write_bar(7, 0, &[1; 4]);
    d.run();
}
