//! Bring-up of a QAT 420xx physical function, in the order of Linux's
//! `adf_probe` / `adf_dev_init` / `adf_dev_start`: fuses and capabilities,
//! bus mastering and BARs, the transport's bank reset, the power-up
//! handshake, admin comms, the arbiter, interrupt routing and unmasking,
//! then the firmware's admin init messages and power management. There is
//! no firmware to load: the driver skips the AE loader and the FCU.

use super::admin::{Admin, AdminCmd, AdminRequest, CONST_TABLE_SIZE};
use super::error::QatError;
use super::regs::{self, bank_csr};
use super::ring::RingPair;
use crate::hal::{Hal, Mmio};
use crate::pci::{regs as pci_regs, MsiTarget, Msix, PciDevice};

/// Intel's vendor ID.
pub const VENDOR_INTEL: u16 = 0x8086;
/// The QAT 420xx physical function.
pub const DEVICE_420XX: u16 = 0x4946;
/// MSI-X vectors Linux asks for: one per bank, then the AE cluster.
pub const MSIX_VECTORS: u16 = regs::BANKS as u16 + 1;
/// How long the power-up may take (Linux: 1 s).
const POWER_UP_TIMEOUT_MS: u64 = 1000;
/// PM idle filter Linux configures (`ADF_GEN4_PM_DEFAULT_IDLE_FILTER`).
const PM_IDLE_FILTER: u32 = 0x6;
/// AEs serving "sym;dc" (AE groups 0-2) plus the admin AE.
const SYM_DC_AE_MASK: u32 = 0x0fff | regs::ADMIN_AE_MASK;

/// Whether `device` is a QAT 420xx physical function.
pub fn is_qat(device: &PciDevice) -> bool {
    device.vendor_id == VENDOR_INTEL && device.device_id == DEVICE_420XX
}

/// What the fuses and the firmware say about the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceInfo {
    /// PCI revision ID.
    pub revision: u8,
    /// FUSECTL1 (slice-disable fuses).
    pub slice_fuses: u32,
    /// FUSECTL4 (AE-disable fuses).
    pub ae_fuses: u32,
    /// AEs in use: present ones trimmed to the service layout.
    pub ae_mask: u32,
    /// Symmetric crypto (cipher and auth slices) is present.
    pub sym: bool,
    /// Compression is present.
    pub compression: bool,
    /// The UCS slice is present.
    pub ucs: bool,
    /// What CAPABILITIES_GET returned (0 if it failed).
    pub fw_capabilities: u16,
    /// The OR of every service AE's COMP_CAPABILITY_GET answer.
    pub dc_extended: u32,
}

impl DeviceInfo {
    /// Reads the fuses: AE 0 must be present and some service usable.
    fn from_fuses(revision: u8, slice_fuses: u32, ae_fuses: u32) -> Result<Self, QatError> {
        let present = !ae_fuses & regs::AE_MASK_ALL;
        if present & 1 == 0 {
            return Err(QatError::NoAccelerationEngines(ae_fuses));
        }
        let sym = slice_fuses & (regs::FUSE_CIPHER | regs::FUSE_AUTH) == 0;
        let compression = slice_fuses & regs::FUSE_COMPRESSION == 0;
        if !sym && !compression {
            return Err(QatError::NoCapabilities(slice_fuses));
        }
        Ok(Self {
            revision,
            slice_fuses,
            ae_fuses,
            ae_mask: present & SYM_DC_AE_MASK,
            sym,
            compression,
            ucs: slice_fuses & regs::FUSE_UCS == 0,
            fw_capabilities: 0,
            dc_extended: 0,
        })
    }

    /// The admin AE if present, else every AE (Linux's constants target).
    fn admin_ae_mask(&self) -> u32 {
        match self.ae_mask & regs::ADMIN_AE_MASK {
            0 => self.ae_mask,
            admin => admin,
        }
    }
}

/// A QAT 420xx brought up and ready for ring pairs.
#[derive(Debug)]
pub struct Qat<H: Hal> {
    hal: H,
    pmisc: Mmio,
    etr: Mmio,
    admin: Admin,
    info: DeviceInfo,
    msi: Option<(Msix, MsiTarget)>,
}

