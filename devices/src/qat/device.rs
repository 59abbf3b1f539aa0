//! The QAT 420xx physical function as a PCIe endpoint: configuration
//! space (PCI Express and power management capabilities, MSI-X, the fuse
//! registers in extended space), and the three 64-bit BARs.
//!
//! | BAR | size  | holds                                                  |
//! |-----|-------|--------------------------------------------------------|
//! | 0   | 2 MiB | SRAM (unused by Linux): MSI-X table at 0, PBA at 0x1000 |
//! | 2   | 8 MiB | PMISC: routing, errors, PM, admin, AE/FCU loader CSRs   |
//! | 4   | 2 MiB | ETR: 64 ring banks at 0x100000, ring-pair reset at 0x6000 |

use std::os::fd::RawFd;
use std::sync::Arc;

use thiserror::Error;

use super::irq::Interrupts;
use super::pmisc::Pmisc;
use super::regs::*;
use super::sparse::{read_words, write_words, SparseRegs};
use super::transport::Transport;
use crate::pci::{
    pcie_capability, power_management_capability, Bar, BarKind, ConfigError, ConfigSpace,
    HeaderType, MsiSink, PciFunction, PciePortType, MSIX_CAP_ID, PCIE_CAP_ID, PM_CAP_ID,
};
use crate::virtio::{EventHandler, GuestMemory};

/// The command register's offset.
const PCI_COMMAND: u64 = 0x04;
/// Command: bus master enable.
const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// The vendor-specific extended capability ID.
const VSEC_ID: u16 = 0x000b;

/// Errors building the function (the model's mistakes, not the guest's).
#[derive(Debug, Error)]
pub enum QatError {
    /// The configuration space could not hold the capabilities.
    #[error("configuration space: {0}")]
    Config(#[from] ConfigError),
    /// The doorbell eventfd could not be created.
    #[error("eventfd: {0}")]
    EventFd(#[from] std::io::Error),
}

/// An Intel QAT 420xx physical function (8086:4946).
///
/// Register accesses come from vCPU threads through [`PciFunction`]; a
/// ring doorbell only signals an eventfd. Requests are served on the
/// VMM's event thread through [`events`](Self::events) and
/// [`handler`](Self::handler), which does not take this object's lock.
pub struct Qat420xx {
    config: ConfigSpace,
    msix_cap: usize,
    pmisc: Pmisc,
    sram: SparseRegs,
    etr: SparseRegs,
    reset_status: u64,
    transport: Arc<Transport>,
}

impl std::fmt::Debug for Qat420xx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qat420xx").finish_non_exhaustive()
    }
}

impl Qat420xx {
    /// A function working on `mem` that interrupts through `msi`, with
    /// all 17 engines present and the UCS slice fused off (FUSECTL1 bit 4).
    pub fn new(mem: GuestMemory, msi: Arc<dyn MsiSink>) -> Result<Self, QatError> {
        let irq = Arc::new(Interrupts::new(msi));
        let (config, msix_cap) = Self::config_space(&irq)?;
        Ok(Self {
            config,
            msix_cap,
            pmisc: Pmisc::default(),
            sram: SparseRegs::default(),
            etr: SparseRegs::default(),
            reset_status: 0,
            transport: Arc::new(Transport::new(mem, irq)?),
        })
    }

    fn config_space(irq: &Interrupts) -> Result<(ConfigSpace, usize), ConfigError> {
        let mut config = ConfigSpace::new(
            VENDOR_ID,
            DEVICE_ID,
            CLASS_CODE,
            REVISION,
            HeaderType::Endpoint,
        );
        config.set_subsystem(VENDOR_ID, 0);
        let kind = BarKind::Memory64 {
            prefetchable: false,
        };
        config.set_bar(
            usize::from(SRAM_BAR),
            Bar {
                kind,
                size: SRAM_BAR_SIZE,
            },
        )?;
        config.set_bar(
            usize::from(PMISC_BAR),
            Bar {
                kind,
                size: PMISC_BAR_SIZE,
            },
        )?;
        config.set_bar(
            usize::from(ETR_BAR),
            Bar {
                kind,
                size: ETR_BAR_SIZE,
            },
        )?;
        let (body, mask) = pcie_capability(PciePortType::Endpoint, 0);
        config.add_capability(PCIE_CAP_ID, &body, &mask)?;
        let (body, mask) = power_management_capability();
        config.add_capability(PM_CAP_ID, &body, &mask)?;
        let (body, mask) = irq.msix().capability(
            SRAM_BAR,
            MSIX_TABLE_OFFSET as u32,
            SRAM_BAR,
            MSIX_PBA_OFFSET as u32,
        );
        let msix_cap = config.add_capability(MSIX_CAP_ID, &body, &mask)?;
        // Extended space must not read all ones at 0x100 (Linux checks it
        // before using it); a vendor-specific capability sits there.
        config.add_ext_capability(VSEC_ID, 1, &[0x20, 0x04, 0x10, 0x00], &[])?;
        Ok((config, msix_cap))
    }

