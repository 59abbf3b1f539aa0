//! The devices the command line asks for (virtio, and the emulated
//! accelerators of `--device`): their models are opened
//! before KVM is touched (a missing disk image is a usage error), then
//! put on the modern PCI transport with an MSI-X sink each, and their
//! queues processed by event-loop subscribers, off the vCPU threads.

use std::fs::{File, TryLockError};
use std::os::fd::RawFd;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use devices::iaa::Iaa;
use devices::pci::SharedFunction;
use devices::qat::Qat420xx;
use devices::virtio::{
    Block, EventHandler, Net, NetBackend, Rng, UnixDatagramBackend, VirtioDevice, VirtioPci,
    DEVICE_TOKEN_BASE,
};
use event_manager::{EventOps, Events, MutEventSubscriber};
use firmware::acpi::pci_intx_gsi;
use kvm_ioctls::VmFd;
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::eventfd::EventFd;

use crate::cli::{Cli, DeviceKind};
use crate::device_args::{default_mac, NetLink};
use crate::error::config_error;
use crate::irq::{GsiRouter, KvmIntx, KvmMsiSink};
use crate::memory::GuestMemory;
use crate::pci::endpoint_slot;
use crate::tap::TapBackend;

/// A device model, opened and ready to be put on the PCIe platform.
pub enum Model {
    /// virtio-blk.
    Block(Block),
    /// virtio-net.
    Net(Net),
    /// virtio-rng.
    Rng(Rng),
    /// An emulated accelerator (`--device`).
    Accelerator(DeviceKind),
}

/// The device models, and the advisory locks held on their disk images
/// for as long as the VM runs.
pub struct Models {
    /// The models, in PCI order.
    pub models: Vec<Model>,
    /// One open file per disk image, holding its lock.
    pub locks: Vec<File>,
}

/// Takes the image's advisory lock: exclusive for a writable disk, shared
/// for a readonly one, so two VMs never write one image (or one writes
/// what another reads) and silently corrupt it.
fn lock_image(path: &Path, readonly: bool) -> Result<File> {
    let file = File::open(path)
        .map_err(|e| config_error(format!("--disk: disk image {}: {e}", path.display())))?;
    let locked = if readonly {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match locked {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(config_error(format!(
            "--disk: disk image {} is in use by another process (locked)",
            path.display()
        ))),
        Err(TryLockError::Error(e)) => Err(config_error(format!(
            "--disk: cannot lock disk image {}: {e}",
            path.display()
        ))),
    }
}

/// Opens every device `cli` asks for, in PCI order: disks, network
/// interfaces, then the rng. Runs before KVM: bad paths are usage errors.
pub fn open_models(cli: &Cli) -> Result<Models> {
    let mut models = Vec::new();
    let mut locks = Vec::new();
    for disk in &cli.disk {
        check_disk_path(&disk.path)?;
        locks.push(lock_image(&disk.path, disk.readonly)?);
        let mut block = Block::open(&disk.path, disk.readonly)
            .map_err(|e| config_error(format!("--disk: {e}")))?;
        if let Some(serial) = &disk.serial {
            block = block.with_serial(serial.as_bytes());
        }
        models.push(Model::Block(block));
    }
    for (index, net) in cli.net.iter().enumerate() {
        let backend: Box<dyn NetBackend> = match &net.link {
            NetLink::Socket { socket, peer } => {
                Box::new(UnixDatagramBackend::new(socket, peer).map_err(|e| {
                    config_error(format!(
                        "--net: cannot bind socket {}: {e}",
                        socket.display()
                    ))
                })?)
            }
            NetLink::Tap(name) => {
                Box::new(TapBackend::open(name).map_err(|e| config_error(format!("--net: {e}")))?)
            }
        };
        let mac = net.mac.unwrap_or_else(|| default_mac(index));
        models.push(Model::Net(Net::new(backend, mac)));
    }
    if cli.rng {
        models.push(Model::Rng(Rng::new()));
    }
    models.extend(cli.device.iter().map(|kind| Model::Accelerator(*kind)));
    Ok(Models { models, locks })
}

/// A disk image must be a regular file or a block device.
fn check_disk_path(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| config_error(format!("--disk: disk image {}: {e}", path.display())))?;
    let kind = meta.file_type();
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() || kind.is_block_device() {
        Ok(())
    } else {
        Err(config_error(format!(
            "--disk: disk image {} is not a regular file or block device",
            path.display()
        )))
    }
}

