//! [`GuestCpu`] on a real vCPU: state is fetched lazily with KVM_GET_*,
//! guest-virtual addresses go through the guest's page tables page by page
//! ([`super::page_walk`]: access rights checked, Accessed/Dirty set), and
//! [`KvmCpu::commit`] writes changes back and injects any exception.

use std::fs::File;
use std::io::Read;

use devices::Bus;
use kvm_bindings::{kvm_msr_entry, kvm_regs, kvm_sregs, kvm_xsave, Msrs};
use kvm_ioctls::VcpuFd;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend};

use super::cpu::{page_fault, Access, CpuError, Exception, FxArea, GuestCpu, FX_AREA_SIZE, GP0};
use super::page_walk::{self, DataAccess, PagingState, WalkError};
use crate::memory::GuestMemory;

const PAGE_SIZE: u64 = 4096;
/// XSTATE_BV (the XSAVE header's first word) as an index into `region`.
const XSTATE_BV_WORD: usize = FX_AREA_SIZE / 4;
/// XSTATE_BV bits for x87 and SSE state: set so KVM loads what we wrote.
const XSTATE_X87_SSE: u32 = 0b11;

/// A vCPU stopped on an instruction the fallback completes.
pub struct KvmCpu<'a> {
    fd: &'a VcpuFd,
    mem: &'a GuestMemory,
    mmio: &'a Bus,
    regs: Option<kvm_regs>,
    sregs: Option<kvm_sregs>,
    /// KVM's XSAVE image and its legacy region as bytes, once fetched.
    fx: Option<(Box<kvm_xsave>, FxArea)>,
    exception: Option<Exception>,
}

impl std::fmt::Debug for KvmCpu<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvmCpu")
            .field("exception", &self.exception)
            .finish_non_exhaustive()
    }
}

fn kvm_err(what: &str) -> impl Fn(kvm_ioctls::Error) -> CpuError + '_ {
    move |e| CpuError(format!("{what}: {e}"))
}

impl<'a> KvmCpu<'a> {
    /// Wraps `fd`, whose memory is `mem` and whose MMIO devices are on `mmio`.
    pub fn new(fd: &'a VcpuFd, mem: &'a GuestMemory, mmio: &'a Bus) -> Self {
        Self {
            fd,
            mem,
            mmio,
            regs: None,
            sregs: None,
            fx: None,
            exception: None,
        }
    }

    /// Writes back what handlers changed and delivers a pending exception.
    pub fn commit(mut self) -> Result<(), CpuError> {
        if let Some(regs) = &self.regs {
            self.fd.set_regs(regs).map_err(kvm_err("KVM_SET_REGS"))?;
        }
        // Written back only if a handler changed it (fxsave, stmxcsr and fwait
        // only read it).
        if let Some((mut xsave, area)) = self.fx.take().filter(|(x, a)| load_fx_area(x) != *a) {
            store_fx_area(&mut xsave, &area);
            // SAFETY: the VMM never enables dynamic XSTATE features
            // (arch_prctl ARCH_REQ_XCOMP_GUEST_PERM), so KVM reads no more
            // than the 4096-byte kvm_xsave we pass, which KVM_GET_XSAVE filled.
            unsafe { self.fd.set_xsave(&xsave) }.map_err(kvm_err("KVM_SET_XSAVE"))?;
        }
        let Some(e) = self.exception else {
            return Ok(());
        };
        if let Some(cr2) = e.cr2 {
            let mut sregs = self.fd.get_sregs().map_err(kvm_err("KVM_GET_SREGS"))?;
            sregs.cr2 = cr2;
            self.fd
                .set_sregs(&sregs)
                .map_err(kvm_err("KVM_SET_SREGS"))?;
        }
        let mut events = self
            .fd
            .get_vcpu_events()
            .map_err(kvm_err("KVM_GET_VCPU_EVENTS"))?;
        events.exception.injected = 1;
        events.exception.pending = 0;
        events.exception.nr = e.vector;
        events.exception.has_error_code = u8::from(e.error_code.is_some());
        events.exception.error_code = e.error_code.unwrap_or(0);
        self.fd
            .set_vcpu_events(&events)
            .map_err(kvm_err("KVM_SET_VCPU_EVENTS"))
    }

