//! The virtio 1.x PCI transport (virtio 1.x, 4.1): a PCIe endpoint whose
//! BAR 0 holds the common configuration, ISR, device configuration and
//! notification regions plus the MSI-X table and PBA, described by vendor
//! capabilities in configuration space.
//!
//! BAR 0 (32 KiB, 64-bit non-prefetchable memory):
//!
//! | offset   | region                                   |
//! |----------|------------------------------------------|
//! | `0x0000` | common configuration (0x38 bytes)        |
//! | `0x1000` | ISR status (1 byte, read clears)         |
//! | `0x2000` | device configuration (if the device has one) |
//! | `0x3000` | notifications: queue n at `0x3000 + 4n`  |
//! | `0x4000` | MSI-X table (queues + 1 vectors)         |
//! | `0x5000` | MSI-X pending-bit array                  |

use std::os::fd::RawFd;
use std::sync::Arc;

use thiserror::Error;
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use super::common::{Action, CommonConfig};
use super::device::{GuestMemory, VirtioDevice};
use super::interrupt::Interrupts;
use super::regs::*;
use super::worker::{EventHandler, Shared};
use crate::pci::{
    pcie_capability, power_management_capability, Bar, BarKind, ConfigError, ConfigSpace,
    HeaderType, IntxLine, MsiSink, Msix, PciFunction, PciePortType, MSIX_CAP_ID, PCIE_CAP_ID,
    PM_CAP_ID,
};

/// The PCI command register's offset.
const PCI_COMMAND: usize = 0x04;
/// Command: bus master enable.
const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// Command: INTx emulation disable.
const COMMAND_INTX_DISABLE: u16 = 1 << 10;

/// The most queues a device may have (one MSI-X vector each, plus one).
pub const MAX_QUEUES: usize = 63;

/// Errors building a virtio function (the model's mistakes, not the guest's).
#[derive(Debug, Error)]
pub enum VirtioPciError {
    /// The device has no queues or more than [`MAX_QUEUES`].
    #[error("{0} queues (1 to 63 supported)")]
    QueueCount(usize),
    /// A queue's maximum size is not a power of two from 1 to 32768.
    #[error("queue maximum size {0} is not a power of two up to 32768")]
    QueueSize(u16),
    /// The device configuration does not fit its region.
    #[error("device configuration of {0} bytes exceeds 4 KiB")]
    ConfigLen(u32),
    /// The configuration space could not hold the capabilities.
    #[error("configuration space: {0}")]
    Config(#[from] ConfigError),
    /// An eventfd could not be created.
    #[error("eventfd: {0}")]
    EventFd(#[from] std::io::Error),
}

/// Where the capabilities we act on sit in configuration space.
#[derive(Debug, Clone, Copy)]
struct CapOffsets {
    msix: usize,
    pci_cfg: usize,
}

/// A virtio device on the modern PCI transport.
///
/// Register accesses come from vCPU threads through [`PciFunction`]; a
/// queue notification only signals that queue's eventfd. Queue work runs
/// on the VMM's event thread through [`events`](Self::events) and
/// [`handle_event`](Self::handle_event), or, without taking this object's
/// lock, through the [`handler`](Self::handler).
pub struct VirtioPci<D: VirtioDevice> {
    name: String,
    config: ConfigSpace,
    caps: CapOffsets,
    device_config_len: u32,
    common: CommonConfig,
    shared: Arc<Shared<D>>,
}

impl<D: VirtioDevice> std::fmt::Debug for VirtioPci<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtioPci")
            .field("name", &self.name)
            .field("status", &self.common.status())
            .finish_non_exhaustive()
    }
}

/// The body of a `virtio_pci_cap` after its ID/next header, plus `extra`.
fn virtio_cap(cfg_type: u8, offset: u64, length: u32, extra: &[u8]) -> Vec<u8> {
    let cap_len = if extra.is_empty() {
        CAP_LEN
    } else {
        CAP_LEN_EXTENDED
    };
    let mut body = vec![cap_len, cfg_type, 0, 0, 0, 0];
    body.extend_from_slice(&(offset as u32).to_le_bytes());
    body.extend_from_slice(&length.to_le_bytes());
    body.extend_from_slice(extra);
    body
}

