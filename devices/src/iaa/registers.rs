//! The BAR 0 register file: capability registers, GENCFG/GENCTRL/GENSTS,
//! INTCAUSE, CMD/CMDSTS, SWERR and the GRPCFG, WQCFG and MSI-X permission
//! tables. Accesses of any width and alignment work byte by byte; a write
//! that completes the CMD register's top byte issues the command, which
//! the device then executes.

use super::config::IaaConfig;
use super::regs::*;
use super::table::Table;

/// Where in BAR 0 a byte falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The control registers at 0x00-0xff.
    Control,
    Grpcfg(u64),
    Wqcfg(u64),
    MsixPerm(u64),
    Unused,
}

/// The register file (the device owns the MSI-X table and PBA).
#[derive(Debug, Clone)]
pub struct Registers {
    config: IaaConfig,
    /// GENCFG.
    pub gencfg: u32,
    /// GENCTRL.
    pub genctrl: u32,
    /// GENSTS.state is "enabled".
    pub enabled: bool,
    /// INTCAUSE.
    pub intcause: u32,
    /// The last value written to CMD.
    pub cmd: u32,
    /// CMDSTS.
    pub cmdsts: u32,
    /// SWERR.
    pub swerr: [u64; 4],
    /// GRPCFG, one 64-byte entry per group.
    pub grpcfg: Table,
    /// WQCFG, one 32-byte entry per WQ.
    pub wqcfg: Table,
    /// The MSI-X permission table, 8 bytes per vector.
    pub msix_perm: Table,
    /// Which WQs are enabled.
    pub wq_enabled: Vec<bool>,
}

fn grpcfg_mask() -> [u8; GRPCFG_ENTRY as usize] {
    let mut mask = [0xff; GRPCFG_ENTRY as usize];
    mask[0x30..].fill(0);
    mask
}

fn wqcfg_mask() -> [u8; WQCFG_ENTRY as usize] {
    let mut mask = [0u8; WQCFG_ENTRY as usize];
    for (i, word) in WQCFG_WRITABLE.iter().enumerate() {
        mask[4 * i..4 * i + 4].copy_from_slice(&word.to_le_bytes());
    }
    mask
}

/// MSI-X permission entry: ignore (bit 2), PASID enable (3), PASID (31:12).
const MSIX_PERM_MASK: [u8; MSIX_PERM_ENTRY as usize] = [0x0c, 0xf0, 0xff, 0xff, 0, 0, 0, 0];

impl Registers {
    /// The registers after power-on (and after RESET_DEVICE).
    pub fn new(config: IaaConfig) -> Self {
        Self {
            config,
            gencfg: 0,
            genctrl: 0,
            enabled: false,
            intcause: 0,
            cmd: 0,
            cmdsts: 0,
            swerr: [0; 4],
            grpcfg: Table::new(usize::from(config.groups), &grpcfg_mask()),
            wqcfg: Table::new(usize::from(config.work_queues), &wqcfg_mask()),
            msix_perm: Table::new(usize::from(config.msix_vectors()), &MSIX_PERM_MASK),
            wq_enabled: vec![false; usize::from(config.work_queues)],
        }
    }

    /// RESET_DEVICE: everything writable back to 0, device and WQs disabled.
    pub fn reset(&mut self) {
        let intcause = self.intcause;
        *self = Self::new(self.config);
        self.intcause = intcause;
    }

    fn place(&self, offset: u64) -> Place {
        let within = |start: u64, len: u64| offset.checked_sub(start).filter(|o| *o < len);
        if offset < 0x100 {
            Place::Control
        } else if let Some(o) = within(GRPCFG_TABLE, self.grpcfg.len()) {
            Place::Grpcfg(o)
        } else if let Some(o) = within(WQCFG_TABLE, self.wqcfg.len()) {
            Place::Wqcfg(o)
        } else if let Some(o) = within(MSIX_PERM_TABLE, self.msix_perm.len()) {
            Place::MsixPerm(o)
        } else {
            Place::Unused
        }
    }

