//! The engine and firmware loader CSRs `qat_hal.c` / `qat_uclo.c` drive:
//! per-AE local CSRs (a ticking PROFILE_COUNT, engines never busy, CSR
//! accesses never pending) and the firmware control unit (FCU). Firmware
//! is accepted structurally (the auth descriptor, its CSS header and image
//! must lie in guest memory, the image be non-empty) and never executed:
//! AUTH reports VERI_DONE, LOAD marks the engines loaded, START done.

use super::buffers::{in_memory, read_array};
use super::regs::*;
use super::sparse::SparseRegs;
use crate::virtio::GuestMemory;

/// Bytes of the CSS header every signed image starts with.
const CSS_HEADER_BYTES: u64 = 128;

/// Loader state.
#[derive(Debug, Default, Clone)]
pub struct Loader {
    local: SparseRegs,
    cap: SparseRegs,
    profile: [u32; ENGINES],
    fcu_status: u32,
    fcu_loaded: u32,
}

impl Loader {
    /// A read of AE `ae`'s local CSR `csr`.
    pub fn read_local(&mut self, ae: usize, csr: u64) -> u32 {
        match csr {
            PROFILE_COUNT => {
                let Some(count) = self.profile.get_mut(ae) else {
                    return 0;
                };
                *count = count.wrapping_add(PROFILE_COUNT_STEP);
                *count & 0xffff
            }
            _ => self.peek_local(ae, csr),
        }
    }

    /// A read of a local CSR without side effects.
    pub fn peek_local(&self, ae: usize, csr: u64) -> u32 {
        match csr {
            PROFILE_COUNT => self.profile.get(ae).map_or(0, |c| c & 0xffff),
            ACTIVE_CTX_STATUS => self.local.get(key(ae, csr)) & !(1 << 31),
            LOCAL_CSR_STATUS => 0,
            _ => self.local.get(key(ae, csr)),
        }
    }

    /// A write of AE `ae`'s local CSR `csr`.
    pub fn write_local(&mut self, ae: usize, csr: u64, value: u32) {
        if csr != PROFILE_COUNT && csr != LOCAL_CSR_STATUS {
            self.local.set(key(ae, csr), value);
        }
    }

    /// A read of the global CAP CSR at `offset`.
    pub fn read_cap(&self, offset: u64) -> u32 {
        match offset {
            FCU_STATUS => self.fcu_status,
            FCU_AE_LOADED => self.fcu_loaded,
            FCU_CONTROL => 0,
            _ => self.cap.get(offset),
        }
    }

    /// A write of the global CAP CSR at `offset`; FCU commands act at once.
    pub fn write_cap(&mut self, mem: &GuestMemory, offset: u64, value: u32) {
        match offset {
            FCU_CONTROL => self.command(mem, value),
            FCU_STATUS | FCU_AE_LOADED => {}
            _ => self.cap.set(offset, value),
        }
    }

    /// Engines holding a loaded image (FCU_AE_LOADED).
    pub fn loaded(&self) -> u32 {
        self.fcu_loaded
    }

    /// Whether START completed.
    pub fn started(&self) -> bool {
        self.fcu_status & FCU_STS_DONE != 0
    }

    fn command(&mut self, mem: &GuestMemory, value: u32) {
        match value & 0xf {
            FCU_CMD_AUTH => {
                let keep = self.fcu_status & FCU_STS_DONE;
                self.fcu_status = keep
                    | if self.image_is_sound(mem) {
                        FCU_STS_VERI_DONE | FCU_STS_AUTHFWLD
                    } else {
                        FCU_STS_VERI_FAIL
                    };
            }
            FCU_CMD_LOAD => {
                if self.fcu_status & FCU_STS_AUTHFWLD == 0 {
                    return;
                }
                let mask = if value & FCU_CTRL_PER_AE != 0 {
                    1u32.checked_shl(value >> 8 & 0xff).unwrap_or(0)
                } else {
                    self.cap.get(FCU_ME_BROADCAST_MASK_TYPE)
                };
                self.fcu_loaded |= mask & ((1 << ENGINES) - 1);
                self.fcu_status = (self.fcu_status & !0x7) | FCU_STS_LOAD_DONE;
            }
            FCU_CMD_START => self.fcu_status |= FCU_STS_DONE,
            _ => {}
        }
    }

