//! The IAA PCI function: configuration space, BAR 0 registers and MSI-X,
//! admin commands with their completion interrupt, and the BAR 2 portals
//! whose 64-byte writes run descriptors synchronously on the writer's
//! (vCPU) thread.

use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;

use thiserror::Error;
use vm_memory::{Bytes, GuestAddress};

use super::command::{self, Context};
use super::config::{IaaConfig, IaaConfigError};
use super::descriptor::{status, Completion, Descriptor, FLAG_CRAV, FLAG_RCI, FLAG_RCR};
use super::engine::{Engine, EngineStats};
use super::registers::Registers;
use super::regs::*;
use crate::pci::{
    pcie_capability, power_management_capability, Bar, BarKind, ConfigError, ConfigSpace,
    HeaderType, MsiMessage, MsiSink, Msix, PciFunction, PciePortType, MSIX_CAP_ID, PCIE_CAP_ID,
    PM_CAP_ID,
};
use crate::virtio::GuestMemory;

/// The PCI command register's bus master enable bit.
const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// The BAR holding the registers and the one holding the portals.
const REGISTER_BAR: u8 = 0;
const PORTAL_BAR: u8 = 2;

/// Errors building an IAA function (the VMM's configuration, not the guest's).
#[derive(Debug, Error)]
pub enum IaaError {
    /// The device shape is out of range.
    #[error("IAA configuration: {0}")]
    Config(#[from] IaaConfigError),
    /// The configuration space could not hold the BARs or capabilities.
    #[error("IAA configuration space: {0}")]
    ConfigSpace(#[from] ConfigError),
}

/// Counters the VMM may report (`--timings`, traces, tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IaaStats {
    /// Descriptors run, by kind.
    pub engine: EngineStats,
    /// Portal writes dropped: disabled device or WQ, or not one aligned
    /// 64-byte write.
    pub dropped: u64,
    /// Admin commands executed.
    pub commands: u64,
}

/// An emulated IAA 1.0.
pub struct Iaa {
    config: IaaConfig,
    pci: ConfigSpace,
    msix_cap: usize,
    msix: Msix,
    sink: Arc<dyn MsiSink>,
    mem: GuestMemory,
    regs: Registers,
    engine: Engine,
    dropped: u64,
    commands: u64,
}

impl std::fmt::Debug for Iaa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iaa")
            .field("config", &self.config)
            .field("enabled", &self.regs.enabled)
            .field("wq_enabled", &self.regs.wq_enabled)
            .finish_non_exhaustive()
    }
}

impl Iaa {
    /// The default device ([`IaaConfig::default`]) on `mem`, interrupting
    /// through `msi`.
    pub fn new(mem: GuestMemory, msi: Arc<dyn MsiSink>) -> Result<Self, IaaError> {
        Self::with_config(IaaConfig::default(), mem, msi)
    }

    /// A device of the given shape.
    pub fn with_config(
        config: IaaConfig,
        mem: GuestMemory,
        msi: Arc<dyn MsiSink>,
    ) -> Result<Self, IaaError> {
        config.validate()?;
        let msix = Msix::new(config.msix_vectors());
        let (pci, msix_cap) = config_space(&config, &msix)?;
        Ok(Self {
            config,
            pci,
            msix_cap,
            msix,
            sink: msi,
            mem,
            regs: Registers::new(config),
            engine: Engine::default(),
            dropped: 0,
            commands: 0,
        })
    }

    /// The device's shape.
    pub fn config(&self) -> IaaConfig {
        self.config
    }

    /// What the device has done so far.
    pub fn stats(&self) -> IaaStats {
        IaaStats {
            engine: self.engine.stats,
            dropped: self.dropped,
            commands: self.commands,
        }
    }

    fn bus_master(&self) -> bool {
        self.pci.command() & COMMAND_BUS_MASTER != 0
    }

    /// Raises MSI-X `vector` (a memory write, so only with bus mastering on).
    fn signal(&mut self, vector: u16) {
        if !self.bus_master() {
            return;
        }
        if let Some(message) = self.msix.notify(vector) {
            self.sink.send(vector, message);
        }
    }