    /// The 64-bit control register slot at `slot` (8-byte aligned, < 0x100).
    fn control_qword(&self, slot: u64) -> u64 {
        let c = &self.config;
        match slot {
            VERSION => u64::from(VERSION_1_0),
            GENCAP => c.gencap(),
            WQCAP => c.wqcap(),
            GRPCAP => c.grpcap(),
            ENGCAP => c.engcap(),
            // NOOP (0) and DRAIN (2); DECOMPRESS (0x42) and COMPRESS (0x43).
            OPCAP => 0b101,
            0x48 => 0b1100,
            TABLE_OFFSET => c.table_offsets(),
            GENCFG => u64::from(self.gencfg),
            GENCTRL => u64::from(self.genctrl),
            GENSTS => u64::from(if self.enabled {
                STATE_ENABLED
            } else {
                STATE_DISABLED
            }),
            INTCAUSE => u64::from(self.intcause),
            CMD => u64::from(self.cmd),
            CMDSTS => u64::from(self.cmdsts),
            s if (SWERR..SWERR + SWERR_LEN).contains(&s) => {
                self.swerr[((s - SWERR) / 8) as usize % 4]
            }
            _ => 0,
        }
    }

    /// The byte at BAR 0 `offset` (the MSI-X table and PBA excepted).
    fn read_byte(&self, offset: u64) -> u8 {
        match self.place(offset) {
            Place::Control => self.control_qword(offset & !7).to_le_bytes()[(offset % 8) as usize],
            Place::Grpcfg(o) => self.grpcfg.byte(o),
            Place::Wqcfg(o) => self.wqcfg_byte(o),
            Place::MsixPerm(o) => self.msix_perm.byte(o),
            Place::Unused => 0,
        }
    }

    /// WQCFG with the read-only WQ state (dword 6, bits 31:30) filled in.
    fn wqcfg_byte(&self, offset: u64) -> u8 {
        let within = offset % WQCFG_ENTRY;
        if within == 6 * 4 + 3 {
            let wq = self.wqcfg.entry_of(offset);
            let enabled = self.wq_enabled.get(wq).copied().unwrap_or(false);
            return u8::from(enabled) << (WQCFG_STATE_SHIFT - 24);
        }
        self.wqcfg.byte(offset)
    }

