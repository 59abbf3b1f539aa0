//! The IAA driver against a scripted register file (no device model):
//! the order and values of its register writes, its portal stores and
//! how it reads completion records, including the error paths a model
//! rarely takes (halted device, failing commands, records never written).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use guest_drivers::compress::Compressor;
use guest_drivers::iaa::{regs, Iaa, IaaError, Options, AECS_SIZE};
use guest_drivers::pci::{Bar, BarKind, Capability, HeaderType, MsiTarget, PciDevice};
use guest_drivers::{Bdf, Hal, HalError, Register};

const BAR0: u64 = 0xc000_0000;
const BAR2: u64 = 0xc010_0000;
const MSIX_CAP: u16 = 0x40;
const RAM: usize = 1 << 20;

/// What the fake does with the next descriptor.
#[derive(Debug, Clone, Copy)]
enum Reply {
    /// Writes a record: status, error code, output size, CRC.
    Record(u8, u8, u32, u32),
    /// Writes nothing.
    Silent,
}

/// A register file with IAA 1.0's capabilities (the spec's §3 values),
/// admin commands completing at once, and a portal that logs descriptors
/// and answers them as scripted.
#[derive(Debug)]
struct Fake {
    regs: RefCell<BTreeMap<u64, u64>>,
    commands: RefCell<Vec<u32>>,
    writes: RefCell<Vec<(u64, u64)>>,
    portal: RefCell<Vec<(u64, [u8; 64])>>,
    replies: RefCell<Vec<Reply>>,
    ram: RefCell<Vec<u8>>,
    next_dma: Cell<u64>,
    halted: Cell<bool>,
    fail_code: Cell<u32>,
    msix_control: Cell<u16>,
}

impl Fake {
    fn new() -> Self {
        let mut regs = BTreeMap::new();
        regs.insert(regs::VERSION, 0x100);
        regs.insert(regs::GENCAP, 0x801f_000c);
        regs.insert(regs::WQCAP, 0x000a_0000_0008_0080);
        regs.insert(regs::GRPCAP, 0x4);
        regs.insert(regs::ENGCAP, 0x8);
        regs.insert(regs::TABLE_OFFSET, 0x0000_000c_0008_0004);
        Self {
            regs: RefCell::new(regs),
            commands: RefCell::default(),
            writes: RefCell::default(),
            portal: RefCell::default(),
            replies: RefCell::default(),
            ram: RefCell::new(vec![0; RAM]),
            next_dma: Cell::new(0x10_0000 - 0x8_0000),
            halted: Cell::new(false),
            fail_code: Cell::new(0),
            msix_control: Cell::new(8), // 9 entries, disabled
        }
    }

    fn device() -> PciDevice {
        let bar = |index, address, size| Bar {
            index,
            kind: BarKind::Memory64,
            prefetchable: false,
            address,
            size,
        };
        PciDevice {
            bdf: Bdf::new(1, 0, 0),
            vendor_id: 0x8086,
            device_id: 0x0cfe,
            class: 0x08_80_00,
            revision: 0,
            header_type: HeaderType::Endpoint,
            multi_function: false,
            buses: None,
            bars: vec![bar(0, BAR0, 0x1_0000), bar(2, BAR2, 0x2_0000)],
            capabilities: vec![Capability {
                id: 0x11,
                offset: MSIX_CAP,
            }],
        }
    }

    fn reg(&self, offset: u64) -> u64 {
        self.regs.borrow().get(&offset).copied().unwrap_or(0)
    }

    /// Commands as (code, operand, interrupt requested).
    fn commands(&self) -> Vec<(u32, u32, bool)> {
        let cmds = self.commands.borrow();
        cmds.iter()
            .map(|c| ((c >> 20) & 0x1f, c & 0xf_ffff, c >> 31 == 1))
            .collect()
    }
}

impl Hal for Fake {
    fn map_mmio(&self, paddr: u64, _len: u64) -> Result<u64, HalError> {
        Ok(paddr)
    }

    fn mmio_read<T: Register>(&self, addr: u64) -> T {
        let offset = addr - BAR0;
        let value = match offset {
            regs::GENSTS if self.halted.get() => 3,
            _ => self.reg(offset),
        };
        T::from_u64(value)
    }

    fn mmio_write<T: Register>(&self, addr: u64, value: T) {
        let (offset, value) = (addr - BAR0, value.to_u64());
        self.writes.borrow_mut().push((offset, value));
        let mut regs = self.regs.borrow_mut();
        match offset {
            regs::CMD => {
                let cmd = value as u32;
                self.commands.borrow_mut().push(cmd);
                regs.insert(regs::CMDSTS, u64::from(self.fail_code.get()));
                match (cmd >> 20) & 0x1f {
                    1 => regs.insert(regs::GENSTS, 1),
                    2 | 5 => regs.insert(regs::GENSTS, 0),
                    _ => None,
                };
                if cmd >> 31 == 1 {
                    let cause = regs.get(&regs::INTCAUSE).copied().unwrap_or(0);
                    regs.insert(regs::INTCAUSE, cause | 2);
                }
            }
            regs::INTCAUSE => {
                let cause = regs.get(&offset).copied().unwrap_or(0);
                regs.insert(offset, cause & !value);
            }
            _ => {
                regs.insert(offset, value);
            }
        }
    }

