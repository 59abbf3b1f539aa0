//! Virtio 1.x devices on the modern PCI transport.
//!
//! [`VirtioPci`] is the transport: a PCIe endpoint with the virtio
//! capabilities, MSI-X, and BAR 0 holding the virtio register regions. It
//! wraps a [`VirtioDevice`] model: [`Rng`] (entropy), [`Block`] (a disk
//! on a host file) or [`Net`] (an Ethernet card on a [`NetBackend`]).
//!
//! Threads: register accesses come from vCPU threads; a queue notification
//! only signals the queue's eventfd. The VMM's event thread polls
//! [`VirtioPci::events`] and calls [`VirtioPci::handle_event`] (or the same
//! through [`VirtioPci::handler`], which does not take the function's lock),
//! and that is where queues are processed and interrupts raised.

mod blk;
mod chain;
mod common;
mod device;
mod interrupt;
mod net;
mod pci;
mod regs;
mod rng;
mod worker;

#[cfg(test)]
mod tests;

pub use blk::*;
pub use device::{
    read_config_bytes, ActivateError, DeviceType, GuestMemory, Signals, VirtioDevice,
};
pub use net::*;
pub use pci::{VirtioPci, VirtioPciError, MAX_QUEUES};
pub use regs::*;
pub use rng::Rng;
pub use worker::{EventHandler, DEVICE_TOKEN_BASE};