impl<D: VirtioDevice> VirtioPci<D> {
    /// Wraps `device`, which works on `mem` and interrupts through `sink`.
    pub fn new(
        device: D,
        mem: GuestMemory,
        sink: Arc<dyn MsiSink>,
    ) -> Result<Self, VirtioPciError> {
        let sizes = device.queue_max_sizes().to_vec();
        if sizes.is_empty() || sizes.len() > MAX_QUEUES {
            return Err(VirtioPciError::QueueCount(sizes.len()));
        }
        if let Some(&bad) = sizes.iter().find(|&&s| !s.is_power_of_two() || s > 32768) {
            return Err(VirtioPciError::QueueSize(bad));
        }
        let device_config_len = device.config_len();
        if u64::from(device_config_len) > REGION_SIZE {
            return Err(VirtioPciError::ConfigLen(device_config_len));
        }
        let irq = Interrupts::new(sizes.len(), sink);
        let (config, caps) = Self::config_space(&device, &irq.msix(), sizes.len())?;
        let features = device.features() | (1 << VIRTIO_F_VERSION_1);
        let notify = (0..sizes.len())
            .map(|_| EventFd::new(EFD_NONBLOCK))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            name: device.name().to_owned(),
            config,
            caps,
            device_config_len,
            common: CommonConfig::new(features, &sizes),
            shared: Arc::new(Shared::new(device, mem, irq, notify)),
        })
    }

    /// Connects INTx: the function reports pin INTA and, while the driver
    /// leaves MSI-X disabled, asserts `line` with the ISR status.
    pub fn with_intx(mut self, line: Arc<dyn IntxLine>) -> Self {
        self.config.set_interrupt_pin(1);
        self.shared.irq.set_intx(line);
        self
    }

    /// The header, BAR 0 and the capability list.
    fn config_space(
        device: &D,
        msix: &Msix,
        queues: usize,
    ) -> Result<(ConfigSpace, CapOffsets), ConfigError> {
        let kind = device.device_type();
        let mut config = ConfigSpace::new(
            VIRTIO_PCI_VENDOR_ID,
            VIRTIO_PCI_DEVICE_ID_BASE + kind as u16,
            kind.pci_class(),
            VIRTIO_PCI_REVISION,
            HeaderType::Endpoint,
        );
        config.set_subsystem(VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_SUBSYSTEM_ID);
        config.set_bar(
            0,
            Bar {
                kind: BarKind::Memory64 {
                    prefetchable: false,
                },
                size: BAR_SIZE,
            },
        )?;
        let (body, mask) = pcie_capability(PciePortType::Endpoint, 0);
        config.add_capability(PCIE_CAP_ID, &body, &mask)?;
        let (body, mask) = power_management_capability();
        config.add_capability(PM_CAP_ID, &body, &mask)?;
        let (body, mask) = msix.capability(0, MSIX_TABLE_OFFSET as u32, 0, MSIX_PBA_OFFSET as u32);
        let msix = config.add_capability(MSIX_CAP_ID, &body, &mask)?;
        let common = virtio_cap(CAP_COMMON_CFG, COMMON_OFFSET, COMMON_CFG_LEN, &[]);
        config.add_capability(PCI_CAP_ID_VENDOR, &common, &[])?;
        let isr = virtio_cap(CAP_ISR_CFG, ISR_OFFSET, ISR_LEN, &[]);
        config.add_capability(PCI_CAP_ID_VENDOR, &isr, &[])?;
        if device.config_len() > 0 {
            let cfg = virtio_cap(CAP_DEVICE_CFG, DEVICE_OFFSET, device.config_len(), &[]);
            config.add_capability(PCI_CAP_ID_VENDOR, &cfg, &[])?;
        }
        let notify_len = NOTIFY_OFF_MULTIPLIER * queues as u32;
        let notify = virtio_cap(
            CAP_NOTIFY_CFG,
            NOTIFY_OFFSET,
            notify_len,
            &NOTIFY_OFF_MULTIPLIER.to_le_bytes(),
        );
        config.add_capability(PCI_CAP_ID_VENDOR, &notify, &[])?;
        // The window's bar, offset, length and data are the driver's to set.
        let window = virtio_cap(CAP_PCI_CFG, 0, 0, &[0; 4]);
        let mut mask = vec![0u8; window.len()];
        mask[CAP_BAR - 2] = 0xff;
        mask[CAP_OFFSET - 2..].fill(0xff);
        let pci_cfg = config.add_capability(PCI_CAP_ID_VENDOR, &window, &mask)?;
        Ok((config, CapOffsets { msix, pci_cfg }))
    }

    /// The file descriptors the event thread polls, with their tokens:
    /// queue `n`'s eventfd has token `n`; a device's own descriptors have
    /// [`DEVICE_TOKEN_BASE`](super::DEVICE_TOKEN_BASE) plus the device's token.
    pub fn events(&self) -> Vec<(RawFd, u32)> {
        self.shared.events()
    }

    /// Handles the descriptor registered with `token` (see [`events`](Self::events)).
    pub fn handle_event(&mut self, token: u32) {
        self.shared.handle_event(token);
    }

    /// The event side on its own: the same [`events`](Self::events) and
    /// [`handle_event`](Self::handle_event), without this object's lock, so
    /// an event thread doing slow I/O never holds up a vCPU's register access.
    pub fn handler(&self) -> Arc<dyn EventHandler> {
        self.shared.clone()
    }

    /// Each queue's notification address as an offset in BAR 0, with (a
    /// duplicate of) the eventfd a write there signals: the VMM may register
    /// these as KVM ioeventfds (at BAR 0's address plus the offset) so a
    /// notification skips the exit to user space.
    pub fn notify_eventfds(&self) -> std::io::Result<Vec<(u64, EventFd)>> {
        (0..MAX_QUEUES)
            .map_while(|i| Some((notify_offset(i), self.shared.notify_fd(i)?)))
            .map(|(offset, fd)| Ok((offset, fd.try_clone()?)))
            .collect()
    }

    /// The device status register as the driver reads it.
    pub fn status(&self) -> u8 {
        let mut b = [0u8];
        self.common.read(&self.shared.irq, COMMON_STATUS, &mut b);
        b[0]
    }

    /// Runs `f` on the device model (waits for queue work in progress).
    pub fn with_device<R>(&self, f: impl FnOnce(&mut D) -> R) -> R {
        self.shared.with_device(f)
    }

    fn common_write(&mut self, offset: u64, data: &[u8]) {
        match self.common.write(&self.shared.irq, offset, data) {
            Action::None => {}
            Action::Reset => {
                self.shared.reset();
                self.common.reset();
            }
            Action::Activate => {
                let features = self.common.driver_features();
                let started = self
                    .common
                    .build_queues()
                    .is_some_and(|queues| self.shared.activate(features, queues));
                if !started {
                    self.shared.irq.signal_needs_reset();
                }
            }
        }
    }

    fn device_read(&self, offset: u64, data: &mut [u8]) {
        let len = u64::from(self.device_config_len);
        if offset
            .checked_add(data.len() as u64)
            .is_some_and(|end| end <= len)
        {
            self.shared.with_device(|d| d.read_config(offset, data));
        } else {
            data.fill(0);
        }
    }

    fn device_write(&self, offset: u64, data: &[u8]) {
        let len = u64::from(self.device_config_len);
        if offset
            .checked_add(data.len() as u64)
            .is_some_and(|end| end <= len)
        {
            self.shared.with_device(|d| d.write_config(offset, data));
        }
    }

    /// The BAR access the VIRTIO_PCI_CAP_PCI_CFG window describes:
    /// (offset, length) if it names BAR 0 with a length of 1, 2 or 4
    /// aligned inside the BAR.
    fn window(&self) -> Option<(u64, usize)> {
        let cap = self.caps.pci_cfg as u64;
        let mut bar = [0u8];
        self.config.read(cap + CAP_BAR as u64, &mut bar);
        let mut word = [0u8; 4];
        self.config.read(cap + CAP_OFFSET as u64, &mut word);
        let offset = u64::from(u32::from_le_bytes(word));
        self.config.read(cap + CAP_LENGTH as u64, &mut word);
        let length = u32::from_le_bytes(word);
        let fits = matches!(length, 1 | 2 | 4)
            && offset % u64::from(length) == 0
            && offset + u64::from(length) <= BAR_SIZE;
        (bar[0] == 0 && fits).then_some((offset, length as usize))
    }

    /// Whether an access at `offset` of `len` bytes overlaps `start..start+size`.
    fn overlaps(offset: u64, len: usize, start: usize, size: usize) -> bool {
        let (start, end) = (start as u64, (start + size) as u64);
        offset < end && offset.saturating_add(len as u64) > start
    }
}

