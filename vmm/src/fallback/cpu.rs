//! What a fallback handler may touch: the vCPU's registers and FPU state,
//! guest-virtual memory, MSRs, and guest-physical writes (RAM or a device).
//! KVM implements it on the vCPU thread; a mock implements it in tests.

use kvm_bindings::{kvm_regs, kvm_sregs};
use thiserror::Error;

/// A failure of the VMM or KVM (not of the guest) while completing an instruction.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct CpuError(pub String);

/// An exception the guest must see instead of the instruction completing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exception {
    /// Vector number.
    pub vector: u8,
    /// Error code, for vectors that push one.
    pub error_code: Option<u32>,
    /// Faulting linear address, for #PF.
    pub cr2: Option<u64>,
}

/// #UD: the instruction is not valid here.
pub const UD: Exception = Exception {
    vector: 6,
    error_code: None,
    cr2: None,
};
/// #GP(0).
pub const GP0: Exception = Exception {
    vector: 13,
    error_code: Some(0),
    cr2: None,
};
/// #BP, raised by int3.
pub const BP: Exception = Exception {
    vector: 3,
    error_code: None,
    cr2: None,
};
/// #NM: x87/SSE state unavailable (CR0.TS or CR0.EM).
pub const NM: Exception = Exception {
    vector: 7,
    error_code: None,
    cr2: None,
};
/// #MF: a pending unmasked x87 exception.
pub const MF: Exception = Exception {
    vector: 16,
    error_code: None,
    cr2: None,
};

/// #PF for a failed translation of `addr` (error code: not present, `write`, CPL).
pub fn page_fault(addr: u64, write: bool, user: bool) -> Exception {
    let error_code = (u32::from(write) << 1) | (u32::from(user) << 2);
    Exception {
        vector: 14,
        error_code: Some(error_code),
        cr2: Some(addr),
    }
}

/// Size of the FXSAVE image.
pub const FX_AREA_SIZE: usize = 512;
/// The x87/SSE state in FXSAVE layout (the legacy region of XSAVE).
pub type FxArea = [u8; FX_AREA_SIZE];

/// A guest memory access result: done, or the exception it raises.
pub type Access<T> = Result<Result<T, Exception>, CpuError>;

/// The vCPU as a handler sees it.
pub trait GuestCpu {
    /// General-purpose registers, RIP and RFLAGS (changes are written back).
    fn regs(&mut self) -> Result<&mut kvm_regs, CpuError>;
    /// Segment and control registers (read-only for handlers).
    fn sregs(&mut self) -> Result<&kvm_sregs, CpuError>;
    /// x87/SSE state as a 512-byte FXSAVE image (changes are written back).
    fn fx_area(&mut self) -> Result<&mut FxArea, CpuError>;
    /// Reads `buf.len()` bytes at guest-virtual `addr`.
    fn read_virt(&mut self, addr: u64, buf: &mut [u8]) -> Access<()>;
    /// Writes `data` at guest-virtual `addr` (RAM, or a device for MMIO).
    fn write_virt(&mut self, addr: u64, data: &[u8]) -> Access<()>;
    /// Reads an MSR.
    fn read_msr(&mut self, index: u32) -> Result<u64, CpuError>;
    /// Fills `buf` with random bytes from the host.
    fn random(&mut self, buf: &mut [u8]) -> Result<(), CpuError>;
    /// Delivers `exception` to the guest when it next runs.
    fn inject(&mut self, exception: Exception) -> Result<(), CpuError>;
}

/// The current privilege level (SS.DPL, which equals CPL).
pub fn cpl(cpu: &mut dyn GuestCpu) -> Result<u8, CpuError> {
    Ok(cpu.sregs()?.ss.dpl)
}

/// The code size the vCPU executes: 64, 32 or 16 bits.
pub fn bitness(cpu: &mut dyn GuestCpu) -> Result<u32, CpuError> {
    let s = cpu.sregs()?;
    Ok(crate::emulation_failure::bitness_of(
        s.efer,
        s.cr0,
        s.cs.l != 0,
        s.cs.db != 0,
    ))
}

/// The linear address of `offset` in the segment with `base`: in 64-bit
/// mode CS/DS/ES/SS bases count as 0 (FS/GS keep theirs); outside it the
/// address wraps at 4 GiB.
pub fn linear(bits: u32, base: u64, flat_in_long_mode: bool, offset: u64) -> u64 {
    match bits {
        64 if flat_in_long_mode => offset,
        64 => base.wrapping_add(offset),
        _ => base.wrapping_add(offset) & 0xffff_ffff,
    }
}