/// The endpoints to put below root ports, and their queue subscribers.
#[derive(Default)]
pub struct Endpoints {
    /// PCI functions, in order.
    pub functions: Vec<SharedFunction>,
    /// Event-loop subscribers processing their queues.
    pub subscribers: Vec<Arc<Mutex<dyn MutEventSubscriber + Send>>>,
    /// Each function's notify registers (BAR 0 offset, eventfd), for ioeventfds.
    pub notifies: Vec<(SharedFunction, Vec<(u64, EventFd)>)>,
}

impl Endpoints {
    /// Adds `device` as the function below the root port in bus-0 slot `slot`.
    fn push<D: VirtioDevice + 'static>(
        &mut self,
        device: D,
        slot: u8,
        mem: &GuestMemory,
        vm: &Arc<VmFd>,
        router: &Arc<GsiRouter>,
    ) -> Result<()> {
        let name = device.name().to_owned();
        let sink = Arc::new(KvmMsiSink::new(name.clone(), router.clone()));
        // Device 0 below the port: the swizzle keeps INTA, so it takes the
        // port slot's INTA route.
        let intx = Arc::new(KvmIntx::new(vm.clone(), pci_intx_gsi(slot, 0)));
        let function = VirtioPci::new(device, mem.clone(), sink)
            .with_context(|| format!("creating the {name} PCI function"))?
            .with_intx(intx);
        let subscriber = QueueSubscriber {
            events: function.events(),
            handler: function.handler(),
        };
        let notify = function
            .notify_eventfds()
            .context("duplicating the notify eventfds")?;
        let function: SharedFunction = Arc::new(Mutex::new(function));
        self.notifies.push((function.clone(), notify));
        self.functions.push(function);
        self.subscribers.push(Arc::new(Mutex::new(subscriber)));
        Ok(())
    }
}

/// Puts `models` on the virtio-pci transport, each below the root port
/// `pci::build_pci` will place it under.
pub fn create_endpoints(
    models: Vec<Model>,
    mem: &GuestMemory,
    vm: &Arc<VmFd>,
    router: &Arc<GsiRouter>,
) -> Result<Endpoints> {
    let mut endpoints = Endpoints::default();
    for (index, model) in models.into_iter().enumerate() {
        let slot = endpoint_slot(index);
        match model {
            Model::Block(device) => endpoints.push(device, slot, mem, vm, router)?,
            Model::Net(device) => endpoints.push(device, slot, mem, vm, router)?,
            Model::Rng(device) => endpoints.push(device, slot, mem, vm, router)?,
            Model::Accelerator(kind) => endpoints.push_accelerator(kind, mem, router)?,
        }
    }
    Ok(endpoints)
}

impl Endpoints {
    /// Adds an accelerator's PCI function. IAA runs each descriptor on the
    /// vCPU thread that submits it (its portals complete before the guest
    /// polls); QAT serves its rings on the event thread, after a doorbell.
    fn push_accelerator(
        &mut self,
        kind: DeviceKind,
        mem: &GuestMemory,
        router: &Arc<GsiRouter>,
    ) -> Result<()> {
        match kind {
            DeviceKind::Iaa => {
                let sink = Arc::new(KvmMsiSink::new("iaa", router.clone()));
                let iaa = Iaa::new(mem.clone(), sink).context("creating the IAA function")?;
                self.functions.push(Arc::new(Mutex::new(iaa)));
            }
            DeviceKind::Qat => {
                let sink = Arc::new(KvmMsiSink::new("qat", router.clone()));
                let qat = Qat420xx::new(mem.clone(), sink).context("creating the QAT function")?;
                let subscriber = QueueSubscriber {
                    events: qat.events(),
                    handler: qat.handler(),
                };
                self.functions.push(Arc::new(Mutex::new(qat)));
                self.subscribers.push(Arc::new(Mutex::new(subscriber)));
            }
        }
        Ok(())
    }
}

/// Processes one function's queue notifications and backend events.
struct QueueSubscriber {
    events: Vec<(RawFd, u32)>,
    handler: Arc<dyn EventHandler>,
}

impl MutEventSubscriber for QueueSubscriber {
    fn init(&mut self, ops: &mut EventOps) {
        for (fd, token) in &self.events {
            // A backend's fd stays readable while the guest has no buffers
            // for its data: edge-triggered, or the loop would spin.
            let set = if *token >= DEVICE_TOKEN_BASE {
                EventSet::IN | EventSet::EDGE_TRIGGERED
            } else {
                EventSet::IN
            };
            if let Err(e) = ops.add(Events::with_data_raw(*fd, *token, set)) {
                eprintln!("vmm: warning: cannot poll a virtio queue: {e:?}");
            }
        }
    }

    fn process(&mut self, events: Events, _ops: &mut EventOps) {
        self.handler.handle_event(events.data());
    }
}
