//! The virtio devices the command line asks for, as PCI endpoints, and
//! the event-loop subscribers that process their queues off the vCPU
//! threads.

use std::sync::{Arc, Mutex};

use anyhow::Result;
use devices::pci::SharedFunction;
use event_manager::MutEventSubscriber;

use crate::cli::Cli;
use crate::irq::GsiRouter;
use crate::memory::GuestMemory;

/// The endpoints to put below root ports, and their queue subscribers.
#[derive(Default)]
pub struct Endpoints {
    /// PCI functions, in command-line order (disks, then network, then rng).
    pub functions: Vec<SharedFunction>,
    /// Event-loop subscribers processing their queues.
    pub subscribers: Vec<Arc<Mutex<dyn MutEventSubscriber + Send>>>,
}

/// Creates the devices `cli` asks for.
pub fn create_endpoints(
    cli: &Cli,
    mem: &GuestMemory,
    router: &Arc<GsiRouter>,
) -> Result<Endpoints> {
    let _ = (mem, router);
    if !cli.disk.is_empty() || !cli.net.is_empty() || cli.rng {
        return Err(crate::error::config_error(
            "virtio devices are not available in this build yet",
        ));
    }
    Ok(Endpoints::default())
}
