//! BAR 2, PMISC: interrupt routing and masks, error sources and masks,
//! power management, the admin page address, the AE loader CSRs with the
//! admin mailboxes, and the FCU. Everything else reads back what was
//! written (bounded sparse RAM).

use std::sync::Arc;

use super::admin::Admin;
use super::loader::Loader;
use super::regs::*;
use super::sparse::SparseRegs;
use super::transport::Transport;

/// The PMISC register block's state.
#[derive(Debug, Default)]
pub struct Pmisc {
    regs: SparseRegs,
    loader: Loader,
    admin: Admin,
    mailbox: [u32; ENGINES],
}

/// Which AE window and CSR an offset addresses in the AE region.
fn ae_local(offset: u64) -> Option<(usize, u64)> {
    let rel = offset.checked_sub(AE_XFER_BASE)?;
    let ae = (rel / AE_STRIDE) as usize;
    let inner = rel % AE_STRIDE;
    (ae < ENGINES && inner >= 0x800).then(|| (ae, inner - 0x800))
}

impl Pmisc {
    /// The loader state (tests and diagnostics).
    pub fn loader(&self) -> &Loader {
        &self.loader
    }

    /// The admin state.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// Back to power-on state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// A 32-bit read at word offset `offset`.
    pub fn read(&mut self, t: &Transport, offset: u64) -> u32 {
        if let Some((ae, PROFILE_COUNT)) = ae_local(offset) {
            return self.loader.read_local(ae, PROFILE_COUNT);
        }
        self.peek(t, offset)
    }

    /// A read without side effects (PROFILE_COUNT does not tick), as a
    /// partial write needs to merge with the stored word.
    pub fn peek(&self, t: &Transport, offset: u64) -> u32 {
        let irq = &t.irq;
        match offset {
            o if (MSIX_RTTABLE..MSIX_RTTABLE + 4 * u64::from(MSIX_VECTORS)).contains(&o) => {
                irq.route(((o - MSIX_RTTABLE) / 4) as usize)
            }
            SMIAPF_RP_X0_MASK => irq.bank_mask(false),
            SMIAPF_RP_X1_MASK => irq.bank_mask(true),
            SMIAPF_MASK => irq.cluster_mask(),
            ERRSOU3 => t.errsou3(),
            o if (ERRSOU0..ERRSOU3).contains(&o) => 0,
            o if (ATUFAULTSTATUS..ATUFAULTSTATUS + 4 * BANKS as u64).contains(&o) => {
                t.atu_fault(((o - ATUFAULTSTATUS) / 4) as usize)
            }
            PM_STATUS => {
                let active = self.regs.get(PM_INTERRUPT) & PM_DRV_ACTIVE != 0;
                self.regs.get(PM_STATUS) | if active { PM_INIT_STATE } else { 0 }
            }
            o if (CAP_BASE..CAP_BASE + 0x2000).contains(&o) => self.loader.read_cap(o - CAP_BASE),
            o => match ae_local(o) {
                Some((ae, MAILBOX)) => self.mailbox.get(ae).copied().unwrap_or(0),
                Some((ae, csr)) => self.loader.peek_local(ae, csr),
                None => self.regs.get(o),
            },
        }
    }

    /// A 32-bit write at word offset `offset`.
    pub fn write(&mut self, t: &Arc<Transport>, offset: u64, value: u32) {
        let irq = &t.irq;
        match offset {
            o if (MSIX_RTTABLE..MSIX_RTTABLE + 4 * u64::from(MSIX_VECTORS)).contains(&o) => {
                irq.set_route(((o - MSIX_RTTABLE) / 4) as usize, value)
            }
            SMIAPF_RP_X0_MASK => irq.set_bank_mask(false, value),
            SMIAPF_RP_X1_MASK => irq.set_bank_mask(true, value),
            SMIAPF_MASK => irq.set_cluster_mask(value),
            o if (ERRSOU0..=ERRSOU3).contains(&o) => {}
            ERRMSK3 => {
                self.regs.set(ERRMSK3, value);
                t.set_errmsk3(value);
            }
            o if (ATUFAULTSTATUS..ATUFAULTSTATUS + 4 * BANKS as u64).contains(&o) => {
                t.clear_atu_fault(((o - ATUFAULTSTATUS) / 4) as usize, value)
            }
            PM_INTERRUPT => {
                let old = self.regs.get(PM_INTERRUPT);
                let kept = old & PM_INTERRUPT_W1C & !value;
                self.regs
                    .set(PM_INTERRUPT, (value & !PM_INTERRUPT_W1C) | kept);
            }
            // The device takes a host message at once: pending clears.
            PM_HOST_MSG => self.regs.set(PM_HOST_MSG, value & !1),
            PM_STATUS => {}
            o if (CAP_BASE..CAP_BASE + 0x2000).contains(&o) => {
                self.loader.write_cap(t.mem(), o - CAP_BASE, value)
            }
            o => match ae_local(o) {
                Some((ae, MAILBOX)) => self.mailbox_write(t, ae, value),
                Some((ae, csr)) => self.loader.write_local(ae, csr, value),
                None => self.regs.set(o, value),
            },
        }
    }

    /// AE `ae`'s mailbox: 1 sends the request in the admin page; the
    /// device answers and clears it before the driver's first poll.
    fn mailbox_write(&mut self, t: &Transport, ae: usize, value: u32) {
        let Some(slot) = self.mailbox.get_mut(ae) else {
            return;
        };
        if value != 1 {
            *slot = value;
            return;
        }
        let page =
            u64::from(self.regs.get(ADMINMSGUR)) << 32 | u64::from(self.regs.get(ADMINMSGLR));
        if t.irq.bus_master() {
            self.admin.handle(t.mem(), page, ae, t.requests_served());
        }
        if let Some(slot) = self.mailbox.get_mut(ae) {
            *slot = 0;
        }
    }
}
