//! The serial console on the host's stdio: guest output to stdout (timed),
//! host stdin to the guest's receive FIFO.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};

use devices::legacy::Serial;
use event_manager::{EventOps, Events, MutEventSubscriber};
use vmm_sys_util::epoll::EventSet;

use crate::timings::Timings;

/// Guest serial output: written straight to stdout (a VMM ending with
/// `process::exit` must not leave bytes in a buffer).
#[derive(Debug)]
pub struct ConsoleOut {
    timings: Arc<Timings>,
}

impl ConsoleOut {
    /// Output that notes the first byte in `timings`.
    pub fn new(timings: Arc<Timings>) -> Self {
        Self { timings }
    }
}

impl Write for ConsoleOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.timings.mark_output();
        let mut out = std::io::stdout().lock();
        out.write_all(buf)?;
        out.flush()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout().flush()
    }
}

/// The COM1 device type used by the VMM.
pub type ConsoleSerial = Serial<ConsoleOut>;

/// Most input kept while the guest's FIFO is full.
const MAX_PENDING: usize = 64 * 1024;

/// Forwards stdin to the serial FIFO, keeping what does not fit yet.
pub struct StdinForwarder {
    stdin: Option<File>,
    serial: Arc<Mutex<ConsoleSerial>>,
    pending: VecDeque<u8>,
}

impl std::fmt::Debug for StdinForwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StdinForwarder")
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl StdinForwarder {
    /// A forwarder to `serial`; stdin is duplicated so reads are unbuffered.
    pub fn new(serial: Arc<Mutex<ConsoleSerial>>) -> Self {
        let stdin = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .map(File::from);
        Self {
            stdin,
            serial,
            pending: VecDeque::new(),
        }
    }

    /// Moves pending input into the FIFO as space allows. Never waits for
    /// the UART: a vCPU may hold it while blocked writing to stdout, and the
    /// main loop must stay free to end the VM (`--timeout`).
    pub fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut serial = match self.serial.try_lock() {
            Ok(serial) => serial,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        let (front, _) = self.pending.as_slices();
        if let Ok(n) = serial.enqueue_input(front) {
            self.pending.drain(..n);
        }
    }
}

impl MutEventSubscriber for StdinForwarder {
    fn init(&mut self, ops: &mut EventOps) {
        // stdin may be /dev/null, a regular file or closed: epoll refuses
        // those, and then there is simply no input.
        let registered = self
            .stdin
            .as_ref()
            .is_some_and(|f| ops.add(Events::new(f, EventSet::IN)).is_ok());
        if !registered {
            self.stdin = None;
        }
    }

    fn process(&mut self, events: Events, ops: &mut EventOps) {
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        let mut buf = [0u8; 256];
        let n = if events.event_set().contains(EventSet::IN) {
            stdin.read(&mut buf).unwrap_or(0)
        } else {
            0
        };
        if n == 0 {
            // EOF, error or hang-up: stop watching stdin.
            let _ = ops.remove(events);
            self.stdin = None;
            return;
        }
        let room = MAX_PENDING.saturating_sub(self.pending.len());
        self.pending.extend(&buf[..n.min(room)]);
        self.flush_pending();
    }
}