    /// The paging state a guest-virtual access is checked against.
    fn paging_state(&mut self) -> Result<PagingState, CpuError> {
        let sregs = *self.sregs()?;
        let rflags = self.regs()?.rflags;
        Ok(PagingState {
            cr0: sregs.cr0,
            cr3: sregs.cr3,
            cr4: sregs.cr4,
            efer: sregs.efer,
            cpl: sregs.ss.dpl,
            rflags,
        })
    }

    /// The guest-physical address of `addr` (setting the guest's Accessed
    /// and Dirty flags as the CPU would), or the exception the access raises.
    fn translate(&mut self, addr: u64, access: DataAccess) -> Access<u64> {
        let state = self.paging_state()?;
        Ok(match page_walk::translate(self.mem, &state, addr, access) {
            Ok(gpa) => Ok(gpa),
            Err(e) => Err(walk_exception(e)?),
        })
    }

    /// Splits `[addr, addr + len)` at page boundaries.
    fn chunks(addr: u64, len: usize) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> {
        let mut done = 0usize;
        std::iter::from_fn(move || {
            if done >= len {
                return None;
            }
            let at = addr.wrapping_add(done as u64);
            let in_page = (PAGE_SIZE - at % PAGE_SIZE) as usize;
            let n = in_page.min(len - done);
            let range = done..done + n;
            done += n;
            Some((at, range))
        })
    }
}

/// The exception a failed walk raises, or a VMM error if it raises none.
fn walk_exception(e: WalkError) -> Result<Exception, CpuError> {
    match e {
        // The walk's error code also has the P and RSVD bits.
        WalkError::PageFault { linear, error_code } => Ok(Exception {
            error_code: Some(error_code),
            ..page_fault(linear, false, false)
        }),
        WalkError::NonCanonical(_) => Ok(GP0),
        WalkError::Unstable(_) => Err(CpuError(e.to_string())),
    }
}

/// The legacy (FXSAVE-layout) region of an XSAVE image, as bytes.
fn load_fx_area(xsave: &kvm_xsave) -> FxArea {
    let mut area = [0u8; FX_AREA_SIZE];
    for (bytes, word) in area.chunks_exact_mut(4).zip(xsave.region.iter()) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    area
}