    /// Executes the command just written to CMD; completes it with CMDSTS
    /// and, if asked, INTCAUSE.cmd and vector 0.
    fn run_command(&mut self, cmd: u32) {
        self.commands += 1;
        let ctx = Context {
            config: self.config,
            bus_master: self.bus_master(),
        };
        self.regs.cmdsts = command::execute(&mut self.regs, cmd, ctx);
        if cmd & CMD_INT_REQ != 0 {
            self.regs.intcause |= INTC_CMD;
            self.signal(0);
        }
    }

    /// Reports an error that has no completion record to go to.
    fn software_error(&mut self, wq: usize, desc: &Descriptor, error: u8, fault_addr: u64) {
        let word0 = SWERR_DESC_VALID
            | SWERR_WQ_IDX_VALID
            | (u64::from(error) << 8)
            | ((wq as u64 & 0xff) << 16)
            | (u64::from(desc.opcode) << 32)
            | (u64::from(desc.pasid_priv & 0xf_ffff) << 40);
        self.regs.record_swerr([word0, 0, fault_addr, 0]);
        if self.regs.genctrl & GENCTRL_SOFTERR_INT_EN != 0 {
            self.signal(0);
        }
    }

    /// A write to BAR 2: one aligned 64-byte write to an enabled WQ's
    /// portal is a descriptor; anything else is dropped.
    fn portal_write(&mut self, offset: u64, data: &[u8]) {
        let wq = usize::try_from(offset / PORTALS_PER_WQ).unwrap_or(usize::MAX);
        let enabled = self.regs.enabled && self.regs.wq_enabled.get(wq).copied().unwrap_or(false);
        let bytes: Option<&[u8; DESCRIPTOR_SIZE]> = data.try_into().ok();
        match bytes {
            Some(bytes) if enabled && offset.is_multiple_of(DESCRIPTOR_SIZE as u64) => {
                // Pages 2 and 3 of a WQ are the IMS portals: no IMS here.
                let ims = (offset % PORTALS_PER_WQ) / PORTAL_PAGE >= 2;
                self.submit(wq, Descriptor::parse(bytes), ims);
            }
            _ => self.dropped += 1,
        }
    }

    /// Runs a descriptor and reports its completion.
    fn submit(&mut self, wq: usize, desc: Descriptor, ims: bool) {
        let crav = desc.flags & FLAG_CRAV != 0;
        if crav && !desc.completion_addr.is_multiple_of(64) {
            self.software_error(wq, &desc, status::CR_ALIGN, desc.completion_addr);
            return;
        }
        let rci = desc.flags & FLAG_RCI != 0;
        let vector_ok = !ims && desc.int_handle < self.config.msix_vectors();
        let completion = if rci && !vector_ok {
            Completion::with_status(status::INT_HANDLE_INVALID)
        } else {
            let max = 1u64
                << (self.regs.wqcfg.dword(wq, 3) & 0x1f)
                    .min(u32::from(self.config.max_transfer_shift));
            self.engine.run(&self.mem, &desc, max)
        };
        let failed = completion.status != status::SUCCESS;
        if crav && (desc.flags & FLAG_RCR != 0 || failed) {
            if !self.write_record(desc.completion_addr, &completion) {
                self.software_error(wq, &desc, status::CR_TRANSLATION, desc.completion_addr);
                return;
            }
        } else if failed {
            self.software_error(wq, &desc, completion.status, completion.fault_addr);
        }
        if rci && vector_ok {
            self.signal(desc.int_handle);
        }
    }

    /// Writes a completion record, its status byte last; false if the
    /// address is not guest memory.
    fn write_record(&self, addr: u64, completion: &Completion) -> bool {
        let bytes = completion.to_bytes();
        let (status_byte, body) = bytes.split_at(1);
        let body_ok = self.mem.write_slice(body, GuestAddress(addr + 1)).is_ok();
        fence(Ordering::Release);
        body_ok
            && self
                .mem
                .write_slice(status_byte, GuestAddress(addr))
                .is_ok()
    }

    fn register_read(&self, offset: u64, data: &mut [u8]) {
        let table = self.msix.table_size();
        let pba = self.msix.pba_size();
        if let Some(at) = offset.checked_sub(MSIX_TABLE).filter(|o| *o < table) {
            self.msix.read_table(at, data);
        } else if let Some(at) = offset.checked_sub(MSIX_PBA).filter(|o| *o < pba) {
            self.msix.read_pba(at, data);
        } else {
            self.regs.read(offset, data);
        }
    }

