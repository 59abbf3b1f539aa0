//! Bringing an IAA device up the way Linux's idxd does: reset (polled),
//! capabilities, MSI-X vector 0 for admin commands, one group with one
//! engine and one dedicated WQ, ENABLE_DEVICE, ENABLE_WQ.

use super::caps::{CapRegisters, Capabilities};
use super::regs::{self, Command};
use super::{IaaError, DEVICE_ID, VENDOR_ID};
use crate::hal::{Bdf, Hal, Mmio};
use crate::pci::{regs as pci_regs, MsiTarget, Msix, PciDevice};

/// How long an admin command may take.
const COMMAND_TIMEOUT_MS: u64 = 1000;
/// The WQ the driver uses.
pub const WQ: u8 = 0;
/// The WQ's priority (Linux's default for IAA).
const WQ_PRIORITY: u32 = 10;
/// MSI-X entry of admin-command completions and errors.
const VECTOR_MISC: u16 = 0;
/// MSI-X entry of WQ 0's completion interrupts (its interrupt handle).
pub const VECTOR_WQ0: u16 = 1;

/// The device's registers and state, before any descriptor work.
#[derive(Debug)]
pub struct Controller {
    bdf: Bdf,
    regs: Mmio,
    portal: Mmio,
    caps: Capabilities,
    msix: Option<Msix>,
}

impl Controller {
    /// Checks `device` is an IAA device, turns on memory decoding and bus
    /// mastering, maps BAR0 and WQ 0's portal page, resets the device
    /// (polled, as Linux's probe does) and reads its capabilities.
    pub fn probe<H: Hal>(hal: &H, device: &PciDevice) -> Result<Self, IaaError> {
        if device.vendor_id != VENDOR_ID || device.device_id != DEVICE_ID {
            return Err(IaaError::NotIaa(device.bdf));
        }
        let bar0 = device.bar(0).ok_or(IaaError::MissingBar(0))?;
        let bar2 = device.bar(2).ok_or(IaaError::MissingBar(2))?;
        if !bar0.contains(0, regs::SWERR + 32) {
            return Err(IaaError::MissingBar(0));
        }
        let portal_at = u64::from(WQ) * regs::PORTAL_STRIDE + regs::PORTAL_LIMITED_MSIX;
        if !bar2.contains(portal_at, regs::PORTAL_SIZE) {
            return Err(IaaError::MissingBar(2));
        }
        device.enable(hal, pci_regs::COMMAND_MEMORY | pci_regs::COMMAND_BUS_MASTER);
        let registers = Mmio::map(hal, bar0.address, bar0.size)?;
        let portal = Mmio::map(hal, bar2.address + portal_at, regs::PORTAL_SIZE)?;
        run_command(hal, &registers, false, Command::ResetDevice, 0)?;
        let caps = Capabilities::parse(cap_registers(hal, &registers), bar0.size)?;
        Ok(Self {
            bdf: device.bdf,
            regs: registers,
            portal,
            caps,
            msix: None,
        })
    }

    /// Where the device is.
    pub fn bdf(&self) -> Bdf {
        self.bdf
    }

    /// What the device offers.
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The MSI-X table, if interrupts were set up.
    pub fn msix(&self) -> Option<&Msix> {
        self.msix.as_ref()
    }

    /// WQ 0's portal page (4 KiB in BAR2).
    pub fn portal(&self) -> &Mmio {
        &self.portal
    }

    /// Points MSI-X entries 0 (admin commands, errors) and 1 (WQ 0) at
    /// `target`, and enables the software-error and halt interrupts; later
    /// commands then ask for a completion interrupt.
    pub fn enable_interrupts<H: Hal>(
        &mut self,
        hal: &H,
        device: &PciDevice,
        target: MsiTarget,
    ) -> Result<(), IaaError> {
        let msix = Msix::new(hal, device)?;
        msix.enable_masked(hal);
        msix.program(hal, VECTOR_MISC, target)?;
        if msix.entries() > VECTOR_WQ0 {
            msix.program(hal, VECTOR_WQ0, target)?;
        }
        msix.unmask_function(hal);
        let genctrl: u32 = self.regs.read(hal, regs::GENCTRL);
        let enables = regs::GENCTRL_SWERR_INT | regs::GENCTRL_HALT_INT;
        self.regs.write(hal, regs::GENCTRL, genctrl | enables);
        self.msix = Some(msix);
        Ok(())
    }