    fn config_read<T: Register>(&self, _bdf: Bdf, offset: u16) -> T {
        T::from_u64(match offset {
            0x04 => 0x6,
            o if o == MSIX_CAP + 2 => u64::from(self.msix_control.get()),
            o if o == MSIX_CAP + 4 => 0x2000, // BAR 0 + 0x2000
            _ => 0,
        })
    }

    fn config_write<T: Register>(&self, _bdf: Bdf, offset: u16, value: T) {
        if offset == MSIX_CAP + 2 {
            self.msix_control.set(value.to_u64() as u16);
        }
    }

    fn dma_alloc(&self, size: usize) -> Result<u64, HalError> {
        let at = self.next_dma.get();
        self.next_dma.set(at + (size as u64).next_multiple_of(4096));
        Ok(at)
    }

    fn dma_read(&self, paddr: u64, buf: &mut [u8]) {
        let at = paddr as usize;
        buf.copy_from_slice(&self.ram.borrow()[at..at + buf.len()]);
    }

    fn dma_write(&self, paddr: u64, data: &[u8]) {
        let at = paddr as usize;
        self.ram.borrow_mut()[at..at + data.len()].copy_from_slice(data);
    }

    fn dma_load<T: Register>(&self, paddr: u64) -> T {
        let mut bytes = [0u8; 8];
        self.dma_read(paddr, &mut bytes[..T::SIZE]);
        T::from_u64(u64::from_le_bytes(bytes))
    }

    fn dma_store<T: Register>(&self, paddr: u64, value: T) {
        self.dma_write(paddr, &value.to_u64().to_le_bytes()[..T::SIZE]);
    }

    fn portal_write(&self, addr: u64, data: &[u8; 64]) {
        self.portal.borrow_mut().push((addr, *data));
        let reply = self.replies.borrow_mut().pop();
        if let Some(Reply::Record(status, error, size, crc)) = reply {
            let record = u64::from_le_bytes(data[8..16].try_into().unwrap());
            let mut bytes = [0u8; 64];
            bytes[0] = status;
            bytes[1] = error;
            bytes[24..28].copy_from_slice(&size.to_le_bytes());
            bytes[32..36].copy_from_slice(&crc.to_le_bytes());
            self.dma_write(record, &bytes);
        }
    }

    fn wait_until(&self, _timeout_ms: u64, done: &mut dyn FnMut() -> bool) -> bool {
        done()
    }
}

const TARGET: MsiTarget = MsiTarget {
    apic_id: 0,
    vector: 0x40,
};

