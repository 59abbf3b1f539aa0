//! The vCPU run loop: enter the guest, dispatch each exit, stop when asked.

use std::sync::Arc;

use devices::Bus;
use kvm_bindings::{
    KVM_INTERNAL_ERROR_EMULATION, KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES,
    KVM_SYSTEM_EVENT_RESET, KVM_SYSTEM_EVENT_SHUTDOWN,
};
use kvm_ioctls::{VcpuExit, VcpuFd};
use vm_memory::{Bytes, GuestAddress};

use super::exit_stats::{ExitKind, ExitStats};
use super::Vcpu;
use crate::emulation_failure::{report, FailureState};
use crate::fallback::kvm_cpu::KvmCpu;
use crate::fallback::{self, Completion, FallbackStats};
use crate::memory::GuestMemory;
use crate::stop::{StopSignal, VmOutcome};

/// What every vCPU thread shares.
#[derive(Debug)]
pub struct VcpuContext {
    /// Port I/O devices.
    pub pio: Arc<Bus>,
    /// MMIO devices.
    pub mmio: Arc<Bus>,
    /// Guest RAM (read for failure reports).
    pub mem: GuestMemory,
    /// Where an ending VM is recorded.
    pub stop: Arc<StopSignal>,
    /// Counters of instructions the fallback completed.
    pub fallback: Arc<FallbackStats>,
    /// Counters of exits by kind.
    pub exits: Arc<ExitStats>,
}

/// Runs `vcpu` until the VM stops.
pub fn run(mut vcpu: Vcpu, ctx: &VcpuContext) {
    while !ctx.stop.is_stopping() {
        if let Some(outcome) = run_once(&mut vcpu, ctx) {
            ctx.stop.stop(outcome);
        }
    }
}

/// One KVM_RUN and its exit; `Some` when the VM must stop.
fn run_once(vcpu: &mut Vcpu, ctx: &VcpuContext) -> Option<VmOutcome> {
    let cpu = u32::from(vcpu.id);
    let exit = vcpu.fd.run();
    ctx.exits.count(match &exit {
        Ok(VcpuExit::IoOut(..) | VcpuExit::IoIn(..)) => ExitKind::Pio,
        Ok(VcpuExit::MmioRead(..)) => ExitKind::MmioRead,
        Ok(VcpuExit::MmioWrite(..)) => ExitKind::MmioWrite,
        Ok(VcpuExit::Hlt) => ExitKind::Hlt,
        _ => ExitKind::Other,
    });
    match exit {
        // Port I/O may be a string instruction: `count` accesses of `size`.
        Ok(VcpuExit::IoOut(..) | VcpuExit::IoIn(..)) => {
            port_io(&mut vcpu.fd, &ctx.pio);
            None
        }
        Ok(VcpuExit::MmioWrite(addr, data)) => {
            ctx.mmio.write(addr, data);
            None
        }
        Ok(VcpuExit::MmioRead(addr, data)) => {
            ctx.mmio.read(addr, data);
            None
        }
        // With the in-kernel LAPIC, HLT waits inside KVM; a HLT exit only
        // means an interrupt may be pending, so enter again.
        Ok(VcpuExit::Hlt) => None,
        Ok(VcpuExit::Shutdown) => Some(VmOutcome::Shutdown { cpu }),
        Ok(VcpuExit::SystemEvent(kind, _)) => Some(match kind {
            KVM_SYSTEM_EVENT_RESET => VmOutcome::Reset,
            KVM_SYSTEM_EVENT_SHUTDOWN => VmOutcome::PowerOff,
            other => VmOutcome::Internal(format!("vCPU {cpu}: unhandled system event {other}")),
        }),
        Ok(VcpuExit::InternalError) => internal_error(vcpu, ctx),
        Ok(VcpuExit::FailEntry(reason, _)) => Some(VmOutcome::Internal(format!(
            "vCPU {cpu}: KVM could not enter the guest (hardware reason {reason:#x})"
        ))),
        Ok(other) => Some(VmOutcome::Internal(format!(
            "vCPU {cpu}: unexpected exit {other:?}"
        ))),
        Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => None,
        Err(e) => Some(VmOutcome::Internal(format!(
            "vCPU {cpu}: KVM_RUN failed: {e}"
        ))),
    }
}

