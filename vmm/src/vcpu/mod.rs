//! vCPUs: creation, boot state, and one thread each running the guest.

mod boot_state;
mod cpuid;
mod exit_stats;
mod exits;
mod lapic;

use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use kvm_bindings::{CpuId, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{Kvm, VcpuFd, VmFd};

use crate::boot::BootEntry;
pub use exit_stats::ExitStats;
pub use exits::VcpuContext;

/// A created vCPU, ready to run.
#[derive(Debug)]
pub struct Vcpu {
    /// Index and APIC ID.
    pub id: u8,
    fd: VcpuFd,
}

/// Creates `count` vCPUs; vCPU 0 starts at `entry`, the others wait for
/// INIT/SIPI from the guest (the in-kernel LAPIC handles that).
pub fn create_vcpus(kvm: &Kvm, vm: &VmFd, count: u8, entry: &BootEntry) -> Result<Vec<Vcpu>> {
    let supported: CpuId = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .context("KVM_GET_SUPPORTED_CPUID")?;
    (0..count)
        .map(|id| {
            let fd = vm
                .create_vcpu(u64::from(id))
                .with_context(|| format!("KVM_CREATE_VCPU {id}"))?;
            fd.set_cpuid2(&cpuid::vcpu_cpuid(&supported, id))
                .context("KVM_SET_CPUID2")?;
            lapic::configure_lints(&fd)?;
            if id == 0 {
                boot_state::set_entry_state(&fd, entry)?;
            }
            Ok(Vcpu { id, fd })
        })
        .collect()
}

/// Starts each vCPU on its own thread.
pub fn spawn_vcpus(vcpus: Vec<Vcpu>, ctx: Arc<VcpuContext>) -> Result<Vec<JoinHandle<()>>> {
    vcpus
        .into_iter()
        .map(|vcpu| {
            let ctx = ctx.clone();
            std::thread::Builder::new()
                .name(format!("vcpu{}", vcpu.id))
                .spawn(move || exits::run(vcpu, &ctx))
                .context("spawning a vCPU thread")
        })
        .collect()
}
