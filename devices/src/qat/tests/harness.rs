//! A test driver that plays Linux's `qat_420xx` driver against the model
//! through configuration space and the BARs: the probe sequence, the
//! admin mailbox, ring pairs as `adf_transport.c` creates them, request
//! submission and response handling as `adf_send_message` /
//! `adf_handle_response` do. Guest memory is a real `GuestMemoryMmap`.

use std::sync::{Arc, Mutex};

use vm_memory::{Bytes, GuestAddress};

use crate::pci::{MsiMessage, MsiSink, PciFunction};
use crate::qat::regs::*;
use crate::qat::{Qat420xx, DOORBELL_TOKEN};
use crate::virtio::GuestMemory;

/// Guest memory size in tests.
pub const MEM_SIZE: u64 = 64 << 20;
/// Message address every vector is programmed with.
pub const MSI_ADDRESS: u64 = 0xfee0_0000;
/// The driver's empty-slot byte.
pub const EMPTY: u8 = 0x7f;

/// Records every MSI-X message.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<u16>>);

impl MsiSink for Recorder {
    fn send(&self, vector: u16, message: MsiMessage) {
        assert_eq!(message.address, MSI_ADDRESS);
        assert_eq!(message.data, 0x40 + u32::from(vector));
        self.0.lock().unwrap().push(vector);
    }
}

impl Recorder {
    /// The vectors delivered so far, and forget them.
    pub fn take(&self) -> Vec<u16> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A ring pair the driver created.
#[derive(Debug, Clone, Copy)]
pub struct RingPair {
    pub bank: usize,
    pub tx: u64,
    pub tx_bytes: u64,
    pub rx: u64,
    pub rx_bytes: u64,
    pub tail: u64,
    pub head: u64,
}

/// The driver.
pub struct Driver {
    pub dev: Qat420xx,
    pub mem: GuestMemory,
    pub msi: Arc<Recorder>,
    next: u64,
    admin_page: u64,
}

impl Driver {
    /// A fresh device and memory.
    pub fn new() -> Self {
        let mem = GuestMemory::from_ranges(&[(GuestAddress(0), MEM_SIZE as usize)]).unwrap();
        let msi = Arc::new(Recorder::default());
        let dev = Qat420xx::new(mem.clone(), msi.clone()).unwrap();
        Self {
            dev,
            mem,
            msi,
            next: 0x10_0000,
            admin_page: 0,
        }
    }

    /// Allocates `len` bytes aligned to `align` (a DMA allocation).
    pub fn alloc(&mut self, len: u64, align: u64) -> u64 {
        let at = self.next.next_multiple_of(align);
        self.next = at + len.max(1);
        assert!(self.next < MEM_SIZE, "test memory exhausted");
        at
    }

    /// Allocates and fills a buffer.
    pub fn put(&mut self, data: &[u8]) -> u64 {
        let at = self.alloc(data.len() as u64, 64);
        self.mem.write_slice(data, GuestAddress(at)).unwrap();
        at
    }

    /// Reads guest memory.
    pub fn get(&self, at: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.mem.read_slice(&mut out, GuestAddress(at)).unwrap();
        out
    }