    /// Writes every group (group 0: WQ 0 and engine 0; the others empty)
    /// and WQ 0's configuration: dedicated, all of WQCAP's entries,
    /// priority 10, 2 MiB transfers, no batches (Linux's IAA defaults).
    pub fn configure<H: Hal>(&self, hal: &H) -> Result<(), IaaError> {
        let caps = &self.caps;
        let flags = regs::GRPFLG_TC_A1_B1
            | (u64::from(caps.read_buffers) << regs::GRPFLG_RDBUFS_ALLOWED_SHIFT);
        for group in 0..u64::from(caps.num_groups) {
            let at = caps.grpcfg + group * regs::GRPCFG_SIZE;
            for word in 0..4u64 {
                let wqs = u64::from(group == 0 && word == u64::from(WQ) / 64) << (WQ % 64);
                self.regs.write(hal, at + regs::GRPCFG_WQS + 8 * word, wqs);
            }
            let engines = u64::from(group == 0);
            self.regs.write(hal, at + regs::GRPCFG_ENGINES, engines);
            self.regs.write(hal, at + regs::GRPCFG_FLAGS, flags);
        }
        let at = caps.wqcfg + u64::from(WQ) * caps.wqcfg_size;
        let mode = regs::WQCFG_DEDICATED | (WQ_PRIORITY << regs::WQCFG_PRIORITY_SHIFT);
        for dword in (0..caps.wqcfg_size).step_by(4) {
            let value = match dword {
                regs::WQCFG_SIZE => u32::from(caps.total_wq_size),
                regs::WQCFG_MODE_PRIORITY => mode,
                regs::WQCFG_LIMITS => u32::from(caps.wq_max_xfer_shift()),
                _ => 0,
            };
            self.regs.write(hal, at + dword, value);
        }
        let size: u32 = self.regs.read(hal, at + regs::WQCFG_SIZE);
        let mode_read: u32 = self.regs.read(hal, at + regs::WQCFG_MODE_PRIORITY);
        if size & 0xffff != u32::from(caps.total_wq_size) || mode_read & 0xff != mode {
            return Err(IaaError::Unsupported("writable WQ configuration"));
        }
        Ok(())
    }

    /// ENABLE_DEVICE, then checks GENSTS reads enabled.
    pub fn enable_device<H: Hal>(&self, hal: &H) -> Result<(), IaaError> {
        self.command(hal, Command::EnableDevice, 0)?;
        let sts: u32 = self.regs.read(hal, regs::GENSTS);
        if sts & regs::GENSTS_STATE_MASK != regs::STATE_ENABLED {
            return Err(IaaError::NotEnabled(sts));
        }
        Ok(())
    }

    /// ENABLE_WQ for WQ 0.
    pub fn enable_wq<H: Hal>(&self, hal: &H) -> Result<(), IaaError> {
        self.command(hal, Command::EnableWq, u32::from(WQ))
    }

    /// DISABLE_DEVICE (every WQ with it), then RESET_DEVICE, as Linux's
    /// unbind does.
    pub fn disable<H: Hal>(&self, hal: &H) -> Result<(), IaaError> {
        self.command(hal, Command::DisableDevice, 0)?;
        self.command(hal, Command::ResetDevice, 0)
    }

    /// Runs one admin command and waits for it (see [`run_command`]);
    /// commands ask for a completion interrupt once MSI-X is set up.
    pub fn command<H: Hal>(&self, hal: &H, cmd: Command, operand: u32) -> Result<(), IaaError> {
        run_command(hal, &self.regs, self.msix.is_some(), cmd, operand)
    }
}

/// The capability registers, as read.
fn cap_registers<H: Hal>(hal: &H, bar0: &Mmio) -> CapRegisters {
    CapRegisters {
        version: bar0.read(hal, regs::VERSION),
        gencap: bar0.read(hal, regs::GENCAP),
        wqcap: bar0.read(hal, regs::WQCAP),
        grpcap: bar0.read(hal, regs::GRPCAP),
        engcap: bar0.read(hal, regs::ENGCAP),
        table_offset: bar0.read(hal, regs::TABLE_OFFSET),
    }
}

/// Writes CMD and waits: for CMDSTS's active bit to clear, and with
/// `interrupts` (never for RESET_DEVICE, which Linux's probe polls) also
/// for INTCAUSE's command bit, the cause vector 0 announced, which is then
/// cleared. A halted device takes no command; CMDSTS's error code must be
/// 0 (or "already enabled" for the enables).
fn run_command<H: Hal>(
    hal: &H,
    bar0: &Mmio,
    interrupts: bool,
    cmd: Command,
    operand: u32,
) -> Result<(), IaaError> {
    let sts: u32 = bar0.read(hal, regs::GENSTS);
    if sts & regs::GENSTS_STATE_MASK == regs::STATE_HALTED {
        return Err(IaaError::Halted);
    }
    let interrupt = interrupts && cmd != Command::ResetDevice;
    let mut value = ((cmd as u32) << regs::CMD_CODE_SHIFT) | (operand & 0xf_ffff);
    if interrupt {
        value |= regs::CMD_INT_REQ;
    }
    bar0.write(hal, regs::CMD, value);
    let done = hal.wait_until(COMMAND_TIMEOUT_MS, &mut || {
        let status: u32 = bar0.read(hal, regs::CMDSTS);
        let cause = || bar0.read::<H, u32>(hal, regs::INTCAUSE) & regs::INTCAUSE_CMD_DONE;
        status & regs::CMDSTS_ACTIVE == 0 && (!interrupt || cause() != 0)
    });
    if !done {
        return Err(IaaError::CommandTimeout(cmd));
    }
    if interrupt {
        let cause: u32 = bar0.read(hal, regs::INTCAUSE);
        bar0.write(hal, regs::INTCAUSE, cause);
    }
    let code = bar0.read::<H, u32>(hal, regs::CMDSTS) & regs::CMDSTS_ERROR_MASK;
    let fine = code == 0
        || (cmd == Command::EnableDevice && code == regs::CMDSTS_DEVICE_ALREADY_ENABLED)
        || (cmd == Command::EnableWq && code == regs::CMDSTS_WQ_ALREADY_ENABLED);
    if fine {
        Ok(())
    } else {
        Err(IaaError::CommandFailed(cmd, code as u8))
    }
}