    /// The structural check of the image at FCU_DRAM_ADDR: an auth
    /// descriptor whose CSS header and image lie in guest memory.
    fn image_is_sound(&self, mem: &GuestMemory) -> bool {
        let addr = u64::from(self.cap.get(FCU_DRAM_ADDR_HI)) << 32
            | u64::from(self.cap.get(FCU_DRAM_ADDR_LO));
        let Ok(desc) = read_array::<16>(mem, addr) else {
            return false;
        };
        let word = |i: usize| u32::from_le_bytes([desc[i], desc[i + 1], desc[i + 2], desc[i + 3]]);
        let img_len = u64::from(word(0));
        let css = u64::from(word(8)) << 32 | u64::from(word(12));
        let Ok(img) = read_array::<8>(mem, addr + 16).map(|b| {
            u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) << 32
                | u64::from(u32::from_le_bytes([b[4], b[5], b[6], b[7]]))
        }) else {
            return false;
        };
        img_len > 0 && in_memory(mem, css, CSS_HEADER_BYTES) && in_memory(mem, img, img_len)
    }
}

/// The sparse-store key of AE `ae`'s local CSR `csr`.
fn key(ae: usize, csr: u64) -> u64 {
    (ae as u64) * AE_STRIDE + (csr & 0x3ff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::{Bytes, GuestAddress};

    #[test]
    fn test_profile_count_ticks_and_engines_are_idle() {
        let mut l = Loader::default();
        let a = l.read_local(0, PROFILE_COUNT);
        let b = l.read_local(0, PROFILE_COUNT);
        assert_ne!(a, b);
        l.write_local(3, ACTIVE_CTX_STATUS, 0xffff_ffff);
        assert_eq!(l.read_local(3, ACTIVE_CTX_STATUS) >> 31, 0);
        assert_eq!(l.read_local(99, PROFILE_COUNT), 0);
    }

    #[test]
    fn test_fcu_auth_load_start_sequence() {
        let mem = GuestMemory::from_ranges(&[(GuestAddress(0), 1 << 20)]).unwrap();
        let mut desc = [0u8; 24];
        desc[0..4].copy_from_slice(&0x100u32.to_le_bytes());
        desc[12..16].copy_from_slice(&0x2000u32.to_le_bytes());
        desc[20..24].copy_from_slice(&0x3000u32.to_le_bytes());
        mem.write_slice(&desc, GuestAddress(0x1000)).unwrap();
        let mut l = Loader::default();
        l.write_cap(&mem, FCU_CONTROL, FCU_CMD_LOAD);
        assert_eq!(l.loaded(), 0, "no load before authentication");
        l.write_cap(&mem, FCU_DRAM_ADDR_LO, 0x1000);
        l.write_cap(&mem, FCU_CONTROL, FCU_CMD_AUTH);
        assert_eq!(l.read_cap(FCU_STATUS), 0x101);
        l.write_cap(&mem, FCU_ME_BROADCAST_MASK_TYPE, 0xffff);
        l.write_cap(&mem, FCU_CONTROL, FCU_CMD_LOAD);
        l.write_cap(&mem, FCU_CONTROL, FCU_CMD_LOAD | FCU_CTRL_PER_AE | 16 << 8);
        assert_eq!((l.read_cap(FCU_STATUS) & 7, l.loaded()), (2, 0x1ffff));
        l.write_cap(&mem, FCU_CONTROL, FCU_CMD_START);
        assert!(l.started());
        l.write_cap(&mem, FCU_DRAM_ADDR_LO, 0xff_fff0);
        l.write_cap(&mem, FCU_CONTROL, FCU_CMD_AUTH);
        assert_eq!(l.read_cap(FCU_STATUS) & 7, FCU_STS_VERI_FAIL);
    }
}