    /// A read of `data.len()` bytes at `offset`.
    pub fn read(&self, offset: u64, data: &mut [u8]) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = offset
                .checked_add(i as u64)
                .map_or(0, |at| self.read_byte(at));
        }
    }

    /// A write of `data` at `offset`; returns the command to execute if
    /// the write completed CMD.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Option<u32> {
        let mut command = None;
        for (i, &value) in data.iter().enumerate() {
            let Some(at) = offset.checked_add(i as u64) else {
                break;
            };
            if self.write_byte(at, value) {
                command = Some(self.cmd);
            }
        }
        command
    }

    /// Stores one byte; true if it was CMD's top byte.
    fn write_byte(&mut self, offset: u64, value: u8) -> bool {
        match self.place(offset) {
            Place::Control => return self.write_control(offset, value),
            Place::Grpcfg(o) => self.grpcfg.set_byte(o, value),
            Place::Wqcfg(o) => {
                let wq = self.wqcfg.entry_of(o);
                // A WQ's configuration is locked while it is enabled.
                if !self.wq_enabled.get(wq).copied().unwrap_or(true) {
                    self.wqcfg.set_byte(o, value);
                }
            }
            Place::MsixPerm(o) => self.msix_perm.set_byte(o, value),
            Place::Unused => {}
        }
        false
    }

    fn write_control(&mut self, offset: u64, value: u8) -> bool {
        let shift = 8 * (offset % 4) as u32;
        let merge =
            |old: u32, mask: u32| (old & !(0xff << shift)) | ((u32::from(value) << shift) & mask);
        let dword = offset & !3;
        match dword {
            GENCFG => self.gencfg = merge(self.gencfg, GENCFG_WRITABLE),
            GENCTRL => self.genctrl = merge(self.genctrl, GENCTRL_WRITABLE),
            INTCAUSE => self.intcause &= !(u32::from(value) << shift),
            CMD => {
                self.cmd = merge(self.cmd, u32::MAX);
                return offset == CMD + 3;
            }
            // Writing 1 to valid or overflow clears it; clearing valid
            // releases the whole record.
            SWERR if offset == SWERR => {
                self.swerr[0] &= !(u64::from(value) & (SWERR_VALID | SWERR_OVERFLOW));
                if self.swerr[0] & SWERR_VALID == 0 {
                    self.swerr = [0; 4];
                }
            }
            _ => {}
        }
        false
    }

    /// Records a software error: the first one fills SWERR, later ones
    /// only set its overflow bit until the driver acknowledges.
    pub fn record_swerr(&mut self, record: [u64; 4]) {
        if self.swerr[0] & SWERR_VALID != 0 {
            self.swerr[0] |= SWERR_OVERFLOW;
        } else {
            self.swerr = record;
            self.swerr[0] |= SWERR_VALID;
        }
        self.intcause |= INTC_ERR;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read32(r: &Registers, offset: u64) -> u32 {
        let mut b = [0u8; 4];
        r.read(offset, &mut b);
        u32::from_le_bytes(b)
    }

    #[test]
    fn test_capabilities_read_as_64_and_32_bit() {
        let r = Registers::new(IaaConfig::default());
        let mut b = [0u8; 8];
        r.read(WQCAP, &mut b);
        assert_eq!(u64::from_le_bytes(b), IaaConfig::default().wqcap());
        assert_eq!(read32(&r, VERSION), 0x100);
        assert_eq!(read32(&r, GENCAP + 4), 0);
        assert_eq!(read32(&r, OPCAP + 8), 0b1100);
    }

    #[test]
    fn test_command_issues_on_its_top_byte() {
        let mut r = Registers::new(IaaConfig::default());
        assert_eq!(
            r.write(CMD, &0x8010_0000u32.to_le_bytes()),
            Some(0x8010_0000)
        );
        assert_eq!(r.write(CMD, &[0, 0]), None);
        assert_eq!(r.write(CMD + 3, &[0x00]), Some(0x0010_0000));
    }

    #[test]
    fn test_intcause_is_write_one_to_clear() {
        let mut r = Registers::new(IaaConfig::default());
        r.intcause = INTC_CMD | INTC_ERR;
        r.write(INTCAUSE, &INTC_CMD.to_le_bytes());
        assert_eq!(read32(&r, INTCAUSE), INTC_ERR);
    }

    #[test]
    fn test_wqcfg_keeps_writable_bits_and_locks_when_enabled() {
        let mut r = Registers::new(IaaConfig::default());
        r.write(WQCFG_TABLE + 8, &0xffff_ffffu32.to_le_bytes());
        assert_eq!(read32(&r, WQCFG_TABLE + 8), 0x3fff_fff1);
        r.wq_enabled[0] = true;
        r.write(WQCFG_TABLE, &5u32.to_le_bytes());
        assert_eq!(read32(&r, WQCFG_TABLE), 0);
        assert_eq!(read32(&r, WQCFG_TABLE + 24) >> 30, 1, "state: enabled");
        r.reset();
        assert_eq!(read32(&r, WQCFG_TABLE + 8), 0);
    }

    #[test]
    fn test_swerr_acknowledge_clears_the_record() {
        let mut r = Registers::new(IaaConfig::default());
        r.record_swerr([0x1b00 | SWERR_DESC_VALID, 0, 0x40, 0]);
        r.record_swerr([0, 0, 0, 0]);
        assert_eq!(r.swerr[0] & 0b11, 0b11);
        r.write(SWERR, &[0x03]);
        assert_eq!(r.swerr, [0; 4]);
    }
}
