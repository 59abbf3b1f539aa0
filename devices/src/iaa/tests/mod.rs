//! IAA tests that play Linux's side: a small "driver" does what idxd and
//! iaa_crypto do, register by register, against the model.

mod descriptors;
mod driver;
mod dynamic;
mod garbage;
mod streams;

use std::sync::{Arc, Mutex};

use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

use super::codec::{linux_fixed_aecs, AECS_SIZE};
use super::descriptor::{opcode, Descriptor, FLAG_CRAV, FLAG_RCR};
use super::regs::*;
use super::{Iaa, IaaConfig};
use crate::pci::{MsiMessage, MsiSink, PciFunction};
use crate::virtio::GuestMemory;

/// Guest memory size for the tests.
pub const MEM_SIZE: usize = 16 << 20;
/// Where the test driver keeps things in guest memory.
pub const AECS_ADDR: u64 = 0x10_0000;
pub const COMPLETION_ADDR: u64 = 0x11_0000;
pub const SRC_ADDR: u64 = 0x20_0000;
pub const DST_ADDR: u64 = 0x40_0000;
pub const VERIFY_ADDR: u64 = 0x60_0000;

/// Records every MSI-X message with its vector.
#[derive(Default)]
pub struct Messages(pub Mutex<Vec<(u16, MsiMessage)>>);

impl MsiSink for Messages {
    fn send(&self, vector: u16, message: MsiMessage) {
        self.0.lock().unwrap().push((vector, message));
    }
}

impl Messages {
    /// Takes the vectors raised so far.
    pub fn take(&self) -> Vec<u16> {
        self.0.lock().unwrap().drain(..).map(|(v, _)| v).collect()
    }
}

/// The test driver: the device, its memory, and what it signalled.
pub struct Driver {
    pub iaa: Iaa,
    pub mem: GuestMemory,
    pub msi: Arc<Messages>,
    /// Next portal slot (idxd advances 64 bytes per submission, wrapping at 4 KiB).
    portal_offset: u64,
}

/// A small deterministic generator for page contents.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "the", "page", "kernel", "memory", "swap", "of", "and", "device", "queue", "compress",
    "buffer", "zswap", "address", "return", "struct", "error", "value",
];

/// Page kinds: 0 text, 1 records, 2 sparse, 3 random, 4 log lines.
pub fn page(rng: &mut Rng, kind: u64, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(len + 64);
    while p.len() < len {
        match kind {
            0 => {
                let w = WORDS[rng.below(WORDS.len() as u64) as usize];
                p.extend_from_slice(w.as_bytes());
                p.push(if rng.below(12) == 0 { b'\n' } else { b' ' });
            }
            1 => {
                p.extend_from_slice(&(p.len() as u32 / 16).to_le_bytes());
                p.extend_from_slice(&(rng.below(256) as u32).to_le_bytes());
                p.extend_from_slice(&(0xffff_8880_0000_0000 + rng.below(64) * 64).to_le_bytes());
            }
            2 => {
                p.resize(len, 0);
                for _ in 0..8 {
                    let at = rng.below(len.saturating_sub(64).max(1) as u64) as usize;
                    for b in p.iter_mut().skip(at).take(64) {
                        *b = rng.next() as u8;
                    }
                }
            }
            3 => p.push(rng.next() as u8),
            _ => {
                let line = format!(
                    "[{:>8}.{:06}] idxd 0000:00:{:02x}.0: wq {} size {}\n",
                    rng.below(100_000),
                    rng.below(1_000_000),
                    rng.below(32),
                    rng.below(8),
                    rng.below(128)
                );
                p.extend_from_slice(line.as_bytes());
            }
        }
    }
    p.truncate(len);
    p
}

/// The descriptor iaa_crypto builds to compress `len` bytes at SRC_ADDR
/// into DST_ADDR (at most `dlen` bytes).
pub fn compress_desc(len: u32, dlen: u32) -> Descriptor {
    Descriptor {
        pasid_priv: 0,
        flags: FLAG_CRAV | FLAG_RCR | (1 << 16) | (1 << 8),
        opcode: opcode::COMPRESS,
        completion_addr: COMPLETION_ADDR,
        src1_addr: SRC_ADDR,
        dst_addr: DST_ADDR,
        src1_size: len,
        int_handle: 0,
        op_flags: 0x0006,
        src2_addr: AECS_ADDR,
        max_dst_size: dlen,
        src2_size: AECS_SIZE as u32,
        filter_flags: 0,
        num_inputs: 0,
    }
}

/// The descriptor iaa_crypto builds to decompress `len` bytes at `src`
/// into `dst` (at most `dlen` bytes).
pub fn decompress_desc(src: u64, len: u32, dst: u64, dlen: u32) -> Descriptor {
    Descriptor {
        flags: FLAG_CRAV | FLAG_RCR | (1 << 8),
        opcode: opcode::DECOMPRESS,
        src1_addr: src,
        src1_size: len,
        dst_addr: dst,
        max_dst_size: dlen,
        op_flags: 0x000f,
        src2_addr: 0,
        src2_size: 0,
        ..compress_desc(0, 0)
    }
}