/// Queue `index`'s notification offset in BAR 0.
fn notify_offset(index: usize) -> u64 {
    NOTIFY_OFFSET + u64::from(NOTIFY_OFF_MULTIPLIER) * index as u64
}

/// The BAR 0 region an access falls in entirely, with its offset there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    Common,
    Isr,
    Device,
    Notify,
    MsixTable,
    MsixPba,
}

fn region(offset: u64, len: usize) -> Option<(Region, u64)> {
    let start = offset - offset % REGION_SIZE;
    let end = offset.checked_add(len as u64)?;
    if end > start.checked_add(REGION_SIZE)? {
        return None;
    }
    let region = match start {
        COMMON_OFFSET => Region::Common,
        ISR_OFFSET => Region::Isr,
        DEVICE_OFFSET => Region::Device,
        NOTIFY_OFFSET => Region::Notify,
        MSIX_TABLE_OFFSET => Region::MsixTable,
        MSIX_PBA_OFFSET => Region::MsixPba,
        _ => return None,
    };
    Some((region, offset - start))
}

impl<D: VirtioDevice> PciFunction for VirtioPci<D> {
    fn name(&self) -> &str {
        &self.name
    }

    fn config(&self) -> &ConfigSpace {
        &self.config
    }

    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn read_config(&mut self, offset: u64, data: &mut [u8]) {
        self.config.read(offset, data);
        let data_field = self.caps.pci_cfg + CAP_PCI_CFG_DATA;
        if !Self::overlaps(offset, data.len(), data_field, 4) {
            return;
        }
        let mut window = [0u8; 4];
        if let Some((bar_offset, length)) = self.window() {
            self.read_bar(0, bar_offset, &mut window[..length]);
        }
        for (i, byte) in data.iter_mut().enumerate() {
            let at = offset.saturating_add(i as u64);
            if let Some(k) = at.checked_sub(data_field as u64).filter(|k| *k < 4) {
                *byte = window[k as usize];
            }
        }
    }