    /// The descriptors the event thread polls, with their tokens (one:
    /// the doorbell eventfd, token 0).
    pub fn events(&self) -> Vec<(RawFd, u32)> {
        self.transport.events()
    }

    /// Serves the rings (the same as [`handler`](Self::handler)`.handle_event`).
    pub fn handle_event(&self, token: u32) {
        self.transport.handle_event(token);
    }

    /// The event side on its own: polls [`events`](Self::events) and
    /// serves the rings without this object's lock.
    pub fn handler(&self) -> Arc<dyn EventHandler> {
        self.transport.clone()
    }

    /// Engines holding loaded firmware (FCU_AE_LOADED).
    pub fn loaded_engines(&self) -> u32 {
        self.pmisc.loader().loaded()
    }

    /// Whether the firmware was started (FCU START).
    pub fn started(&self) -> bool {
        self.pmisc.loader().started()
    }

    /// The heartbeat page and constants table the admin commands named.
    pub fn admin_pages(&self) -> (u64, u64) {
        self.pmisc.admin().pages()
    }

    /// Function-level reset: every BAR register, ring bank, loader and
    /// admin state back to power-on values (configuration space and the
    /// MSI-X table are PCI's and stay).
    pub fn reset(&mut self) {
        self.pmisc.reset();
        self.sram.clear();
        self.etr.clear();
        self.reset_status = 0;
        self.transport.reset();
    }

    fn read_etr(&self, offset: u64) -> u32 {
        let bank_end = BANK_BASE + BANK_STRIDE * BANKS as u64;
        match offset {
            o if (BANK_BASE..bank_end).contains(&o) => {
                let rel = o - BANK_BASE;
                self.transport
                    .read_csr((rel / BANK_STRIDE) as usize, rel % BANK_STRIDE)
            }
            o if (RPRESETCTL..RPRESETCTL + 8 * BANKS as u64).contains(&o) => {
                let bank = (o - RPRESETCTL) / 8;
                if o % 8 == RPRESETSTS % 8 {
                    (self.reset_status >> bank & 1) as u32
                } else {
                    0
                }
            }
            o => self.etr.get(o),
        }
    }

    fn write_etr(&mut self, offset: u64, value: u32) {
        let bank_end = BANK_BASE + BANK_STRIDE * BANKS as u64;
        match offset {
            o if (BANK_BASE..bank_end).contains(&o) => {
                let rel = o - BANK_BASE;
                self.transport
                    .write_csr((rel / BANK_STRIDE) as usize, rel % BANK_STRIDE, value);
            }
            o if (RPRESETCTL..RPRESETCTL + 8 * BANKS as u64).contains(&o) => {
                let bank = (o - RPRESETCTL) / 8;
                if o % 8 == RPRESETSTS % 8 {
                    if value & 1 != 0 {
                        self.reset_status &= !(1 << bank);
                    }
                } else if value & 1 != 0 {
                    self.transport.reset_bank(bank as usize);
                    self.reset_status |= 1 << bank;
                }
            }
            o => self.etr.set(o, value),
        }
    }

    fn read_sram(&self, offset: u64, data: &mut [u8]) {
        let table_end = MSIX_TABLE_OFFSET + self.transport.irq.msix().table_size();
        let pba_end = MSIX_PBA_OFFSET + self.transport.irq.msix().pba_size();
        if (MSIX_TABLE_OFFSET..table_end).contains(&offset) {
            self.transport
                .irq
                .msix()
                .read_table(offset - MSIX_TABLE_OFFSET, data);
        } else if (MSIX_PBA_OFFSET..pba_end).contains(&offset) {
            self.transport
                .irq
                .msix()
                .read_pba(offset - MSIX_PBA_OFFSET, data);
        } else {
            read_words(offset, data, |w| self.sram.get(w));
        }
    }

