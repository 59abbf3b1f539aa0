//! The interpreter's address space: the stack, the context, the packet and
//! every map's value store, each a region at a fixed 16 MiB-aligned base
//! below 4 GiB (so a pointer fits the 32-bit `data`/`data_end` fields of
//! `xdp_md`/`__sk_buff` without rewriting loads).

use alloc::vec;
use alloc::vec::Vec;

use crate::maps::MapSet;

/// log2 of the region size.
pub const REGION_SHIFT: u32 = 24;
/// Bytes of stack per call frame (`MAX_BPF_STACK`).
pub const FRAME_SIZE: usize = 512;
/// Call frames (`MAX_CALL_FRAMES`).
pub const MAX_FRAMES: usize = 8;
/// Total stack bytes.
pub const STACK_SIZE: usize = FRAME_SIZE * MAX_FRAMES;

/// Region numbers.
const STACK: u64 = 1;
const CTX: u64 = 2;
const PACKET: u64 = 3;
const FIRST_MAP: u64 = 4;

/// Address of the stack region's first byte.
pub const STACK_BASE: u64 = STACK << REGION_SHIFT;
/// `r10` of the main program: the top of frame 0.
pub const STACK_TOP: u64 = STACK_BASE + STACK_SIZE as u64;
/// Address of the context.
pub const CTX_BASE: u64 = CTX << REGION_SHIFT;
/// Address of the packet's first byte.
pub const PACKET_BASE: u64 = PACKET << REGION_SHIFT;
/// Tag of map handles (the values `LD_IMM64` map-fd loads produce); never
/// a valid memory address.
pub const MAP_HANDLE_TAG: u64 = 0x4d41_5000_0000_0000;

/// Address of the first byte of map number `index`'s value store.
pub const fn map_base(index: usize) -> u64 {
    (FIRST_MAP + index as u64) << REGION_SHIFT
}

/// An access the address space refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Outside every region (or past a region's end).
    OutOfBounds {
        /// First byte.
        addr: u64,
        /// Width.
        len: usize,
        /// Store (true) or load.
        write: bool,
    },
    /// A stack byte read before anything was written to it (checked mode).
    Uninit {
        /// The byte.
        addr: u64,
    },
}

/// Regions and, in checked mode, which stack bytes hold data.
pub struct Memory<'a> {
    stack: Vec<u8>,
    stack_init: Vec<bool>,
    ctx: &'a mut [u8],
    packet: &'a mut [u8],
    maps: &'a mut MapSet,
    /// Current call depth (0 = main program); checked mode refuses access
    /// to the stack of frames deeper than this.
    pub depth: usize,
    checked: bool,
}

impl<'a> Memory<'a> {
    /// An address space over the given context, packet and maps.
    pub fn new(
        ctx: &'a mut [u8],
        packet: &'a mut [u8],
        maps: &'a mut MapSet,
        checked: bool,
    ) -> Memory<'a> {
        Memory {
            stack: vec![0; STACK_SIZE],
            stack_init: if checked {
                vec![false; STACK_SIZE]
            } else {
                Vec::new()
            },
            ctx,
            packet,
            maps,
            depth: 0,
            checked,
        }
    }

    /// The maps.
    pub fn maps(&mut self) -> &mut MapSet {
        self.maps
    }

    /// Locate `len` bytes at `addr`: region number and offset.
    #[inline(always)]
    fn locate(&self, addr: u64, len: usize, write: bool) -> Result<(u64, usize), Fault> {
        let fault = Fault::OutOfBounds { addr, len, write };
        let region = addr >> REGION_SHIFT;
        let off = (addr & ((1 << REGION_SHIFT) - 1)) as usize;
        let size = match region {
            STACK => {
                if self.checked {
                    let low = STACK_SIZE - (self.depth + 1) * FRAME_SIZE;
                    if off < low {
                        return Err(fault);
                    }
                }
                STACK_SIZE
            }
            CTX => self.ctx.len(),
            PACKET => self.packet.len(),
            r if r >= FIRST_MAP && addr >> 32 == 0 => {
                let m = self.maps.by_index((r - FIRST_MAP) as usize).ok_or(fault)?;
                m.store().len()
            }
            _ => return Err(fault),
        };
        if off.checked_add(len).is_none_or(|end| end > size) {
            return Err(fault);
        }
        Ok((region, off))
    }

    #[inline(always)]
    fn bytes_mut(&mut self, region: u64) -> &mut [u8] {
        match region {
            STACK => &mut self.stack,
            CTX => self.ctx,
            PACKET => self.packet,
            r => self
                .maps
                .by_index_mut((r - FIRST_MAP) as usize)
                .map_or(&mut [][..], |m| m.store_mut()),
        }
    }

    /// Load `len` (1, 2, 4, 8) bytes, zero-extended.
    #[inline(always)]
    pub fn load(&mut self, addr: u64, len: usize) -> Result<u64, Fault> {
        let (region, off) = self.locate(addr, len, false)?;
        if self.checked && region == STACK {
            self.check_init(off, len, addr)?;
        }
        let b = &self.bytes_mut(region)[off..off + len];
        let mut buf = [0u8; 8];
        buf[..len].copy_from_slice(b);
        Ok(u64::from_le_bytes(buf))
    }

    /// Store the low `len` bytes of `v`.
    #[inline(always)]
    pub fn store(&mut self, addr: u64, len: usize, v: u64) -> Result<(), Fault> {
        let (region, off) = self.locate(addr, len, true)?;
        if self.checked && region == STACK {
            self.stack_init[off..off + len].fill(true);
        }
        self.bytes_mut(region)[off..off + len].copy_from_slice(&v.to_le_bytes()[..len]);
        Ok(())
    }

    /// Copy out `len` bytes (helper arguments).
    pub fn read_bytes(&mut self, addr: u64, len: usize) -> Result<Vec<u8>, Fault> {
        let (region, off) = self.locate(addr, len, false)?;
        if self.checked && region == STACK {
            self.check_init(off, len, addr)?;
        }
        Ok(self.bytes_mut(region)[off..off + len].to_vec())
    }

    /// Forget the contents of frame `depth`'s stack (it was popped).
    pub fn drop_frame(&mut self, depth: usize) {
        if self.checked {
            let top = STACK_SIZE - depth * FRAME_SIZE;
            self.stack_init[top - FRAME_SIZE..top].fill(false);
        }
    }

    fn check_init(&self, off: usize, len: usize, addr: u64) -> Result<(), Fault> {
        match self.stack_init[off..off + len].iter().position(|&i| !i) {
            Some(i) => Err(Fault::Uninit {
                addr: addr + i as u64,
            }),
            None => Ok(()),
        }
    }
}
