//! The part of a virtio function the event thread runs: the device model,
//! its live queues and the guest memory, behind their own lock, so queue
//! work never holds the lock a vCPU takes for register accesses. The vCPU
//! side only signals the queues' eventfds.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use virtio_queue::{Queue, QueueT};
use vmm_sys_util::eventfd::EventFd;

use super::device::{GuestMemory, Signals, VirtioDevice};
use super::interrupt::Interrupts;

/// Tokens from [`VirtioDevice::event_fds`] are offset by this in
/// [`EventHandler::events`]; smaller tokens are queue indexes.
pub const DEVICE_TOKEN_BASE: u32 = 0x100;

/// The event side of a virtio function, for the VMM's event thread.
///
/// Register every `(fd, token)` of [`events`](Self::events) for input
/// (EPOLLIN) and call [`handle_event`](Self::handle_event) with the token
/// when it fires. Queue eventfds are drained on each call, so they work
/// level- or edge-triggered; a device's own fds (a network backend) must
/// be edge-triggered (EPOLLET), because data the guest has no buffers for
/// yet stays unread until the guest posts some.
pub trait EventHandler: Send + Sync {
    /// The file descriptors to poll, with their tokens.
    fn events(&self) -> Vec<(RawFd, u32)>;
    /// Handles a readable descriptor; may do blocking I/O on the device's
    /// backend, never waits for a vCPU.
    fn handle_event(&self, token: u32);
}

/// The device and its live queues.
struct Worker<D> {
    device: D,
    queues: Vec<Queue>,
    active: bool,
    mem: GuestMemory,
}

/// What the transport and the event thread share.
pub(crate) struct Shared<D> {
    worker: Mutex<Worker<D>>,
    pub(crate) irq: Interrupts,
    notify: Vec<EventFd>,
    /// The command register's bus master enable: without it the function
    /// may not touch memory (no queue processing).
    bus_master: AtomicBool,
}

impl<D: VirtioDevice> Shared<D> {
    pub(crate) fn new(device: D, mem: GuestMemory, irq: Interrupts, notify: Vec<EventFd>) -> Self {
        Self {
            worker: Mutex::new(Worker {
                device,
                queues: Vec::new(),
                active: false,
                mem,
            }),
            irq,
            notify,
            bus_master: AtomicBool::new(false),
        }
    }

    /// Follows the command register's bus master enable; turning it on
    /// gives every queue a pass (notifications that came while it was off
    /// found no memory access allowed).
    pub(crate) fn set_bus_master(&self, enabled: bool) {
        let was = self.bus_master.swap(enabled, Ordering::AcqRel);
        self.irq.set_bus_master(enabled);
        if enabled && !was {
            for index in 0..self.notify.len() {
                self.kick(index);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, Worker<D>> {
        self.worker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the device (configuration access from a vCPU).
    pub(crate) fn with_device<R>(&self, f: impl FnOnce(&mut D) -> R) -> R {
        f(&mut self.lock().device)
    }

    /// Queue `index`'s eventfd.
    pub(crate) fn notify_fd(&self, index: usize) -> Option<&EventFd> {
        self.notify.get(index)
    }

    /// A guest notification for queue `index`: only signals its eventfd.
    pub(crate) fn kick(&self, index: usize) {
        if let Some(fd) = self.notify.get(index) {
            // A full counter (2^64 - 2 kicks unhandled) still wakes the
            // handler, so a failed write loses nothing.
            let _ = fd.write(1);
        }
    }

    /// Starts the device with `features` on `queues`; false if the device
    /// refuses or a ring lies outside guest memory.
    pub(crate) fn activate(&self, features: u64, queues: Vec<Queue>) -> bool {
        let mut worker = self.lock();
        let rings_ok = queues
            .iter()
            .filter(|q| q.ready())
            .all(|q| q.is_valid(&worker.mem));
        if !rings_ok || worker.device.activate(features).is_err() {
            return false;
        }
        worker.queues = queues;
        worker.active = true;
        drop(worker);
        // Kicks that came before DRIVER_OK, or data a backend holds, get
        // a first pass now.
        for index in 0..self.notify.len() {
            self.kick(index);
        }
        true
    }

    /// Stops the device and drops its queues; waits for queue work in
    /// progress, so no buffer is touched after the driver sees status 0.
    pub(crate) fn reset(&self) {
        let mut worker = self.lock();
        worker.device.reset();
        worker.queues.clear();
        worker.active = false;
        for fd in &self.notify {
            let _ = fd.read();
        }
        self.irq.reset();
    }

    /// Raises what the device reported.
    fn deliver(&self, worker: &mut Worker<D>, signals: Signals) {
        for index in signals.used_queues() {
            let notify = worker
                .queues
                .get_mut(index)
                .map(|q| q.needs_notification(&worker.mem).unwrap_or(true));
            if notify == Some(true) {
                self.irq.signal_queue(index);
            }
        }
        if signals.is_needs_reset() {
            self.irq.signal_needs_reset();
        } else if signals.is_config_changed() {
            self.irq.signal_config();
        }
    }
}

impl<D: VirtioDevice> EventHandler for Shared<D> {
    fn events(&self) -> Vec<(RawFd, u32)> {
        let queues = self
            .notify
            .iter()
            .enumerate()
            .map(|(i, fd)| (fd.as_raw_fd(), i as u32));
        let device = self
            .lock()
            .device
            .event_fds()
            .into_iter()
            .map(|(fd, token)| (fd, token.saturating_add(DEVICE_TOKEN_BASE)));
        queues.chain(device).collect()
    }

    fn handle_event(&self, token: u32) {
        let index = token as usize;
        if let Some(fd) = self.notify.get(index) {
            let _ = fd.read();
        }
        let mut guard = self.lock();
        if !guard.active || !self.bus_master.load(Ordering::Acquire) {
            return;
        }
        let worker = &mut *guard;
        let mut signals = Signals::default();
        if let Some(queue) = worker.queues.get_mut(index) {
            if queue.ready() {
                worker
                    .device
                    .process_queue(index, queue, &worker.mem, &mut signals);
            }
        } else if let Some(device_token) = token.checked_sub(DEVICE_TOKEN_BASE) {
            worker
                .device
                .handle_event(device_token, &mut worker.queues, &worker.mem, &mut signals);
        }
        self.deliver(worker, signals);
    }
}