    pub fn cfg32(&mut self, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        self.dev.read_config(offset, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn set_cfg16(&mut self, offset: u64, value: u16) {
        self.dev.write_config(offset, &value.to_le_bytes());
    }

    pub fn bar32(&mut self, bar: u8, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        self.dev.read_bar(bar, offset, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn set_bar32(&mut self, bar: u8, offset: u64, value: u32) {
        self.dev.write_bar(bar, offset, &value.to_le_bytes());
    }

    pub fn pmisc(&mut self, offset: u64) -> u32 {
        self.bar32(PMISC_BAR, offset)
    }

    pub fn set_pmisc(&mut self, offset: u64, value: u32) {
        self.set_bar32(PMISC_BAR, offset, value);
    }

    pub fn csr(&mut self, bank: usize, offset: u64) -> u32 {
        self.bar32(ETR_BAR, BANK_BASE + BANK_STRIDE * bank as u64 + offset)
    }

    pub fn set_csr(&mut self, bank: usize, offset: u64, value: u32) {
        self.set_bar32(
            ETR_BAR,
            BANK_BASE + BANK_STRIDE * bank as u64 + offset,
            value,
        );
    }

    pub fn ae_csr(ae: usize, csr: u64) -> u64 {
        AE_LOCAL_BASE + AE_STRIDE * ae as u64 + csr
    }

    /// Polls `read` until `done`, at most `tries` times (the driver's
    /// read_poll_timeout); panics on timeout.
    fn poll(&mut self, what: &str, tries: usize, mut read: impl FnMut(&mut Self) -> bool) {
        for _ in 0..tries {
            if read(self) {
                return;
            }
        }
        panic!("timeout waiting for {what}");
    }

    /// `adf_probe` through `adf_dev_start` for the default "sym;asym"
    /// configuration, asserting what the driver checks.
    pub fn probe(&mut self) {
        // Identity, fuses, extended config space.
        assert_eq!(self.cfg32(0), 0x4946_8086);
        assert_eq!(self.cfg32(8) >> 8, CLASS_CODE);
        assert_ne!(self.cfg32(0x100), u32::MAX, "extended config space");
        let ae_mask = !self.cfg32(FUSECTL4 as u64) & 0x1ffff;
        assert_eq!(ae_mask, 0x1ffff, "all 17 AEs");
        assert_eq!(self.cfg32(FUSECTL1 as u64), FUSE_UCS_SLICE_OFF);
        // pci_enable_device + bus master.
        self.set_cfg16(0x04, 0x0006);
        // adf_init_etr_data.
        for bank in 0..BANKS {
            for ring in 0..2u64 {
                self.set_csr(bank, RING_CONFIG + 4 * ring, 0);
                self.set_csr(bank, RING_LBASE + 4 * ring, 0);
                self.set_csr(bank, RING_UBASE + 4 * ring, 0);
            }
            self.set_csr(bank, INT_FLAG, 0x3);
            self.set_csr(bank, INT_SRCSEL, 0x44);
        }
        // adf_gen4_init_device: PM power-up handshake.
        let errmsk2 = self.pmisc(ERRMSK0 + 8);
        self.set_pmisc(ERRMSK0 + 8, errmsk2 | ERRSOU2_PM);
        self.set_pmisc(PM_INTERRUPT, PM_DRV_ACTIVE);
        self.poll("PM INIT_STATE", 50_000, |d| {
            d.pmisc(PM_STATUS) & PM_INIT_STATE != 0
        });
        // adf_init_admin_comms.
        let page = self.alloc(4096, 4096);
        self.set_pmisc(ADMINMSGUR, (page >> 32) as u32);
        self.set_pmisc(ADMINMSGLR, page as u32);
        self.admin_page = page;
        // adf_init_arb: SARCONFIG and WT2SAM are configure-and-forget.
        for i in 0..4 {
            self.set_bar32(ETR_BAR, 4 * i, 0x8000_0041);
            assert_eq!(self.bar32(ETR_BAR, 4 * i), 0x8000_0041);
        }
        for ae in 0..ENGINES as u64 {
            self.set_bar32(ETR_BAR, 0x400 + 4 * ae, 0x1234_5678);
        }
        self.hal_init();
        self.load_firmware();
        // adf_isr_resource_alloc: identity routing, 65 vectors.
        for source in 0..u64::from(MSIX_VECTORS) {
            self.set_pmisc(MSIX_RTTABLE + 4 * source, source as u32);
        }
        self.enable_msix();
        // adf_gen4_enable_ints / enable_error_correction.
        self.set_pmisc(SMIAPF_RP_X0_MASK, 0);
        self.set_pmisc(SMIAPF_RP_X1_MASK, 0);
        self.set_pmisc(SMIAPF_MASK, 0);
        self.set_pmisc(ERRMSK3, 1 << 7);
        // adf_dev_start: qat_hal_start.
        self.set_pmisc(CAP_BASE + FCU_CONTROL, FCU_CMD_START);
        self.poll("FCU START", 300, |d| {
            d.pmisc(CAP_BASE + FCU_STATUS) & FCU_STS_DONE != 0
        });
        self.admin_init();
        // adf_gen4_enable_pm.
        let pm = self.pmisc(PM_INTERRUPT);
        self.set_pmisc(PM_INTERRUPT, pm | 0xc0007);
        let errmsk2 = self.pmisc(ERRMSK0 + 8);
        self.set_pmisc(ERRMSK0 + 8, errmsk2 & !ERRSOU2_PM);
        assert_eq!(self.dev.loaded_engines(), 0x1ffff);
        assert!(self.dev.started());
    }

    /// `qat_hal_init` for GEN4.
    fn hal_init(&mut self) {
        const RESET: u64 = CAP_BASE + 0x938;
        const CLOCK: u64 = CAP_BASE + 0x964;
        const RST_MASK: u32 = 0x100155;
        for ae in 0..ENGINES {
            let sig = self.pmisc(Self::ae_csr(ae, 0x150));
            self.set_pmisc(Self::ae_csr(ae, 0x150), sig | 1);
        }
        let reset = self.pmisc(RESET);
        self.set_pmisc(RESET, reset | RST_MASK);
        let reset = self.pmisc(RESET);
        self.set_pmisc(RESET, reset & !RST_MASK);
        self.poll("reset deassert", 100, |d| d.pmisc(RESET) & RST_MASK == 0);
        let clock = self.pmisc(CLOCK);
        self.set_pmisc(CLOCK, clock | RST_MASK);
        for ae in 0..ENGINES {
            let a = self.pmisc(Self::ae_csr(ae, PROFILE_COUNT));
            let b = self.pmisc(Self::ae_csr(ae, PROFILE_COUNT));
            assert_ne!(a, b, "AE{ae} alive");
            assert_eq!(self.pmisc(Self::ae_csr(ae, LOCAL_CSR_STATUS)) & 1, 0);
            self.set_pmisc(Self::ae_csr(ae, CTX_ENABLES), 0);
            self.set_pmisc(Self::ae_csr(ae, 0x014), 0);
            self.set_pmisc(Self::ae_csr(ae, 0x01c), 0x2000);
        }
        // qat_hal_wait_cycles on AE0: 2060 cycles within 10000 reads.
        let start = self.pmisc(Self::ae_csr(0, PROFILE_COUNT)) & 0xffff;
        let mut reads = 0;
        loop {
            reads += 1;
            assert!(reads < 10_000, "PROFILE_COUNT too slow");
            let now = self.pmisc(Self::ae_csr(0, PROFILE_COUNT)) & 0xffff;
            if now.wrapping_sub(start) & 0xffff >= 2060 {
                break;
            }
        }
    }

    /// An authentication chunk as `qat_uclo_map_auth_fw` lays it out:
    /// descriptor, then CSS header, key, signature and image.
    fn auth_chunk(&mut self, ae_mask: u32) -> u64 {
        let chunk = self.alloc(4096, 64);
        let css = chunk + 0x80;
        let img = css + 128 + 384 + 4 + 384;
        let mut desc = vec![0u8; 0x80];
        desc[0..4].copy_from_slice(&512u32.to_le_bytes());
        desc[4..8].copy_from_slice(&ae_mask.to_le_bytes());
        desc[8..12].copy_from_slice(&((css >> 32) as u32).to_le_bytes());
        desc[12..16].copy_from_slice(&(css as u32).to_le_bytes());
        desc[16..20].copy_from_slice(&((img >> 32) as u32).to_le_bytes());
        desc[20..24].copy_from_slice(&(img as u32).to_le_bytes());
        self.mem.write_slice(&desc, GuestAddress(chunk)).unwrap();
        chunk
    }

    /// `qat_uclo_auth_fw`: AUTH and wait for VERI_DONE + AUTHFWLD.
    fn authenticate(&mut self, chunk: u64) {
        self.set_pmisc(CAP_BASE + FCU_DRAM_ADDR_HI, (chunk >> 32) as u32);
        self.set_pmisc(CAP_BASE + FCU_DRAM_ADDR_LO, chunk as u32);
        self.set_pmisc(CAP_BASE + FCU_CONTROL, FCU_CMD_AUTH);
        self.poll("FCU auth", 300, |d| {
            let s = d.pmisc(CAP_BASE + FCU_STATUS);
            assert_ne!(s & 7, FCU_STS_VERI_FAIL, "verification failed");
            s & 7 == FCU_STS_VERI_DONE && s & FCU_STS_AUTHFWLD != 0
        });
    }

    /// `adf_ae_fw_load`: the MMP image, then the sym/asym objects by
    /// broadcast and the admin object on AE16 alone.
    fn load_firmware(&mut self) {
        let mmp = self.auth_chunk(0);
        self.authenticate(mmp);
        for mask in [0xf000u32, 0x0f00, 0x00f0, 0x000f] {
            let chunk = self.auth_chunk(mask);
            self.authenticate(chunk);
            for ae in 0..16 {
                if mask >> ae & 1 != 0 {
                    assert_eq!(self.pmisc(Self::ae_csr(ae, CTX_ENABLES)) & 0xff00, 0);
                    assert_eq!(self.pmisc(Self::ae_csr(ae, ACTIVE_CTX_STATUS)) >> 31, 0);
                }
            }
            self.set_pmisc(CAP_BASE + FCU_ME_BROADCAST_MASK_TYPE, mask);
            self.set_pmisc(CAP_BASE + FCU_CONTROL, FCU_CMD_LOAD);
            self.poll("FCU broadcast load", 300, |d| {
                d.pmisc(CAP_BASE + FCU_STATUS) & 7 == FCU_STS_LOAD_DONE
                    && d.pmisc(CAP_BASE + FCU_AE_LOADED) & mask == mask
            });
        }
        let chunk = self.auth_chunk(1 << ADMIN_AE);
        self.authenticate(chunk);
        let cmd = FCU_CMD_LOAD | FCU_CTRL_PER_AE | (ADMIN_AE as u32) << 8;
        self.set_pmisc(CAP_BASE + FCU_CONTROL, cmd);
        self.poll("FCU admin load", 300, |d| {
            d.pmisc(CAP_BASE + FCU_STATUS) & 7 == FCU_STS_LOAD_DONE
                && d.pmisc(CAP_BASE + FCU_AE_LOADED) >> ADMIN_AE & 1 != 0
        });
    }

    /// Programs every MSI-X vector v with data 0x40 + v and enables MSI-X.
    pub fn enable_msix(&mut self) {
        for v in 0..u64::from(MSIX_VECTORS) {
            let e = MSIX_TABLE_OFFSET + 16 * v;
            self.set_bar32(SRAM_BAR, e, MSI_ADDRESS as u32);
            self.set_bar32(SRAM_BAR, e + 4, 0);
            self.set_bar32(SRAM_BAR, e + 8, 0x40 + v as u32);
            self.set_bar32(SRAM_BAR, e + 12, 0);
        }
        let cap = self.msix_cap();
        self.set_cfg16(cap + 2, 1 << 15);
    }

    /// The MSI-X capability's offset, found by walking the list.
    pub fn msix_cap(&mut self) -> u64 {
        let mut at = u64::from(self.cfg32(0x34) & 0xff);
        while at != 0 {
            let header = self.cfg32(at);
            if header & 0xff == 0x11 {
                return at;
            }
            at = u64::from(header >> 8 & 0xff);
        }
        panic!("no MSI-X capability");
    }

    /// One admin message to `ae` (`adf_put_admin_msg_sync`): the response.
    pub fn admin(&mut self, ae: usize, cmd: u8, ptr: u64, word24: u32) -> [u8; 32] {
        let mailbox = Self::ae_csr(ae, MAILBOX);
        assert_eq!(self.pmisc(mailbox), 0, "mailbox busy");
        let mut req = [0u8; 32];
        req[3] = cmd;
        req[8..16].copy_from_slice(&0xabcdu64.to_le_bytes());
        req[16..24].copy_from_slice(&ptr.to_le_bytes());
        req[24..28].copy_from_slice(&word24.to_le_bytes());
        let slot = self.admin_page + ae as u64 * 64;
        self.mem.write_slice(&req, GuestAddress(slot)).unwrap();
        self.set_pmisc(mailbox, 1);
        self.poll("admin mailbox", 10, |d| d.pmisc(mailbox) == 0);
        let resp: [u8; 32] = self.get(slot + 32, 32).try_into().unwrap();
        assert_eq!(resp[3], cmd, "cmd echo");
        assert_eq!(&resp[8..16], &0xabcdu64.to_le_bytes(), "opaque echo");
        resp
    }

    /// `adf_send_admin_init` and the start-time admin messages.
    fn admin_init(&mut self) {
        let table = self.put(&[0u8; 1024]);
        assert_eq!(self.admin(ADMIN_AE, 3, table, 0)[2], 0, "CONSTANTS_CFG");
        for ae in 0..16 {
            assert_eq!(self.admin(ae, 9, 0, 0)[2], 0, "COMP_CAPABILITY_GET");
        }
        let caps = self.admin(ADMIN_AE, 10, 0, 0);
        assert_eq!((caps[2], caps[16] >> 4 & 0x7), (0, 0), "no rate limiting");
        let hb = self.alloc(4096, 64);
        for ae in 0..ENGINES {
            assert_eq!(self.admin(ae, 0, 0, 0)[2], 0, "INIT_AE");
        }
        assert_eq!(self.admin(ADMIN_AE, 128, 0, 0)[2], 0, "PM_STATE_CONFIG");
        for ae in 0..ENGINES {
            assert_eq!(self.admin(ae, 7, 0, 1)[2], 0, "SYNC");
            assert_eq!(
                self.admin(ae, 13, hb, 20_000_000)[2],
                0,
                "HEARTBEAT_TIMER_SET"
            );
        }
        assert_eq!(self.dev.admin_pages(), (hb, table));
    }

    /// A ring pair on `bank` as `adf_create_ring` makes it: rings filled
    /// with the empty signature, sizes by code, base, response interrupt
    /// enabled with coalescing (`adf_enable_ring_irq`: INT_COL_EN and
    /// INT_COL_CTL, never INT_FLAG_AND_COL), arbitration on.
    pub fn ring_pair(&mut self, bank: usize, tx_code: u32, rx_code: u32) -> RingPair {
        let tx_bytes = ring_bytes(tx_code).unwrap();
        let rx_bytes = ring_bytes(rx_code).unwrap();
        let tx = self.alloc(tx_bytes, tx_bytes);
        let rx = self.alloc(rx_bytes, rx_bytes);
        self.mem
            .write_slice(&vec![EMPTY; tx_bytes as usize], GuestAddress(tx))
            .unwrap();
        self.mem
            .write_slice(&vec![EMPTY; rx_bytes as usize], GuestAddress(rx))
            .unwrap();
        for (ring, addr, code) in [(0u64, tx, tx_code), (1, rx, rx_code)] {
            let base = ((addr >> 6) & (u64::MAX << code)) << 6;
            self.set_csr(bank, RING_CONFIG + 4 * ring, code);
            self.set_csr(bank, RING_LBASE + 4 * ring, base as u32);
            self.set_csr(bank, RING_UBASE + 4 * ring, (base >> 32) as u32);
        }
        self.set_csr(bank, INT_COL_EN, 1 << 1);
        self.set_csr(bank, INT_COL_CTL, INT_COL_CTL_ENABLE | 0x27ff);
        self.set_csr(bank, RING_SRV_ARB_EN, 1);
        RingPair {
            bank,
            tx,
            tx_bytes,
            rx,
            rx_bytes,
            tail: 0,
            head: 0,
        }
    }

    /// `adf_send_message`: copies the request at the tail and rings.
    pub fn submit(&mut self, ring: &mut RingPair, request: &[u8]) {
        self.mem
            .write_slice(request, GuestAddress(ring.tx + ring.tail))
            .unwrap();
        ring.tail = (ring.tail + request.len() as u64) % ring.tx_bytes;
        self.set_csr(ring.bank, RING_TAIL, ring.tail as u32);
    }

    /// What the VMM's event thread does when the doorbell fires.
    pub fn run(&self) {
        self.dev.handler().handle_event(DOORBELL_TOKEN);
    }

    /// The bank handler (`adf_ring_response_handler`): reads E_STAT, takes
    /// responses until the empty signature, writes the head, re-enables.
    pub fn responses(&mut self, ring: &mut RingPair) -> Vec<[u8; 32]> {
        self.set_csr(ring.bank, INT_FLAG_AND_COL, 0);
        let mut out = Vec::new();
        if self.csr(ring.bank, RING_E_STAT) & 0x2 == 0 {
            loop {
                let at = ring.rx + ring.head;
                let msg: [u8; 32] = self.get(at, 32).try_into().unwrap();
                if msg[..4] == [EMPTY; 4] {
                    break;
                }
                out.push(msg);
                self.mem.write_slice(&[EMPTY; 4], GuestAddress(at)).unwrap();
                ring.head = (ring.head + 32) % ring.rx_bytes;
            }
            self.set_csr(ring.bank, RING_HEAD + 4, ring.head as u32);
        }
        self.set_csr(ring.bank, INT_FLAG_AND_COL, 1 << 1);
        out
    }

    /// Submits one request, runs the device, returns its one response.
    pub fn roundtrip(&mut self, ring: &mut RingPair, request: &[u8]) -> [u8; 32] {
        self.submit(ring, request);
        self.run();
        let mut r = self.responses(ring);
        assert_eq!(r.len(), 1, "one response");
        r.remove(0)
    }
}