/// Dispatches a KVM_EXIT_IO: each of its `count` elements of `size` bytes
/// is one access to the port (`rep outsb` sends every byte, not the first).
fn port_io(fd: &mut VcpuFd, pio: &Bus) {
    let run = fd.get_kvm_run();
    // SAFETY: the exit reason is KVM_EXIT_IO (the caller matched it), so
    // KVM filled the `io` member; it is plain integers.
    let io = unsafe { run.__bindgen_anon_1.io };
    let size = usize::from(io.size).max(1);
    let len = size * io.count as usize;
    let base: *mut u8 = (run as *mut kvm_bindings::kvm_run).cast();
    // SAFETY: KVM places the port data (count * size bytes, at most one
    // page) at `data_offset` inside the vCPU's kvm_run mapping, which
    // kvm-ioctls maps with the size KVM_GET_VCPU_MMAP_SIZE reports; nothing
    // else references those bytes while this exit is handled.
    let data = unsafe { std::slice::from_raw_parts_mut(base.add(io.data_offset as usize), len) };
    let port = u64::from(io.port);
    for element in data.chunks_mut(size) {
        if u32::from(io.direction) == kvm_bindings::KVM_EXIT_IO_OUT {
            pio.write(port, element);
        } else {
            pio.read(port, element);
        }
    }
}

/// Handles KVM_EXIT_INTERNAL_ERROR: an emulation failure goes to the
/// instruction fallback, and if that has no handler, becomes the report.
fn internal_error(vcpu: &mut Vcpu, ctx: &VcpuContext) -> Option<VmOutcome> {
    let cpu = u32::from(vcpu.id);
    let run = vcpu.fd.get_kvm_run();
    // SAFETY: the exit reason is KVM_EXIT_INTERNAL_ERROR, so KVM filled the
    // `internal` member of the union; every bit pattern is a valid u32.
    let suberror = unsafe { run.__bindgen_anon_1.internal.suberror };
    if suberror != KVM_INTERNAL_ERROR_EMULATION {
        return Some(VmOutcome::Internal(format!(
            "vCPU {cpu}: KVM internal error, suberror {suberror}"
        )));
    }
    // SAFETY: suberror KVM_INTERNAL_ERROR_EMULATION means KVM filled the
    // `emulation_failure` member; it is plain integers and bytes.
    let failure = unsafe { run.__bindgen_anon_1.emulation_failure };
    let has_bytes =
        u64::from(KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) & failure.flags != 0;
    let bytes = if has_bytes {
        // SAFETY: the flag says the insn_size/insn_bytes member is valid.
        let insn = unsafe { failure.__bindgen_anon_1.__bindgen_anon_1 };
        let len = usize::from(insn.insn_size).min(insn.insn_bytes.len());
        insn.insn_bytes[..len].to_vec()
    } else {
        code_at_rip(&vcpu.fd, &ctx.mem)
    };

    let mut guest = KvmCpu::new(&vcpu.fd, &ctx.mem, &ctx.mmio);
    let completed = fallback::complete(&bytes, &mut guest, &ctx.fallback).and_then(|c| {
        if c == Completion::Unsupported {
            Ok(c)
        } else {
            guest.commit().map(|()| c)
        }
    });
    match completed {
        Ok(Completion::Completed(_) | Completion::Injected(..)) => None,
        Ok(Completion::Unsupported) => Some(match failure_state(&vcpu.fd, cpu, bytes) {
            Ok(state) => VmOutcome::EmulationFailure(report(&state)),
            Err(e) => VmOutcome::Internal(format!(
                "vCPU {cpu}: emulation failure, and reading its state failed: {e}"
            )),
        }),
        Err(e) => Some(VmOutcome::Internal(format!(
            "vCPU {cpu}: completing an instruction KVM could not emulate failed: {e}"
        ))),
    }
}

/// The registers the emulation-failure report shows.
fn failure_state(fd: &VcpuFd, cpu: u32, bytes: Vec<u8>) -> Result<FailureState, kvm_ioctls::Error> {
    let regs = fd.get_regs()?;
    let sregs = fd.get_sregs()?;
    Ok(FailureState {
        cpu,
        rip: regs.rip,
        rsp: regs.rsp,
        rflags: regs.rflags,
        cr0: sregs.cr0,
        cr3: sregs.cr3,
        cr4: sregs.cr4,
        efer: sregs.efer,
        cs_l: sregs.cs.l != 0,
        cs_db: sregs.cs.db != 0,
        bytes,
    })
}

/// Up to 15 bytes at CS:RIP, stopping at the first unmapped byte (for
/// hosts whose KVM does not report the instruction bytes).
fn code_at_rip(fd: &VcpuFd, mem: &GuestMemory) -> Vec<u8> {
    let (Ok(regs), Ok(sregs)) = (fd.get_regs(), fd.get_sregs()) else {
        return Vec::new();
    };
    let addr = sregs.cs.base.wrapping_add(regs.rip);
    let mut bytes = Vec::with_capacity(15);
    for i in 0..15u64 {
        let Ok(t) = fd.translate_gva(addr.wrapping_add(i)) else {
            break;
        };
        if t.valid == 0 {
            break;
        }
        match mem.read_obj::<u8>(GuestAddress(t.physical_address)) {
            Ok(b) => bytes.push(b),
            Err(_) => break,
        }
    }
    bytes
}