    fn register_write(&mut self, offset: u64, data: &[u8]) {
        let table = self.msix.table_size();
        if let Some(at) = offset.checked_sub(MSIX_TABLE).filter(|o| *o < table) {
            self.update_msix(|m| m.write_table(at, data));
        } else if offset
            .checked_sub(MSIX_PBA)
            .is_some_and(|o| o < self.msix.pba_size())
        {
            // The PBA is read-only.
        } else if let Some(cmd) = self.regs.write(offset, data) {
            self.run_command(cmd);
        }
    }

    /// Applies `op` to the MSI-X state and sends the messages it releases
    /// (vectors whose pending bit it cleared), with their vector numbers.
    fn update_msix(&mut self, op: impl FnOnce(&mut Msix) -> Vec<MsiMessage>) {
        let before = pending_bits(&self.msix);
        let messages = op(&mut self.msix);
        let after = pending_bits(&self.msix);
        let is_set = |bits: &[u8], v: u16| {
            bits.get(usize::from(v / 8))
                .is_some_and(|b| b & (1 << (v % 8)) != 0)
        };
        let released =
            (0..self.config.msix_vectors()).filter(|&v| is_set(&before, v) && !is_set(&after, v));
        if self.bus_master() {
            for (vector, message) in released.zip(messages) {
                self.sink.send(vector, message);
            }
        }
    }
}

/// The MSI-X pending-bit array as bytes.
fn pending_bits(msix: &Msix) -> Vec<u8> {
    let mut bits = vec![0u8; usize::try_from(msix.pba_size()).unwrap_or(0)];
    msix.read_pba(0, &mut bits);
    bits
}

/// The header, BARs and capabilities; returns the MSI-X capability offset.
fn config_space(config: &IaaConfig, msix: &Msix) -> Result<(ConfigSpace, usize), ConfigError> {
    let mut pci = ConfigSpace::new(VENDOR_ID, DEVICE_ID, CLASS_CODE, 0, HeaderType::Endpoint);
    pci.set_subsystem(VENDOR_ID, 0);
    let memory64 = BarKind::Memory64 {
        prefetchable: false,
    };
    pci.set_bar(
        usize::from(REGISTER_BAR),
        Bar {
            kind: memory64,
            size: BAR0_SIZE,
        },
    )?;
    pci.set_bar(
        usize::from(PORTAL_BAR),
        Bar {
            kind: memory64,
            size: config.bar2_size(),
        },
    )?;
    let (body, mask) = pcie_capability(PciePortType::Endpoint, 0);
    pci.add_capability(PCIE_CAP_ID, &body, &mask)?;
    let (body, mask) = power_management_capability();
    pci.add_capability(PM_CAP_ID, &body, &mask)?;
    let (body, mask) = msix.capability(
        REGISTER_BAR,
        MSIX_TABLE as u32,
        REGISTER_BAR,
        MSIX_PBA as u32,
    );
    let msix_cap = pci.add_capability(MSIX_CAP_ID, &body, &mask)?;
    Ok((pci, msix_cap))
}

/// Whether an access of `len` bytes at `offset` touches `start..start+size`.
fn overlaps(offset: u64, len: usize, start: u64, size: u64) -> bool {
    offset < start + size && offset.saturating_add(len as u64) > start
}

impl PciFunction for Iaa {
    fn name(&self) -> &str {
        "iaa"
    }

    fn config(&self) -> &ConfigSpace {
        &self.pci
    }

    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.pci
    }

    fn write_config(&mut self, offset: u64, data: &[u8]) {
        self.pci.write(offset, data);
        let control = self.msix_cap as u64 + 2;
        if overlaps(offset, data.len(), control, 2) {
            let mut bytes = [0u8; 2];
            self.pci.read(control, &mut bytes);
            self.update_msix(|m| m.set_control(u16::from_le_bytes(bytes)));
        }
    }

    fn read_bar(&mut self, bar: u8, offset: u64, data: &mut [u8]) {
        data.fill(0);
        if bar == REGISTER_BAR && offset < BAR0_SIZE {
            self.register_read(offset, data);
        }
        // Portals read as zero.
    }

    fn write_bar(&mut self, bar: u8, offset: u64, data: &[u8]) {
        match bar {
            REGISTER_BAR if offset < BAR0_SIZE => self.register_write(offset, data),
            PORTAL_BAR if offset < self.config.bar2_size() => self.portal_write(offset, data),
            _ => {}
        }
    }
}