impl Driver {
    /// A fresh device on 16 MiB of guest memory.
    pub fn new() -> Self {
        Self::with_config(IaaConfig::default())
    }

    /// A fresh device of the given shape.
    pub fn with_config(config: IaaConfig) -> Self {
        let mem = GuestMemoryMmap::from_ranges(&[(GuestAddress(0), MEM_SIZE)]).unwrap();
        let msi = Arc::new(Messages::default());
        let iaa = Iaa::with_config(config, mem.clone(), msi.clone()).unwrap();
        Self {
            iaa,
            mem,
            msi,
            portal_offset: 0,
        }
    }

    pub fn cfg_read32(&mut self, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        self.iaa.read_config(offset, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn cfg_write16(&mut self, offset: u64, value: u16) {
        self.iaa.write_config(offset, &value.to_le_bytes());
    }

    pub fn read32(&mut self, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        self.iaa.read_bar(0, offset, &mut b);
        u32::from_le_bytes(b)
    }

    pub fn read64(&mut self, offset: u64) -> u64 {
        let mut b = [0u8; 8];
        self.iaa.read_bar(0, offset, &mut b);
        u64::from_le_bytes(b)
    }

    pub fn write32(&mut self, offset: u64, value: u32) {
        self.iaa.write_bar(0, offset, &value.to_le_bytes());
    }

    pub fn write64(&mut self, offset: u64, value: u64) {
        self.iaa.write_bar(0, offset, &value.to_le_bytes());
    }

    /// The MSI-X capability's offset, found by walking the list as Linux does.
    pub fn msix_cap(&mut self) -> u64 {
        let mut at = u64::from(self.cfg_read32(0x34) as u8);
        while at != 0 {
            let header = self.cfg_read32(at);
            if header as u8 == 0x11 {
                return at;
            }
            at = u64::from((header >> 8) as u8);
        }
        panic!("no MSI-X capability");
    }

    /// pci_enable_device + pci_set_master + pci_alloc_irq_vectors(all,
    /// MSI-X): memory decoding, bus mastering, MSI-X on with every vector
    /// unmasked (vector v's message data is 0x40 + v).
    pub fn pci_enable(&mut self) {
        self.cfg_write16(0x04, 0x0006);
        let cap = self.msix_cap();
        let vectors = (self.cfg_read32(cap) >> 16 & 0x7ff) + 1;
        assert_eq!(vectors, u32::from(self.iaa.config().msix_vectors()));
        for v in 0..u64::from(vectors) {
            let entry = MSIX_TABLE + 16 * v;
            self.write32(entry, 0xfee0_0000);
            self.write32(entry + 4, 0);
            self.write32(entry + 8, 0x40 + v as u32);
            self.write32(entry + 12, 0);
        }
        self.cfg_write16(cap + 2, 1 << 15);
    }

    /// idxd_cmd_exec: write CMD with int_req, expect vector 0 with
    /// INTCAUSE.cmd, acknowledge it as idxd_misc_thread does, return CMDSTS.
    pub fn command(&mut self, code: u32, operand: u32) -> u32 {
        assert!(self.msi.take().is_empty(), "stray interrupt");
        self.write32(CMD, CMD_INT_REQ | (code << CMD_CODE_SHIFT) | operand);
        assert_eq!(
            self.msi.take(),
            vec![0],
            "command {code} must interrupt on vector 0"
        );
        let cause = self.read32(INTCAUSE);
        assert_ne!(cause & INTC_CMD, 0);
        self.write32(INTCAUSE, cause);
        assert_eq!(self.read32(INTCAUSE), 0);
        self.read32(CMDSTS)
    }

    /// idxd_device_config for the IAA defaults (defaults.c): WQ 0 dedicated,
    /// all WQ entries, priority 10, in group 0 with engine 0; every group
    /// written with TC-A = TC-B = 1.
    pub fn write_config(&mut self) {
        let total = self.read64(WQCAP) as u32 & 0xffff;
        // The sticky OR: read the hardware WQCFG into the shadow copy first.
        let mut shadow = [0u32; 8];
        for (i, word) in shadow.iter_mut().enumerate() {
            *word |= self.read32(WQCFG_TABLE + 4 * i as u64);
        }
        shadow[0] = (shadow[0] & !0xffff) | total;
        shadow[1] &= !0xffff;
        shadow[2] = (shadow[2] & !0xf1) | 1 | (10 << 4);
        shadow[3] = (shadow[3] & !0x1ff) | 21;
        for (i, word) in shadow.iter().enumerate() {
            self.write32(WQCFG_TABLE + 4 * i as u64, *word);
            assert_eq!(
                self.read32(WQCFG_TABLE + 4 * i as u64) & !(3 << 30),
                *word & WQCFG_WRITABLE[i]
            );
        }
        let groups = self.read64(GRPCAP) & 0xff;
        for g in 0..groups {
            let entry = GRPCFG_TABLE + g * GRPCFG_ENTRY;
            for i in 0..4 {
                let wqs = u64::from(g == 0 && i == 0);
                self.write64(entry + 8 * i, wqs);
                assert_eq!(self.read64(entry + 8 * i), wqs);
            }
            self.write64(entry + GRPCFG_ENGINES, u64::from(g == 0));
            self.write64(entry + GRPCFG_FLAGS, 1 | (1 << 3));
            assert_eq!(self.read64(entry + GRPCFG_FLAGS), 1 | (1 << 3));
        }
        self.read32(GENCFG);
    }

    /// Everything idxd does from PCI probe to an enabled device (6.12
    /// init.c, device.c idxd_device_drv_probe).
    pub fn probe(&mut self) {
        self.pci_enable();
        assert_eq!(self.read32(VERSION), 0x100);
        assert_eq!(self.read32(GENSTS) & 3, STATE_DISABLED);
        // idxd_device_init_reset: polled, no interrupt.
        self.write32(CMD, cmd::RESET_DEVICE << CMD_CODE_SHIFT);
        assert_eq!(self.read32(CMDSTS) & (1 << 31), 0);
        assert!(self.msi.take().is_empty());
        let gencap = self.read64(GENCAP);
        assert_ne!(gencap & GENCAP_CONFIG_EN, 0);
        let genctrl = self.read32(GENCTRL);
        self.write32(GENCTRL, genctrl | 0b11);
        self.write_config();
        assert_eq!(self.command(cmd::ENABLE_DEVICE, 0), 0);
        assert_eq!(self.read32(GENSTS) & 3, STATE_ENABLED);
    }

    /// iaa_crypto binding WQ 0 (idxd_drv_enable_wq): config rewritten,
    /// ENABLE_WQ, and the AECS built in guest memory.
    pub fn enable_wq0(&mut self) {
        self.write_config();
        assert_eq!(self.command(cmd::ENABLE_WQ, 0), 0);
        self.mem
            .write_slice(&linux_fixed_aecs(), GuestAddress(AECS_ADDR))
            .unwrap();
    }

    /// A probed device with WQ 0 enabled for iaa_crypto.
    pub fn ready() -> Self {
        let mut d = Self::new();
        d.probe();
        d.enable_wq0();
        d
    }

    /// iosubmit_cmds512 to WQ `wq`'s limited portal, at the next slot.
    pub fn submit_to(&mut self, wq: u64, desc: &Descriptor) {
        let offset = wq * PORTALS_PER_WQ + PORTAL_PAGE + self.portal_offset;
        self.portal_offset = (self.portal_offset + 64) % PORTAL_PAGE;
        self.iaa.write_bar(2, offset, &desc.to_bytes());
    }

    /// Zeroes the completion record, submits to WQ 0, returns the record.
    pub fn run(&mut self, desc: &Descriptor) -> [u8; 64] {
        self.mem
            .write_slice(&[0u8; 64], GuestAddress(desc.completion_addr))
            .unwrap();
        self.submit_to(0, desc);
        self.record(desc.completion_addr)
    }

    pub fn record(&self, addr: u64) -> [u8; 64] {
        let mut record = [0u8; 64];
        self.mem
            .read_slice(&mut record, GuestAddress(addr))
            .unwrap();
        record
    }

    pub fn put(&self, addr: u64, data: &[u8]) {
        self.mem.write_slice(data, GuestAddress(addr)).unwrap();
    }

    pub fn get(&self, addr: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        self.mem.read_slice(&mut out, GuestAddress(addr)).unwrap();
        out
    }

    /// iaa_compress: compresses `data`; returns the record.
    pub fn compress(&mut self, data: &[u8], dlen: u32) -> [u8; 64] {
        self.put(SRC_ADDR, data);
        self.run(&compress_desc(data.len() as u32, dlen))
    }

    /// iaa_decompress of `stream` into DST_ADDR; returns the record.
    pub fn decompress(&mut self, stream: &[u8], dlen: u32) -> [u8; 64] {
        self.put(VERIFY_ADDR, stream);
        self.run(&decompress_desc(
            VERIFY_ADDR,
            stream.len() as u32,
            DST_ADDR,
            dlen,
        ))
    }
}

/// Completion record fields iaa_crypto reads.
pub fn status(record: &[u8; 64]) -> u8 {
    record[0]
}

pub fn error_code(record: &[u8; 64]) -> u8 {
    record[1]
}

pub fn output_size(record: &[u8; 64]) -> u32 {
    u32::from_le_bytes(record[24..28].try_into().unwrap())
}

pub fn crc(record: &[u8; 64]) -> u32 {
    u32::from_le_bytes(record[32..36].try_into().unwrap())
}