    fn write_sram(&mut self, offset: u64, data: &[u8]) {
        let table_end = MSIX_TABLE_OFFSET + self.transport.irq.msix().table_size();
        if (MSIX_TABLE_OFFSET..table_end).contains(&offset) {
            let at = offset - MSIX_TABLE_OFFSET;
            self.transport.irq.update_msix(|m| m.write_table(at, data));
        } else if !(MSIX_PBA_OFFSET..MSIX_PBA_OFFSET + 0x1000).contains(&offset) {
            let sram = &mut self.sram;
            let snapshot = sram.clone();
            write_words(offset, data, |w| snapshot.get(w), |w, v| sram.set(w, v));
        }
    }

    fn overlaps(offset: u64, len: usize, start: u64, size: u64) -> bool {
        offset < start + size && offset.saturating_add(len as u64) > start
    }
}

impl PciFunction for Qat420xx {
    fn name(&self) -> &str {
        "qat-420xx"
    }

    fn config(&self) -> &ConfigSpace {
        &self.config
    }

    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn read_config(&mut self, offset: u64, data: &mut [u8]) {
        self.config.read(offset, data);
        // The fuses FUSECTL0..5 (0x2c8..0x2e0) are read only: all engines
        // present (FUSECTL4 = 0), the UCS slice absent (FUSECTL1 bit 4).
        for (i, byte) in data.iter_mut().enumerate() {
            let Some(at) = offset.checked_add(i as u64) else {
                continue;
            };
            if let Some(rel) = at.checked_sub(FUSECTL0 as u64).filter(|r| *r < 24) {
                let word = match FUSECTL0 as u64 + (rel & !3) {
                    o if o == FUSECTL1 as u64 => FUSE_UCS_SLICE_OFF,
                    _ => 0,
                };
                *byte = word.to_le_bytes()[(rel % 4) as usize];
            }
        }
    }

    fn write_config(&mut self, offset: u64, data: &[u8]) {
        self.config.write(offset, data);
        if Self::overlaps(offset, data.len(), PCI_COMMAND, 2) {
            let on = self.config.command() & COMMAND_BUS_MASTER != 0;
            let was = self.transport.irq.bus_master();
            self.transport.irq.set_bus_master(on);
            if on && !was {
                self.transport.kick_all();
            }
        }
        let control = self.msix_cap as u64 + 2;
        if Self::overlaps(offset, data.len(), control, 2) {
            let mut bytes = [0u8; 2];
            self.config.read(control, &mut bytes);
            let value = u16::from_le_bytes(bytes);
            self.transport.irq.update_msix(|m| m.set_control(value));
        }
    }

    fn read_bar(&mut self, bar: u8, offset: u64, data: &mut [u8]) {
        match bar {
            SRAM_BAR => self.read_sram(offset, data),
            PMISC_BAR => {
                let (pmisc, t) = (&mut self.pmisc, &self.transport);
                read_words(offset, data, |w| pmisc.read(t, w));
            }
            ETR_BAR => read_words(offset, data, |w| self.read_etr(w)),
            _ => data.fill(0xff),
        }
    }

    fn write_bar(&mut self, bar: u8, offset: u64, data: &[u8]) {
        match bar {
            SRAM_BAR => self.write_sram(offset, data),
            PMISC_BAR => {
                let mut words = Vec::new();
                let (pmisc, t) = (&mut self.pmisc, &self.transport);
                write_words(
                    offset,
                    data,
                    |w| pmisc.peek(t, w),
                    |w, v| words.push((w, v)),
                );
                for (word, value) in words {
                    self.pmisc.write(&self.transport, word, value);
                }
            }
            ETR_BAR => {
                let mut words = Vec::new();
                write_words(
                    offset,
                    data,
                    |w| self.read_etr(w),
                    |w, v| words.push((w, v)),
                );
                for (word, value) in words {
                    self.write_etr(word, value);
                }
            }
            _ => {}
        }
    }
}
