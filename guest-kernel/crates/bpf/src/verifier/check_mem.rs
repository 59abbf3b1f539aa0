//! Loads, stores and atomics: which pointer may access which bytes
//! (Linux's `check_mem_access` and the per-type checks it calls).

use alloc::format;

use super::env::{Env, MAX_VAR_OFF};
use super::error::{access, inval, VResult};
use super::reg::{RegState, RegType};
use super::scalar_ops::movsx;
use crate::isa::{AtomicOp, Insn};

/// The kind of access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Load into `dst` (none: just check readability), sign-extending.
    Read {
        /// Destination register.
        dst: Option<u8>,
        /// `BPF_MEMSX`.
        sx: bool,
    },
    /// Store of register `src` or of an immediate.
    Write {
        /// Value register (`STX`).
        src: Option<u8>,
        /// Value immediate (`ST`).
        imm: Option<i32>,
    },
}

impl Access {
    fn is_write(self) -> bool {
        matches!(self, Access::Write { .. })
    }
}

impl<'a> Env<'a> {
    /// `LDX`, `ST`, `STX`.
    pub fn check_load_store(&mut self, insn: Insn) -> VResult<()> {
        match insn {
            Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => {
                self.check_src(src)?;
                self.check_dst(dst)?;
                self.check_mem_access(
                    src,
                    i64::from(off),
                    size.bytes(),
                    Access::Read { dst: Some(dst), sx },
                    false,
                )
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                self.check_src(src)?;
                self.check_src(dst)?;
                self.check_mem_access(
                    dst,
                    i64::from(off),
                    size.bytes(),
                    Access::Write {
                        src: Some(src),
                        imm: None,
                    },
                    false,
                )
            }
            Insn::St {
                size,
                dst,
                off,
                imm,
            } => {
                self.check_src(dst)?;
                if self.reg(dst).ty == RegType::Ctx {
                    return access!("BPF_ST stores into R{dst} ctx is not allowed");
                }
                self.check_mem_access(
                    dst,
                    i64::from(off),
                    size.bytes(),
                    Access::Write {
                        src: None,
                        imm: Some(imm),
                    },
                    false,
                )
            }
            _ => Ok(()),
        }
    }

