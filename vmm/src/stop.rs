//! How a running VM ends: the first reason recorded wins, and the main
//! thread is woken through an eventfd.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use devices::{StopRequest, StopSink};
use vmm_sys_util::eventfd::{EventFd, EFD_NONBLOCK};

use crate::exit_code;

/// Why the VM stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum VmOutcome {
    /// The guest wrote this value to the debug-exit port.
    DebugExit(u32),
    /// The guest asked for a reset.
    Reset,
    /// The guest powered off (ACPI S5).
    PowerOff,
    /// A vCPU shut down (triple fault).
    Shutdown {
        /// The vCPU that shut down.
        cpu: u32,
    },
    /// KVM could not emulate an instruction; the report says which.
    EmulationFailure(String),
    /// `--timeout` expired after this many seconds.
    Timeout(f64),
    /// The VMM or KVM failed while the guest ran.
    Internal(String),
}

impl VmOutcome {
    /// The VMM's exit code for this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            VmOutcome::DebugExit(v) => exit_code::for_debug_exit(*v),
            VmOutcome::Reset => exit_code::GUEST_RESET,
            VmOutcome::PowerOff => exit_code::POWER_OFF,
            VmOutcome::Shutdown { .. } => exit_code::GUEST_SHUTDOWN,
            VmOutcome::EmulationFailure(_) => exit_code::EMULATION_FAILURE,
            VmOutcome::Timeout(_) => exit_code::TIMEOUT,
            VmOutcome::Internal(_) => exit_code::INTERNAL,
        }
    }

    /// What to tell the user on stderr, if anything.
    pub fn message(&self) -> Option<String> {
        match self {
            VmOutcome::DebugExit(v) if *v > u32::from(exit_code::GUEST_MAX) => Some(format!(
                "vmm: guest exit value {v} is above {}, exiting with {}",
                exit_code::GUEST_MAX,
                exit_code::GUEST_MAX
            )),
            VmOutcome::DebugExit(_) => None,
            VmOutcome::Reset => Some("vmm: guest requested a reset; stopping".into()),
            VmOutcome::PowerOff => Some("vmm: guest powered off".into()),
            VmOutcome::Shutdown { cpu } => Some(format!(
                "vmm: vCPU {cpu} shut down (triple fault); stopping"
            )),
            VmOutcome::EmulationFailure(report) => Some(report.clone()),
            VmOutcome::Timeout(secs) => Some(format!(
                "vmm: guest still running after --timeout {secs} s; stopped it"
            )),
            VmOutcome::Internal(msg) => Some(format!("vmm: error: {msg}")),
        }
    }
}

/// Shared between vCPU threads, devices and the main loop.
#[derive(Debug)]
pub struct StopSignal {
    stopping: AtomicBool,
    outcome: Mutex<Option<VmOutcome>>,
    wake: EventFd,
}

impl StopSignal {
    /// A signal not yet raised.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self {
            stopping: AtomicBool::new(false),
            outcome: Mutex::new(None),
            wake: EventFd::new(EFD_NONBLOCK)?,
        })
    }

    /// Records `outcome` unless another came first, and wakes the main loop.
    pub fn stop(&self, outcome: VmOutcome) {
        let mut slot = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(outcome);
        }
        self.stopping.store(true, Ordering::SeqCst);
        // A full eventfd counter is still readable: the wake-up is not lost.
        let _ = self.wake.write(1);
    }

    /// Whether the VM is stopping (vCPUs check this before re-entering the guest).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// The recorded outcome, once stopping.
    pub fn outcome(&self) -> Option<VmOutcome> {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The eventfd the main loop waits on.
    pub fn wake_fd(&self) -> &EventFd {
        &self.wake
    }
}

impl StopSink for StopSignal {
    fn request_stop(&self, request: StopRequest) {
        self.stop(match request {
            StopRequest::DebugExit(value) => VmOutcome::DebugExit(value),
            StopRequest::Reset => VmOutcome::Reset,
            StopRequest::PowerOff => VmOutcome::PowerOff,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_stop_first_outcome_wins() {
        let s = StopSignal::new().unwrap();
        assert!(!s.is_stopping());
        s.request_stop(StopRequest::DebugExit(3));
        s.stop(VmOutcome::Timeout(1.0));
        assert!(s.is_stopping());
        assert_eq!(s.outcome(), Some(VmOutcome::DebugExit(3)));
        assert_eq!(s.wake_fd().read().unwrap(), 2);
    }

    #[test]
    fn test_outcome_exit_codes_are_distinct() {
        let codes = [
            VmOutcome::Reset.exit_code(),
            VmOutcome::Shutdown { cpu: 0 }.exit_code(),
            VmOutcome::EmulationFailure(String::new()).exit_code(),
            VmOutcome::Timeout(1.0).exit_code(),
            VmOutcome::Internal(String::new()).exit_code(),
        ];
        for (i, a) in codes.iter().enumerate() {
            assert!(*a > exit_code::GUEST_MAX);
            assert!(codes[i + 1..].iter().all(|b| b != a));
        }
    }
}