fn polled() -> Options {
    Options {
        msi: None,
        completion_interrupts: false,
        verify: false,
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[test]
fn test_polled_bring_up_resets_configures_and_enables_in_linux_order() {
    let fake = Fake::new();
    let iaa = Iaa::new(&fake, &Fake::device(), polled()).unwrap();
    assert_eq!(
        fake.commands(),
        [(5, 0, false), (1, 0, false), (6, 0, false)],
        "reset, enable device, enable WQ 0; all polled"
    );
    let caps = iaa.controller().capabilities();
    assert_eq!((caps.num_wqs, caps.total_wq_size), (8, 128));
    // Group 0 holds WQ 0 and engine 0; groups 1-3 are written empty.
    assert_eq!(fake.reg(0x400), 1);
    assert_eq!(fake.reg(0x420), 1);
    assert_eq!(fake.reg(0x428), 0x9, "TC-A 1, TC-B 1, no read buffers");
    for group in 1..4 {
        assert_eq!(fake.reg(0x400 + 64 * group), 0);
        assert_eq!(fake.reg(0x420 + 64 * group), 0);
    }
    // WQ 0: all 128 entries, dedicated, priority 10, 2 MiB transfers.
    assert_eq!(fake.reg(0x800), 128);
    assert_eq!(fake.reg(0x808), 1 | (10 << 4));
    assert_eq!(fake.reg(0x80c), 21);
    // The configuration is written before ENABLE_DEVICE.
    let writes = fake.writes.borrow();
    let enable = writes
        .iter()
        .position(|&(o, v)| o == regs::CMD && v == 1 << 20);
    let last_config = writes
        .iter()
        .rposition(|&(o, _)| (0x400..0x900).contains(&o));
    assert!(last_config < enable);
}

#[test]
fn test_interrupt_mode_programs_msix_and_requests_command_interrupts() {
    let fake = Fake::new();
    Iaa::new(
        &fake,
        &Fake::device(),
        Options {
            msi: Some(TARGET),
            ..polled()
        },
    )
    .unwrap();
    assert_eq!(
        fake.commands(),
        [(5, 0, false), (1, 0, true), (6, 0, true)],
        "the probe reset stays polled"
    );
    assert_eq!(
        fake.reg(regs::GENCTRL),
        0x3,
        "software-error and halt interrupts"
    );
    assert_eq!(fake.reg(regs::INTCAUSE), 0, "command cause cleared");
    assert_eq!(
        fake.msix_control.get() & 0xc000,
        0x8000,
        "enabled, unmasked"
    );
    // Entries 0 and 1 of the table at BAR0 + 0x2000 point at the target.
    assert_eq!(fake.reg(0x2000), 0xfee0_0000);
    assert_eq!(fake.reg(0x2008), 0x40);
    assert_eq!(fake.reg(0x2010), 0xfee0_0000);
    assert_eq!(fake.reg(0x2018), 0x40);
}

#[test]
fn test_compress_descriptor_goes_to_limited_portal_with_the_fixed_aecs() {
    let fake = Fake::new();
    let mut iaa = Iaa::new(&fake, &Fake::device(), polled()).unwrap();
    fake.replies
        .borrow_mut()
        .push(Reply::Record(1, 0, 40, 0x1234));
    let mut out = [0u8; 4096];
    let page = [7u8; 4096];
    assert_eq!(iaa.compress(&page, &mut out), Ok(40));
    let portal = fake.portal.borrow();
    let (addr, desc) = portal[0];
    assert_eq!(addr, BAR2 + 0x1000, "WQ 0's limited MSI-X portal, slot 0");
    assert_eq!(u32_at(&desc, 4), 0x4301_010c);
    assert_eq!(u32_at(&desc, 32), 4096, "source size");
    assert_eq!(u32_at(&desc, 48), 4096, "max destination size");
    assert_eq!(u32_at(&desc, 52), AECS_SIZE as u32);
    assert_eq!(u64_at(&desc, 40) % 32, 0, "AECS 32-byte aligned");
    assert_eq!(u64_at(&desc, 8) % 64, 0, "record 64-byte aligned");
    let mut aecs = [0u8; AECS_SIZE];
    fake.dma_read(u64_at(&desc, 40), &mut aecs);
    assert_eq!(aecs[..], guest_drivers::iaa::fixed_mode_aecs()[..]);
    let mut staged = [0u8; 4096];
    fake.dma_read(u64_at(&desc, 16), &mut staged);
    assert_eq!(staged, page);
}

#[test]
fn test_verify_uses_suppressed_decompress_and_compares_crcs() {
    let fake = Fake::new();
    let options = Options {
        verify: true,
        ..polled()
    };
    let mut iaa = Iaa::new(&fake, &Fake::device(), options).unwrap();
    // Replies pop from the end: compress first, then verify.
    fake.replies.borrow_mut().extend([
        Reply::Record(1, 0, 4096, 0xaaaa),
        Reply::Record(1, 0, 40, 0xaaaa),
    ]);
    let mut out = [0u8; 64];
    assert_eq!(iaa.compress(&[1; 4096], &mut out), Ok(40));
    let portal = fake.portal.borrow();
    let (compress, verify) = (portal[0].1, portal[1].1);
    assert_eq!(portal[1].0, BAR2 + 0x1040, "next slot");
    assert_eq!(u32_at(&verify, 4), 0x4200_010c);
    assert_eq!(u32_at(&verify, 36) >> 16, 0x020f, "suppress output");
    assert_eq!(
        u64_at(&verify, 16),
        u64_at(&compress, 24),
        "reads the output"
    );
    assert_eq!(u64_at(&verify, 24), u64_at(&compress, 16), "names the page");
    assert_eq!(u32_at(&verify, 32), 40);
    assert_eq!(u32_at(&verify, 48), 4096);
    drop(portal);
    fake.replies.borrow_mut().extend([
        Reply::Record(1, 0, 4096, 0xbbbb),
        Reply::Record(1, 0, 40, 0xaaaa),
    ]);
    assert_eq!(
        iaa.compress(&[1; 4096], &mut out),
        Err(IaaError::VerifyFailed {
            compress: 0xaaaa,
            verify: 0xbbbb
        })
    );
}

#[test]
fn test_portal_slots_cycle_through_the_page() {
    let fake = Fake::new();
    let mut iaa = Iaa::new(&fake, &Fake::device(), polled()).unwrap();
    for _ in 0..65 {
        fake.replies.borrow_mut().push(Reply::Record(1, 0, 1, 0));
        iaa.decompress(&[0x03, 0x00], &mut [0u8; 16]).unwrap();
    }
    let portal = fake.portal.borrow();
    assert_eq!(portal[63].0, BAR2 + 0x1000 + 63 * 64);
    assert_eq!(portal[64].0, BAR2 + 0x1000, "wraps at 4 KiB");
    assert_eq!(iaa.descriptors(), 65);
}

#[test]
fn test_completion_errors_map_like_iaa_crypto() {
    let fake = Fake::new();
    let mut iaa = Iaa::new(&fake, &Fake::device(), polled()).unwrap();
    let mut out = [0u8; 4096];
    fake.replies
        .borrow_mut()
        .push(Reply::Record(0x0a, 0x19, 0, 0));
    let err = iaa.compress(&[9; 4096], &mut out).unwrap_err();
    assert!(err.is_incompressible(), "{err}");
    fake.replies.borrow_mut().push(Reply::Record(0x0b, 0, 0, 0));
    assert_eq!(
        iaa.decompress(&[1, 2, 3], &mut out),
        Err(IaaError::OutputOverflow)
    );
    fake.replies
        .borrow_mut()
        .push(Reply::Record(0x0a, 0x0d, 0, 0));
    assert_eq!(
        iaa.decompress(&[1, 2, 3], &mut out),
        Err(IaaError::Status {
            status: 0x0a,
            error_code: 0x0d
        })
    );
    fake.replies.borrow_mut().push(Reply::Silent);
    assert_eq!(
        iaa.decompress(&[1, 2, 3], &mut out),
        Err(IaaError::CompletionTimeout)
    );
}

#[test]
fn test_oversized_and_empty_buffers_are_refused_before_the_device() {
    let fake = Fake::new();
    let mut iaa = Iaa::new(&fake, &Fake::device(), polled()).unwrap();
    let big = vec![0u8; guest_drivers::iaa::BOUNCE_SIZE + 1];
    assert_eq!(
        iaa.compress(&big, &mut [0u8; 16]),
        Err(IaaError::BadLength(big.len()))
    );
    assert_eq!(
        iaa.decompress(&[], &mut [0u8; 16]),
        Err(IaaError::BadLength(0))
    );
    assert!(fake.portal.borrow().is_empty());
}

#[test]
fn test_output_longer_than_the_slice_is_an_error() {
    let fake = Fake::new();
    let mut iaa = Iaa::new(&fake, &Fake::device(), polled()).unwrap();
    fake.replies.borrow_mut().push(Reply::Record(1, 0, 100, 0));
    assert_eq!(
        iaa.decompress(&[1], &mut [0u8; 16]),
        Err(IaaError::BadLength(100))
    );
}

#[test]
fn test_halted_device_takes_no_command() {
    let fake = Fake::new();
    fake.halted.set(true);
    let err = Iaa::new(&fake, &Fake::device(), polled()).unwrap_err();
    assert_eq!(err, IaaError::Halted);
    assert!(fake.commands().is_empty());
}

#[test]
fn test_failing_enable_reports_the_command_and_code() {
    let fake = Fake::new();
    fake.fail_code.set(0x11);
    let err = Iaa::new(&fake, &Fake::device(), polled()).unwrap_err();
    assert_eq!(
        err,
        IaaError::CommandFailed(regs::Command::ResetDevice, 0x11)
    );
    assert_eq!(
        err.to_string(),
        "IAA command ResetDevice failed with status 0x11"
    );
}

#[test]
fn test_reset_does_not_accept_already_enabled() {
    let fake = Fake::new();
    fake.fail_code.set(0x10);
    // 0x10 means "already enabled" only for ENABLE_DEVICE.
    assert!(Iaa::new(&fake, &Fake::device(), polled()).is_err());
}

#[test]
fn test_disabled_driver_refuses_descriptors() {
    let fake = Fake::new();
    let mut iaa = Iaa::new(&fake, &Fake::device(), polled()).unwrap();
    iaa.disable().unwrap();
    assert_eq!(&fake.commands()[3..], [(2, 0, false), (5, 0, false)]);
    assert_eq!(
        iaa.decompress(&[1], &mut [0u8; 16]),
        Err(IaaError::NoWorkQueue)
    );
}

#[test]
fn test_wrong_ids_and_missing_bars_are_refused() {
    let fake = Fake::new();
    let mut device = Fake::device();
    device.device_id = 0x0b25;
    assert!(matches!(
        Iaa::new(&fake, &device, polled()),
        Err(IaaError::NotIaa(_))
    ));
    let mut device = Fake::device();
    device.bars.retain(|b| b.index != 2);
    assert_eq!(
        Iaa::new(&fake, &device, polled()).unwrap_err(),
        IaaError::MissingBar(2)
    );
}