    /// Atomic read-modify-write.
    pub fn check_atomic(&mut self, insn: Insn) -> VResult<()> {
        let Insn::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } = insn
        else {
            return Ok(());
        };
        self.check_src(src)?;
        self.check_src(dst)?;
        if op == AtomicOp::CmpXchg {
            self.check_src(0)?;
            if self.reg(0).is_pointer() && !self.allow_ptr_leaks() {
                return access!("R0 leaks addr into mem");
            }
        }
        if self.reg(src).is_pointer() && !self.allow_ptr_leaks() {
            return access!("R{src} leaks addr into mem");
        }
        let d = *self.reg(dst);
        if matches!(
            d.ty,
            RegType::Ctx | RegType::Packet | RegType::PacketMeta | RegType::PacketEnd
        ) {
            return access!(
                "BPF_ATOMIC stores into R{dst} {} is not allowed",
                d.type_name()
            );
        }
        let load = if op == AtomicOp::CmpXchg {
            Some(0)
        } else if fetch {
            Some(src)
        } else {
            None
        };
        if let Some(r) = load {
            self.check_dst(r)?;
        }
        let bytes = size.bytes();
        self.check_mem_access(
            dst,
            i64::from(off),
            bytes,
            Access::Read {
                dst: None,
                sx: false,
            },
            true,
        )?;
        if let Some(r) = load {
            self.check_mem_access(
                dst,
                i64::from(off),
                bytes,
                Access::Read {
                    dst: Some(r),
                    sx: false,
                },
                true,
            )?;
        }
        self.check_mem_access(
            dst,
            i64::from(off),
            bytes,
            Access::Write {
                src: None,
                imm: None,
            },
            true,
        )
    }

    /// One memory access through register `regno` at `insn_off`.
    pub fn check_mem_access(
        &mut self,
        regno: u8,
        insn_off: i64,
        size: u32,
        acc: Access,
        strict_once: bool,
    ) -> VResult<()> {
        let reg = *self.reg(regno);
        self.check_alignment(&reg, insn_off, size, strict_once)?;
        let off = insn_off + i64::from(reg.off);
        let value_ptr = match acc {
            Access::Write { src: Some(s), .. } => self.reg(s).is_pointer(),
            _ => false,
        };
        let leaks = value_ptr && !self.allow_ptr_leaks();
        let mut loaded = RegState::unknown();
        match reg.ty {
            RegType::MapValue if !reg.maybe_null => {
                if leaks {
                    return access!("R{} leaks addr into map", src_of(acc));
                }
                let size_limit = self.maps[reg.map as usize].def.value_size;
                self.check_region(regno, &reg, off, size, size_limit, false, "map value")?;
            }
            RegType::Mem if !reg.maybe_null => {
                if leaks {
                    return access!("R{} leaks addr into mem", src_of(acc));
                }
                self.check_region(regno, &reg, off, size, reg.range, false, "memory")?;
            }
            RegType::Ctx => {
                if leaks {
                    return access!("R{} leaks addr into ctx", src_of(acc));
                }
                self.check_ptr_off_reg(regno, &reg)?;
                let ty = self
                    .cfg
                    .prog_type
                    .ctx_access(off, size, acc.is_write(), self.bpf_capable())
                    .ok_or_else(|| {
                        super::error::Reject::new(
                            super::error::Errno::Access,
                            format!("invalid bpf_context access off={off} size={size}"),
                        )
                    })?;
                if ty != RegType::Scalar {
                    loaded = RegState::pointer(ty);
                }
            }
            RegType::Stack => {
                self.check_stack_bounds(regno, &reg, off, size, acc.is_write(), false)?;
                let f = reg.frameno as usize;
                let lowest = if reg.b.is_const() {
                    reg.b.var_off.value as i64 + off
                } else {
                    reg.b.smin + off
                };
                self.update_stack_depth(f, lowest);
                if acc.is_write() {
                    let (src, imm) = match acc {
                        Access::Write { src, imm } => (src, imm),
                        Access::Read { .. } => (None, None),
                    };
                    if reg.b.is_const() {
                        return self.stack_write_fixed(
                            f,
                            off + reg.b.var_off.value as i64,
                            size,
                            src,
                            imm,
                        );
                    }
                    return self.stack_write_var(
                        f,
                        off + reg.b.smin,
                        off + reg.b.smax + i64::from(size),
                        src,
                        imm,
                    );
                }
                let Access::Read { dst, sx } = acc else {
                    return Ok(());
                };
                if reg.b.is_const() {
                    self.stack_read_fixed(f, off + reg.b.var_off.value as i64, size, dst)?;
                } else {
                    self.stack_read_var(regno, &reg, f, off, size, dst)?;
                }
                return self.finish_load(dst, size, sx);
            }
            RegType::Packet | RegType::PacketMeta => {
                if acc.is_write() && !self.cfg.prog_type.packet_writable() {
                    return access!("cannot write into packet");
                }
                if leaks {
                    return access!("R{} leaks addr into packet", src_of(acc));
                }
                self.check_packet_access(regno, &reg, off, size, false)?;
            }
            _ => return access!("R{regno} invalid mem access '{}'", reg.type_name()),
        }
        if let Access::Read { dst: Some(d), sx } = acc {
            self.set_reg(d, loaded);
            return self.finish_load(Some(d), size, sx);
        }
        Ok(())
    }

    /// Narrow loads zero- (or sign-) extend.
    fn finish_load(&mut self, dst: Option<u8>, size: u32, sx: bool) -> VResult<()> {
        let Some(d) = dst else { return Ok(()) };
        if size >= 8 || !self.reg(d).is_scalar() {
            return Ok(());
        }
        let b = self.reg(d).b;
        let nb = if sx {
            movsx(&b, (size * 8) as u8, true)
        } else {
            let mut nb = b;
            nb.truncate(size);
            nb
        };
        if nb != b {
            self.reg_mut(d).b = nb;
            self.reg_mut(d).id = 0;
        }
        Ok(())
    }

    fn check_alignment(
        &self,
        reg: &RegState,
        off: i64,
        size: u32,
        strict_once: bool,
    ) -> VResult<()> {
        let strict = self.cfg.strict_alignment || strict_once;
        let desc = match reg.ty {
            RegType::Packet | RegType::PacketMeta => {
                if !strict || size == 1 {
                    return Ok(());
                }
                let t = reg.b.var_off.add(super::tnum::Tnum::constant(
                    (i64::from(reg.off) + off) as u64,
                ));
                if !t.is_aligned(u64::from(size)) {
                    return access!(
                        "misaligned packet access off {}+{}+{}+{} size {}",
                        0,
                        reg.b.var_off,
                        reg.off,
                        off,
                        size
                    );
                }
                return Ok(());
            }
            RegType::Stack => "stack ",
            _ if !strict => return Ok(()),
            RegType::MapValue => "value ",
            RegType::Ctx => "context ",
            _ => "",
        };
        if size == 1 {
            return Ok(());
        }
        let t = reg.b.var_off.add(super::tnum::Tnum::constant(
            (i64::from(reg.off) + off) as u64,
        ));
        if !t.is_aligned(u64::from(size)) {
            return access!(
                "misaligned {desc}access off {}+{}+{} size {}",
                reg.b.var_off,
                reg.off,
                off,
                size
            );
        }
        Ok(())
    }

    /// Pointers passed to memory accesses of ctx must be unmodified.
    pub fn check_ptr_off_reg(&self, regno: u8, reg: &RegState) -> VResult<()> {
        let name = reg.type_name();
        if reg.off < 0 {
            return access!(
                "negative offset {name} ptr R{regno} off={} disallowed",
                reg.off
            );
        }
        if reg.off != 0 {
            return access!(
                "dereference of modified {name} ptr R{regno} off={} disallowed",
                reg.off
            );
        }
        if !reg.b.is_const() || reg.b.var_off.value != 0 {
            return access!(
                "variable {name} access var_off={} disallowed",
                reg.b.var_off
            );
        }
        Ok(())
    }

    /// `check_mem_region_access`: `[off + var, off + var + size)` inside
    /// `[0, limit)` for every possible variable offset.
    #[allow(clippy::too_many_arguments)]
    pub fn check_region(
        &self,
        regno: u8,
        reg: &RegState,
        off: i64,
        size: u32,
        limit: u32,
        zero_ok: bool,
        what: &str,
    ) -> VResult<()> {
        let b = &reg.b;
        if b.smin < 0
            && (b.smin == i64::MIN || i32::try_from(off + b.smin).is_err() || off + b.smin < 0)
        {
            return access!(
                "R{regno} min value is negative, either use unsigned index or do a if (val < 0) check."
            );
        }
        if let Err(e) = mem_access_ok(off.saturating_add(b.smin), size, limit, zero_ok, what) {
            return Err(super::error::Reject::new(
                super::error::Errno::Access,
                format!(
                    "{}\nR{regno} min value is outside of the allowed memory range",
                    e
                ),
            ));
        }
        if b.umax >= MAX_VAR_OFF as u64 {
            return access!(
                "R{regno} unbounded memory access, make sure to bounds check any such access"
            );
        }
        if let Err(e) = mem_access_ok(off + b.umax as i64, size, limit, zero_ok, what) {
            return Err(super::error::Reject::new(
                super::error::Errno::Access,
                format!(
                    "{}\nR{regno} max value is outside of the allowed memory range",
                    e
                ),
            ));
        }
        Ok(())
    }

    /// Packet access: within the range a comparison with `data_end` proved.
    pub fn check_packet_access(
        &self,
        regno: u8,
        reg: &RegState,
        off: i64,
        size: u32,
        zero_ok: bool,
    ) -> VResult<()> {
        if reg.b.smin < 0 {
            return access!(
                "R{regno} min value is negative, either use unsigned index or do a if (val < 0) check."
            );
        }
        let size_ok = size > 0 || zero_ok;
        if !(off >= 0 && size_ok && off + i64::from(size) <= i64::from(reg.range)) {
            return access!(
                "invalid access to packet, off={off} size={size}, R{regno}(id={},off={off},r={})\nR{regno} offset is outside of the packet",
                reg.id,
                reg.range
            );
        }
        Ok(())
    }

    /// `LD_ABS`/`LD_IND`.
    pub fn check_ld_abs(&mut self, indirect: bool, src: u8) -> VResult<()> {
        if !self.cfg.prog_type.allows_ld_abs() {
            return inval!("BPF_LD_[ABS|IND] instructions not allowed for this program type");
        }
        self.check_src(6)?;
        if self.reg(6).ty != RegType::Ctx {
            return inval!("at the time of BPF_LD_ABS|IND R6 != pointer to skb");
        }
        if indirect {
            self.check_src(src)?;
        }
        let r6 = *self.reg(6);
        self.check_ptr_off_reg(6, &r6)?;
        for r in 1..=5 {
            self.set_reg(r, RegState::NOT_INIT);
        }
        self.set_reg(0, RegState::unknown());
        Ok(())
    }

    pub fn update_stack_depth(&mut self, f: usize, lowest: i64) {
        let sub = self.cur.frames[f].subprog;
        let depth = (-lowest).clamp(0, 512) as u32;
        let s = &mut self.subprogs[sub];
        s.stack_depth = s.stack_depth.max(depth);
    }
}

fn src_of(acc: Access) -> u8 {
    match acc {
        Access::Write { src: Some(s), .. } => s,
        _ => 0,
    }
}

/// `__check_mem_access` with its per-type message.
fn mem_access_ok(
    off: i64,
    size: u32,
    limit: u32,
    zero_ok: bool,
    what: &str,
) -> Result<(), alloc::string::String> {
    let size_ok = size > 0 || zero_ok;
    if off >= 0 && size_ok && off + i64::from(size) <= i64::from(limit) {
        return Ok(());
    }
    Err(match what {
        "map value" => {
            format!("invalid access to map value, value_size={limit} off={off} size={size}")
        }
        "map key" => format!("invalid access to map key, key_size={limit} off={off} size={size}"),
        _ => format!("invalid access to memory, mem_size={limit} off={off} size={size}"),
    })
}
