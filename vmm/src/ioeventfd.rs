//! KVM ioeventfds on the virtio notify registers: a guest's queue
//! notification then signals the queue's eventfd inside KVM, without an
//! exit to the VMM. They follow BAR 0: after every configuration write the
//! registrar checks where each function's BAR 0 decodes and moves them.
//! (Without them, the same write reaches the device model, which signals
//! the same eventfd: only the exit is saved.)

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use devices::pci::{BarKind, ConfigListener, SharedFunction};
use kvm_ioctls::{IoEventAddress, NoDatamatch, VmFd};
use vmm_sys_util::eventfd::EventFd;

/// One function's notify registers.
struct Notifies {
    function: SharedFunction,
    /// (offset in BAR 0, eventfd).
    registers: Vec<(u64, EventFd)>,
    /// BAR 0's address while registered.
    registered_at: Option<u64>,
}

/// Keeps the ioeventfds where the functions' BAR 0 decodes.
pub struct NotifyRegistrar {
    vm: Arc<VmFd>,
    functions: Mutex<Vec<Notifies>>,
}

impl NotifyRegistrar {
    /// A registrar for `vm`, with no functions yet.
    pub fn new(vm: Arc<VmFd>) -> Self {
        Self {
            vm,
            functions: Mutex::new(Vec::new()),
        }
    }

    /// Adds `function`'s notify registers (BAR 0 offsets and eventfds).
    pub fn add(&self, function: SharedFunction, registers: Vec<(u64, EventFd)>) {
        self.lock().push(Notifies {
            function,
            registers,
            registered_at: None,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Notifies>> {
        self.functions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves every function's ioeventfds to where its BAR 0 decodes now
    /// (none while memory decoding is off or the BAR is unassigned).
    pub fn sync(&self) -> Result<()> {
        for notifies in self.lock().iter_mut() {
            let decoding = {
                let function = notifies.function.lock().unwrap_or_else(|p| p.into_inner());
                let config = function.config();
                let memory = config.bar(0).map(|bar| bar.kind).unwrap_or(BarKind::Io);
                config
                    .bar_address(0)
                    .filter(|base| *base != 0 && config.decodes(memory) && memory != BarKind::Io)
            };
            if decoding == notifies.registered_at {
                continue;
            }
            if let Some(old) = notifies.registered_at.take() {
                for (offset, fd) in &notifies.registers {
                    let address = IoEventAddress::Mmio(old + offset);
                    self.vm
                        .unregister_ioevent(fd, &address, NoDatamatch)
                        .context("removing a KVM ioeventfd")?;
                }
            }
            if let Some(base) = decoding {
                for (offset, fd) in &notifies.registers {
                    let address = IoEventAddress::Mmio(base + offset);
                    self.vm
                        .register_ioevent(fd, &address, NoDatamatch)
                        .context("KVM_IOEVENTFD on a virtio notify register")?;
                }
                notifies.registered_at = Some(base);
            }
        }
        Ok(())
    }
}

impl ConfigListener for NotifyRegistrar {
    fn config_written(&self) {
        if let Err(e) = self.sync() {
            // Notifications still work through the exit path.
            eprintln!("vmm: warning: {e:#}");
        }
    }
}