    fn write_config(&mut self, offset: u64, data: &[u8]) {
        self.config.write(offset, data);
        if Self::overlaps(offset, data.len(), PCI_COMMAND, 2) {
            let command = self.config.command();
            self.shared
                .irq
                .set_intx_disabled(command & COMMAND_INTX_DISABLE != 0);
            self.shared
                .set_bus_master(command & COMMAND_BUS_MASTER != 0);
        }
        let control = self.caps.msix + 2;
        if Self::overlaps(offset, data.len(), control, 2) {
            let mut bytes = [0u8; 2];
            self.config.read(control as u64, &mut bytes);
            let value = u16::from_le_bytes(bytes);
            self.shared.irq.update_msix(|m| m.set_control(value));
        }
        let data_field = self.caps.pci_cfg + CAP_PCI_CFG_DATA;
        if Self::overlaps(offset, data.len(), data_field, 4) {
            if let Some((bar_offset, length)) = self.window() {
                let mut window = [0u8; 4];
                self.config.read(data_field as u64, &mut window);
                self.write_bar(0, bar_offset, &window[..length]);
            }
        }
    }

    fn read_bar(&mut self, bar: u8, offset: u64, data: &mut [u8]) {
        data.fill(0);
        let Some((region, at)) = region(offset, data.len()).filter(|_| bar == 0) else {
            return;
        };
        let irq = &self.shared.irq;
        match region {
            Region::Common => self.common.read(irq, at, data),
            Region::Isr => {
                if let (0, Some(first)) = (at, data.first_mut()) {
                    *first = irq.take_isr();
                }
            }
            Region::Device => self.device_read(at, data),
            Region::Notify => {}
            Region::MsixTable => irq.msix().read_table(at, data),
            Region::MsixPba => irq.msix().read_pba(at, data),
        }
    }

    fn write_bar(&mut self, bar: u8, offset: u64, data: &[u8]) {
        let Some((region, at)) = region(offset, data.len()).filter(|_| bar == 0) else {
            return;
        };
        match region {
            Region::Common => self.common_write(at, data),
            Region::Device => self.device_write(at, data),
            Region::Notify => {
                let index = at / u64::from(NOTIFY_OFF_MULTIPLIER);
                if let Ok(index) = usize::try_from(index) {
                    self.shared.kick(index);
                }
            }
            Region::MsixTable => self.shared.irq.update_msix(|m| m.write_table(at, data)),
            Region::Isr | Region::MsixPba => {}
        }
    }
}
