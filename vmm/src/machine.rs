//! Builds a VM from the command line, runs it, and waits for its end.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use devices::pci::ConfigListener;
use devices::trace::AccessObserver;
use event_manager::{EventManager, EventOps, Events, MutEventSubscriber, SubscriberOps};
use firmware::acpi::write_acpi_tables;
use firmware::GuestLayout;
use vmm_sys_util::epoll::EventSet;

use crate::boot::{load_kernel, preflight, BootRequest};
use crate::cli::{Cli, DeviceKind};
use crate::console::StdinForwarder;
use crate::error::config_error;
use crate::fallback::FallbackStats;
use crate::ioeventfd::NotifyRegistrar;
use crate::irq::GsiRouter;
use crate::memory::{create_guest_memory, register_with_kvm, validate_ram_size};
use crate::platform::{acpi_platform, Platform, PlatformConfig};
use crate::stop::{StopSignal, VmOutcome};
use crate::timings::Timings;
use crate::trace::StderrTracer;
use crate::vcpu::{create_vcpus, spawn_vcpus, ExitStats, VcpuContext};
use crate::virtio::{create_endpoints, open_models, Models};
use crate::{host, vm};

/// Longest the main loop sleeps, so pending console input is retried.
const LOOP_TICK: Duration = Duration::from_millis(50);

/// Runs the VM described by `cli` to its end; `fallback` counts the
/// instructions the VMM completed for KVM, `exits` the exits it handled.
pub fn run(
    cli: &Cli,
    timings: Arc<Timings>,
    fallback: Arc<FallbackStats>,
    exits: Arc<ExitStats>,
) -> Result<VmOutcome> {
    // Everything the user supplied is checked before KVM is touched.
    validate_ram_size(cli.memory, host::total_ram())?;
    let layout = GuestLayout::new(cli.memory);
    let mut request = BootRequest {
        kernel: &cli.kernel,
        initramfs: cli.initramfs.as_deref(),
        cmdline: &cli.cmdline,
        rsdp: None,
    };
    preflight(&layout, &request)?;
    let opened = open_models(cli)?;

    let kvm = vm::open_kvm()?;
    let max_vcpus = kvm.get_max_vcpus();
    if usize::from(cli.cpus) > max_vcpus {
        return Err(config_error(format!(
            "--cpus {} is more than KVM allows ({max_vcpus})",
            cli.cpus
        )));
    }
    if cli.device.contains(&DeviceKind::Iaa) && !vm::guest_has_movdir64b(&kvm)? {
        return Err(config_error(
            "--device iaa needs MOVDIR64B, which this host's CPU (as KVM reports it) lacks",
        ));
    }
    let vm = Arc::new(vm::create_vm(&kvm)?);
    let mem = create_guest_memory(&layout)?;
    register_with_kvm(&vm, &mem)?;

    let stop = Arc::new(StopSignal::new().context("creating the stop eventfd")?);
    let tracer = (!cli.trace.is_empty())
        .then(|| Arc::new(StderrTracer::new(cli.trace.clone())) as Arc<dyn AccessObserver>);
    let router = Arc::new(GsiRouter::new(vm.clone()));
    // The image locks live as long as `opened`, until the VM ends.
    let Models {
        models,
        locks: _image_locks,
    } = opened;
    let endpoints = create_endpoints(models, &mem, &vm, &router)?;
    // VMM_IOEVENTFD=off leaves queue notifications on the exit path
    // (`make bench` measures what the ioeventfds save).
    let config_listener = if std::env::var("VMM_IOEVENTFD").as_deref() == Ok("off") {
        None
    } else {
        let notify = Arc::new(NotifyRegistrar::new(vm.clone()));
        for (function, registers) in endpoints.notifies {
            notify.add(function, registers);
        }
        Some(notify as Arc<dyn ConfigListener>)
    };
    let config = PlatformConfig {
        layout,
        endpoints: endpoints.functions,
        tracer,
        config_listener,
    };
    let platform = Platform::new(&vm, stop.clone(), timings.clone(), config)?;
    request.rsdp = Some(
        write_acpi_tables(&mem, &acpi_platform(cli.cpus, &layout))
            .context("building the ACPI tables")?,
    );
    let entry = load_kernel(&mem, &layout, &request)?;
    let vcpus = create_vcpus(&kvm, &vm, cli.cpus, &entry)?;
    let ctx = Arc::new(VcpuContext {
        pio: platform.pio.clone(),
        mmio: platform.mmio.clone(),
        mem,
        stop: stop.clone(),
        fallback: fallback.clone(),
        exits,
    });
    spawn_vcpus(vcpus, ctx)?;

    let deadline = cli
        .timeout
        .map(|secs| (secs, timings.start() + Duration::from_secs_f64(secs)));
    let outcome = wait_for_end(&stop, &platform, endpoints.subscribers, deadline);
    timings.mark_vm_end();
    outcome
}

/// Wakes the event loop when the stop signal is raised.
struct StopWaker(Arc<StopSignal>);

impl MutEventSubscriber for StopWaker {
    fn init(&mut self, ops: &mut EventOps) {
        // Without it the loop still notices a stop within LOOP_TICK.
        let _ = ops.add(Events::new(self.0.wake_fd(), EventSet::IN));
    }

    fn process(&mut self, _events: Events, _ops: &mut EventOps) {
        let _ = self.0.wake_fd().read();
    }
}

/// The main thread's loop: console input, device queues, the stop
/// signal, the timeout.
fn wait_for_end(
    stop: &Arc<StopSignal>,
    platform: &Platform,
    subscribers: Vec<Arc<Mutex<dyn MutEventSubscriber + Send>>>,
    deadline: Option<(f64, Instant)>,
) -> Result<VmOutcome> {
    let mut events = EventManager::<Arc<Mutex<dyn MutEventSubscriber + Send>>>::new()
        .map_err(|e| anyhow::anyhow!("cannot create the event loop: {e:?}"))?;
    for subscriber in subscribers {
        events.add_subscriber(subscriber);
    }
    let stdin = Arc::new(Mutex::new(StdinForwarder::new(platform.serial.clone())));
    events.add_subscriber(stdin.clone());
    events.add_subscriber(Arc::new(Mutex::new(StopWaker(stop.clone()))));
    loop {
        if let Some(outcome) = stop.outcome() {
            return Ok(outcome);
        }
        let mut wait = LOOP_TICK;
        if let Some((secs, at)) = deadline {
            let left = at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(VmOutcome::Timeout(secs));
            }
            wait = wait.min(left);
        }
        let wait_ms = i32::try_from(wait.as_millis().max(1)).unwrap_or(i32::MAX);
        events
            .run_with_timeout(wait_ms)
            .map_err(|e| anyhow::anyhow!("event loop failed: {e:?}"))?;
        stdin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .flush_pending();
    }
}