/// Puts `area` back into the XSAVE image and marks x87/SSE state present.
fn store_fx_area(xsave: &mut kvm_xsave, area: &FxArea) {
    for (word, bytes) in xsave.region.iter_mut().zip(area.chunks_exact(4)) {
        *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    xsave.region[XSTATE_BV_WORD] |= XSTATE_X87_SSE;
}

impl GuestCpu for KvmCpu<'_> {
    fn regs(&mut self) -> Result<&mut kvm_regs, CpuError> {
        if self.regs.is_none() {
            self.regs = Some(self.fd.get_regs().map_err(kvm_err("KVM_GET_REGS"))?);
        }
        self.regs
            .as_mut()
            .ok_or_else(|| CpuError("registers unavailable".into()))
    }

    fn sregs(&mut self) -> Result<&kvm_sregs, CpuError> {
        if self.sregs.is_none() {
            self.sregs = Some(self.fd.get_sregs().map_err(kvm_err("KVM_GET_SREGS"))?);
        }
        self.sregs
            .as_ref()
            .ok_or_else(|| CpuError("segment registers unavailable".into()))
    }

    fn fx_area(&mut self) -> Result<&mut FxArea, CpuError> {
        if self.fx.is_none() {
            let xsave = Box::new(self.fd.get_xsave().map_err(kvm_err("KVM_GET_XSAVE"))?);
            let area = load_fx_area(&xsave);
            self.fx = Some((xsave, area));
        }
        self.fx
            .as_mut()
            .map(|(_, area)| area)
            .ok_or_else(|| CpuError("FPU state unavailable".into()))
    }

    fn read_virt(&mut self, addr: u64, buf: &mut [u8]) -> Access<()> {
        for (at, range) in Self::chunks(addr, buf.len()) {
            let gpa = match self.translate(at, DataAccess::Read)? {
                Ok(gpa) => gpa,
                Err(e) => return Ok(Err(e)),
            };
            let part = &mut buf[range];
            if self.mem.read_slice(part, GuestAddress(gpa)).is_err() {
                self.mmio.read(gpa, part);
            }
        }
        Ok(Ok(()))
    }

    fn write_virt(&mut self, addr: u64, data: &[u8]) -> Access<()> {
        // Translate every page first, so a fault leaves memory untouched.
        let mut targets = Vec::new();
        for (at, range) in Self::chunks(addr, data.len()) {
            match self.translate(at, DataAccess::Write)? {
                Ok(gpa) => targets.push((gpa, range)),
                Err(e) => return Ok(Err(e)),
            }
        }
        for (gpa, range) in targets {
            let part = &data[range];
            if self.mem.address_in_range(GuestAddress(gpa)) {
                self.mem
                    .write_slice(part, GuestAddress(gpa))
                    .map_err(|e| CpuError(format!("writing guest RAM at {gpa:#x}: {e}")))?;
            } else {
                self.mmio.write(gpa, part);
            }
        }
        Ok(Ok(()))
    }

    fn read_msr(&mut self, index: u32) -> Result<u64, CpuError> {
        let mut msrs = Msrs::from_entries(&[kvm_msr_entry {
            index,
            ..Default::default()
        }])
        .map_err(|e| CpuError(format!("MSR list: {e:?}")))?;
        let read = self
            .fd
            .get_msrs(&mut msrs)
            .map_err(kvm_err("KVM_GET_MSRS"))?;
        match msrs.as_slice().first() {
            Some(entry) if read == 1 => Ok(entry.data),
            _ => Err(CpuError(format!("KVM could not read MSR {index:#x}"))),
        }
    }

    fn random(&mut self, buf: &mut [u8]) -> Result<(), CpuError> {
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(buf))
            .map_err(|e| CpuError(format!("reading /dev/urandom: {e}")))
    }

    fn inject(&mut self, exception: Exception) -> Result<(), CpuError> {
        self.exception = Some(exception);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_fx_area_round_trips_and_marks_x87_sse_present() {
        let mut xsave = kvm_xsave::default();
        xsave.region[6] = 0x1f80;
        let mut area = load_fx_area(&xsave);
        assert_eq!(&area[24..28], &[0x80, 0x1f, 0, 0]);
        area[24] = 0xa0;
        store_fx_area(&mut xsave, &area);
        assert_eq!(
            (xsave.region[6], xsave.region[XSTATE_BV_WORD]),
            (0x1fa0, 0b11)
        );
    }

    #[test]
    fn test_walk_errors_become_pf_gp_or_a_vmm_error() {
        let pf = walk_exception(WalkError::PageFault {
            linear: 0x1234,
            error_code: 7,
        });
        assert_eq!(
            pf.ok(),
            Some(Exception {
                vector: 14,
                error_code: Some(7),
                cr2: Some(0x1234)
            })
        );
        assert_eq!(
            walk_exception(WalkError::NonCanonical(1 << 63)).ok(),
            Some(GP0)
        );
        assert!(walk_exception(WalkError::Unstable(0)).is_err());
    }

    #[test]
    fn test_chunks_split_at_page_boundaries() {
        let parts: Vec<_> = KvmCpu::chunks(0x1ff8, 16).collect();
        assert_eq!(parts, vec![(0x1ff8, 0..8), (0x2000, 8..16)]);
        assert_eq!(KvmCpu::chunks(0x3000, 0).count(), 0);
        assert_eq!(
            KvmCpu::chunks(0x3040, 64).collect::<Vec<_>>(),
            vec![(0x3040, 0..64)]
        );
    }
}
