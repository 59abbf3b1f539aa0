//! The KVM virtual machine: /dev/kvm, the VM fd, the in-kernel irqchip and PIT.

use std::ffi::CString;

use anyhow::{Context, Result};
use firmware::layout::KVM_TSS_ADDR;
use kvm_bindings::{
    kvm_enable_cap, kvm_pit_config, KVM_CAP_EXIT_ON_EMULATION_FAILURE, KVM_PIT_SPEAKER_DUMMY,
};
use kvm_ioctls::{Cap, Kvm, VmFd};

use crate::error::KvmUnavailable;

/// The KVM device used unless `VMM_KVM_DEVICE` names another.
pub const DEFAULT_KVM_PATH: &str = "/dev/kvm";
/// Environment variable naming the KVM device node (for unusual hosts and tests).
pub const KVM_PATH_ENV: &str = "VMM_KVM_DEVICE";

/// Opens the KVM device, with a message that says what to do when it fails.
pub fn open_kvm() -> Result<Kvm> {
    let path = std::env::var(KVM_PATH_ENV).unwrap_or_else(|_| DEFAULT_KVM_PATH.to_string());
    let c_path = CString::new(path.clone())
        .map_err(|_| KvmUnavailable(format!("{KVM_PATH_ENV} contains a NUL byte")))?;
    let kvm = Kvm::new_with_path(&c_path).map_err(|e| {
        let hint = match e.errno() {
            libc::ENOENT => "does not exist: this host has no KVM (load kvm_intel/kvm_amd, or enable nested virtualization)",
            libc::EACCES | libc::EPERM => "is not accessible: add your user to the 'kvm' group or fix its permissions",
            _ => "cannot be opened",
        };
        KvmUnavailable(format!("{path} {hint} ({e})"))
    })?;
    let version = kvm.get_api_version();
    if version < 0 {
        return Err(KvmUnavailable(format!("{path} is not a KVM device")).into());
    }
    if version != 12 {
        return Err(KvmUnavailable(format!("{path} speaks KVM API {version}, not 12")).into());
    }
    for (cap, name) in [
        (Cap::Irqchip, "KVM_CAP_IRQCHIP"),
        (Cap::UserMemory, "KVM_CAP_USER_MEMORY"),
        (Cap::Pit2, "KVM_CAP_PIT2"),
        (Cap::Irqfd, "KVM_CAP_IRQFD"),
        (Cap::IrqRouting, "KVM_CAP_IRQ_ROUTING"),
        (Cap::Ioeventfd, "KVM_CAP_IOEVENTFD"),
    ] {
        if !kvm.check_extension(cap) {
            return Err(KvmUnavailable(format!("KVM lacks {name}, which this VMM needs")).into());
        }
    }
    Ok(kvm)
}

/// Creates the VM with the in-kernel irqchip (LAPICs, IOAPIC, PIC) and PIT.
pub fn create_vm(kvm: &Kvm) -> Result<VmFd> {
    let vm = kvm
        .create_vm()
        .map_err(|e| KvmUnavailable(format!("KVM refused to create a VM (KVM_CREATE_VM): {e}")))?;
    vm.set_tss_address(KVM_TSS_ADDR as usize)
        .context("KVM_SET_TSS_ADDR")?;
    vm.create_irq_chip().context("KVM_CREATE_IRQCHIP")?;
    let pit = kvm_pit_config {
        flags: KVM_PIT_SPEAKER_DUMMY,
        ..Default::default()
    };
    vm.create_pit2(pit).context("KVM_CREATE_PIT2")?;
    enable_exit_on_emulation_failure(kvm, &vm)?;
    Ok(vm)
}

/// Makes an instruction KVM cannot emulate stop the vCPU with the
/// instruction bytes, instead of KVM injecting #UD where it can.
fn enable_exit_on_emulation_failure(kvm: &Kvm, vm: &VmFd) -> Result<()> {
    if kvm.check_extension_raw(KVM_CAP_EXIT_ON_EMULATION_FAILURE.into()) == 0 {
        // Older hosts: failures at CPL0 still stop the vCPU; the report then
        // reads the bytes from guest memory.
        return Ok(());
    }
    let cap = kvm_enable_cap {
        cap: KVM_CAP_EXIT_ON_EMULATION_FAILURE,
        args: [1, 0, 0, 0],
        ..Default::default()
    };
    vm.enable_cap(&cap)
        .context("KVM_ENABLE_CAP(KVM_CAP_EXIT_ON_EMULATION_FAILURE)")
}

/// CPUID.(EAX=7,ECX=0):ECX bit 28.
const MOVDIR64B_BIT: u32 = 1 << 28;

/// Whether KVM offers MOVDIR64B to guests (it does when the host CPU has
/// it): idxd refuses to load without it, and every IAA descriptor is one.
pub fn guest_has_movdir64b(kvm: &Kvm) -> Result<bool> {
    let cpuid = kvm
        .get_supported_cpuid(kvm_bindings::KVM_MAX_CPUID_ENTRIES)
        .context("KVM_GET_SUPPORTED_CPUID")?;
    Ok(cpuid
        .as_slice()
        .iter()
        .any(|e| e.function == 7 && e.index == 0 && e.ecx & MOVDIR64B_BIT != 0))
}