impl<H: Hal + Clone> Qat<H> {
    /// Brings `device` up; ring pairs' completions interrupt `msi` through
    /// their bank's MSI-X entry (or are polled for, if `None`).
    pub fn probe(hal: H, device: &PciDevice, msi: Option<MsiTarget>) -> Result<Self, QatError> {
        if !is_qat(device) {
            return Err(QatError::NotQat {
                vendor: device.vendor_id,
                device: device.device_id,
            });
        }
        let bdf = device.bdf;
        let ae_fuses: u32 = hal.config_read(bdf, regs::FUSECTL4);
        let slice_fuses: u32 = hal.config_read(bdf, regs::FUSECTL1);
        let mut info = DeviceInfo::from_fuses(device.revision, slice_fuses, ae_fuses)?;
        device.enable(
            &hal,
            pci_regs::COMMAND_MEMORY | pci_regs::COMMAND_BUS_MASTER,
        );
        let map = |index| {
            let bar = device.bar(index).ok_or(QatError::MissingBar(index))?;
            Ok::<_, QatError>(Mmio::map(&hal, bar.address, bar.size)?)
        };
        let (pmisc, etr) = (map(regs::PMISC_BAR)?, map(regs::ETR_BAR)?);
        reset_banks(&hal, &etr);
        power_up(&hal, &pmisc)?;
        let admin = Admin::new(&hal, pmisc)?;
        for i in 0..4 {
            etr.write(&hal, regs::SARCONFIG + 4 * i, regs::SARCONFIG_DEFAULT);
        }
        let msi = match msi {
            Some(target) => Some((route_interrupts(&hal, device, &pmisc)?, target)),
            None => None,
        };
        enable_interrupts(&hal, &pmisc);
        let mut qat = Self {
            hal,
            pmisc,
            etr,
            admin,
            info,
            msi,
        };
        qat.admin_init(&mut info)?;
        qat.start(&info)?;
        qat.info = info;
        Ok(qat)
    }

    /// `adf_send_admin_init`: constants, compression and firmware
    /// capabilities, then INIT_AE on every AE.
    fn admin_init(&self, info: &mut DeviceInfo) -> Result<(), QatError> {
        let hal = &self.hal;
        let constants = AdminRequest {
            cfg_size: CONST_TABLE_SIZE as u16,
            cfg_ptr: self.admin.const_table(),
            ..AdminRequest::new(AdminCmd::ConstantsCfg)
        };
        self.admin.send(hal, info.admin_ae_mask(), &constants)?;
        let service_aes = info.ae_mask & !regs::ADMIN_AE_MASK;
        let dc_caps = AdminRequest::new(AdminCmd::CompCapabilityGet);
        for ae in (0..regs::AE_COUNT).filter(|ae| service_aes & (1 << ae) != 0) {
            info.dc_extended |= self.admin.send(hal, 1 << ae, &dc_caps)?.word;
        }
        if info.ae_mask & regs::ADMIN_AE_MASK != 0 {
            // A failure only leaves the capabilities unknown, as in Linux.
            let caps = AdminRequest::new(AdminCmd::CapabilitiesGet);
            if let Ok(resp) = self.admin.send(hal, regs::ADMIN_AE_MASK, &caps) {
                info.fw_capabilities = resp.fw_capabilities();
            }
        }
        self.admin
            .send(hal, info.ae_mask, &AdminRequest::new(AdminCmd::InitAe))?;
        Ok(())
    }

    /// The rest of `adf_dev_start`: SSM watchdogs, power management, one
    /// timer synchronisation (Linux then repeats it every 200 ms).
    fn start(&self, info: &DeviceInfo) -> Result<(), QatError> {
        let (hal, pmisc) = (&self.hal, &self.pmisc);
        pmisc.write(hal, regs::SSMWDTL, regs::SSM_WDT_DEFAULT);
        pmisc.write(hal, regs::SSMWDTH, 0u32);
        pmisc.write(hal, regs::SSMWDTPKEL, regs::SSM_WDT_PKE_DEFAULT);
        pmisc.write(hal, regs::SSMWDTPKEH, 0u32);
        let pm = AdminRequest {
            param: PM_IDLE_FILTER,
            ..AdminRequest::new(AdminCmd::PmStateConfig)
        };
        self.admin.send(hal, info.admin_ae_mask(), &pm)?;
        let pm_int: u32 = pmisc.read(hal, regs::PM_INTERRUPT);
        pmisc.write(hal, regs::PM_INTERRUPT, pm_int | regs::PM_INTERRUPT_ENABLE);
        let errmsk2: u32 = pmisc.read(hal, regs::ERRMSK2);
        pmisc.write(hal, regs::ERRMSK2, errmsk2 & !regs::ERRMSK2_PM);
        self.admin
            .send(hal, info.ae_mask, &AdminRequest::new(AdminCmd::Sync))?;
        Ok(())
    }

    /// What the device offers.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The register-access handle.
    pub fn hal(&self) -> &H {
        &self.hal
    }

    /// The admin interface (for commands after bring-up).
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// The firmware's own counts of requests received and responses sent,
    /// summed over the service AEs (COUNTERS_GET, as Linux's debugfs
    /// `fw_counters` reads them).
    pub fn counters(&self) -> Result<(u64, u64), QatError> {
        let req = AdminRequest::new(AdminCmd::CountersGet);
        let service_aes = self.info.ae_mask & !regs::ADMIN_AE_MASK;
        let (mut requests, mut responses) = (0, 0);
        for ae in (0..regs::AE_COUNT).filter(|ae| service_aes & (1 << ae) != 0) {
            let (rx, tx) = self.admin.send(&self.hal, 1 << ae, &req)?.counters();
            requests += rx;
            responses += tx;
        }
        Ok((requests, responses))
    }

    /// The PMISC BAR.
    pub fn pmisc(&self) -> Mmio {
        self.pmisc
    }

    /// Sets up the ring pair of `bank` with `slots` messages per ring and
    /// `scratch` bytes of DMA memory per request slot. With MSI-X, the
    /// bank's entry goes to the target given at probe.
    pub fn ring_pair(
        &self,
        bank: u8,
        slots: usize,
        scratch: usize,
    ) -> Result<RingPair<H>, QatError> {
        if let Some((msix, target)) = &self.msi {
            msix.program(&self.hal, u16::from(bank), *target)?;
        }
        let interrupts = self.msi.is_some();
        RingPair::new(self.hal.clone(), self.etr, bank, slots, scratch, interrupts)
    }
}

/// `adf_init_etr_data`: every bank's rings unconfigured, flags cleared,
/// the interrupt source selected.
fn reset_banks<H: Hal>(hal: &H, etr: &Mmio) {
    for bank in 0..regs::BANKS {
        for ring in [regs::TX_RING, regs::RX_RING] {
            etr.write(hal, bank_csr(bank, regs::RING_CONFIG, ring), 0u32);
            etr.write(hal, bank_csr(bank, regs::RING_LBASE, ring), 0u32);
            etr.write(hal, bank_csr(bank, regs::RING_UBASE, ring), 0u32);
        }
        etr.write(hal, bank_csr(bank, regs::INT_FLAG, 0), regs::INT_FLAG_CLEAR);
        etr.write(
            hal,
            bank_csr(bank, regs::INT_SRCSEL, 0),
            regs::INT_SRCSEL_DEFAULT,
        );
    }
}

/// GEN4 `init_device`: mask the PM interrupt, set DRV_ACTIVE, wait for
/// INIT_STATE.
fn power_up<H: Hal>(hal: &H, pmisc: &Mmio) -> Result<(), QatError> {
    let errmsk2: u32 = pmisc.read(hal, regs::ERRMSK2);
    pmisc.write(hal, regs::ERRMSK2, errmsk2 | regs::ERRMSK2_PM);
    let pm_int: u32 = pmisc.read(hal, regs::PM_INTERRUPT);
    pmisc.write(hal, regs::PM_INTERRUPT, pm_int | regs::PM_DRV_ACTIVE);
    let up = hal.wait_until(POWER_UP_TIMEOUT_MS, &mut || {
        pmisc.read::<H, u32>(hal, regs::PM_STATUS) & regs::PM_INIT_STATE != 0
    });
    up.then_some(()).ok_or(QatError::PowerUpTimeout)
}

/// `adf_enable_msix` and the GEN4 routing table: source `i` -> entry `i`;
/// MSI-X on with the function masked until the entries are programmed.
fn route_interrupts<H: Hal>(hal: &H, device: &PciDevice, pmisc: &Mmio) -> Result<Msix, QatError> {
    let msix = Msix::new(hal, device)?;
    if msix.entries() < MSIX_VECTORS {
        return Err(QatError::Unsupported("fewer than 65 MSI-X vectors"));
    }
    for source in 0..u32::from(MSIX_VECTORS) {
        pmisc.write(hal, regs::MSIX_RTTABLE + 4 * u64::from(source), source);
    }
    msix.enable_masked(hal);
    msix.unmask_function(hal);
    Ok(msix)
}

/// `enable_ints` and `enable_error_correction`: unmask every bank and the
/// AE cluster, mask VFLR notifications.
fn enable_interrupts<H: Hal>(hal: &H, pmisc: &Mmio) {
    pmisc.write(hal, regs::SMIAPF_RP_X0_MASK, 0u32);
    pmisc.write(hal, regs::SMIAPF_RP_X1_MASK, 0u32);
    pmisc.write(hal, regs::SMIAPF_MASK, 0u32);
    pmisc.write(hal, regs::ERRMSK3, regs::ERRMSK3_VFLR);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_fuses_decide_engines_and_services() {
        let info = DeviceInfo::from_fuses(0, 0x10, 0).unwrap();
        assert_eq!(info.ae_mask, 0x1_0fff);
        assert!(info.sym && info.compression && !info.ucs);
        assert_eq!(info.admin_ae_mask(), 0x1_0000);
        assert_eq!(
            DeviceInfo::from_fuses(0, 0, 1),
            Err(QatError::NoAccelerationEngines(1))
        );
        assert_eq!(
            DeviceInfo::from_fuses(0, 0xb, 0),
            Err(QatError::NoCapabilities(0xb))
        );
        let no_admin = DeviceInfo::from_fuses(0, 0, 0x1_0000).unwrap();
        assert_eq!(no_admin.admin_ae_mask(), 0x0fff);
    }
}
