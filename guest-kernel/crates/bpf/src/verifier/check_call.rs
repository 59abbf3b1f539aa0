//! Calls, returns and 64-bit immediate loads: helper prototypes, frames of
//! BPF-to-BPF calls, return-value rules (Linux's `check_helper_call`,
//! `check_func_call`, `prepare_func_exit`, `check_return_code`).

use alloc::format;
use alloc::vec::Vec;

use super::env::{Env, MAX_CALL_FRAMES, MAX_VAR_SIZ};
use super::error::{access, inval, Errno, Reject, VResult};
use super::explore::Flow;
use super::reg::{RegState, RegType, LIVE_WRITTEN};
use super::state::{FuncState, NREGS};
use crate::helpers::{helper_name, id, proto_of, ArgType, NeedCap, RetType};
use crate::isa::Imm64;

const MEM_TYPES: &str =
    "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_";

impl<'a> Env<'a> {
    /// `LD_IMM64`.
    pub fn check_ld_imm64(&mut self, dst: u8, imm: Imm64) -> VResult<()> {
        self.check_dst(dst)?;
        let v = match imm {
            Imm64::Const(v) => RegState::constant(v),
            Imm64::MapFd(fd) => {
                let m = self.map_index(fd).ok_or_else(|| {
                    Reject::new(
                        Errno::Inval,
                        format!("fd {fd} is not pointing to valid bpf_map"),
                    )
                })?;
                RegState {
                    map: m as u32,
                    ..RegState::pointer(RegType::ConstMap)
                }
            }
            Imm64::MapValue { fd, off } => {
                let m = self.map_index(fd).ok_or_else(|| {
                    Reject::new(
                        Errno::Inval,
                        format!("fd {fd} is not pointing to valid bpf_map"),
                    )
                })?;
                let def = self.maps[m].def;
                if def.map_type != crate::maps::MapType::Array {
                    return inval!("no direct value access support for this map type");
                }
                if off >= def.value_size {
                    return inval!(
                        "invalid access to map value pointer, value_size={} off={off}",
                        def.value_size
                    );
                }
                RegState {
                    map: m as u32,
                    off: off as i32,
                    ..RegState::pointer(RegType::MapValue)
                }
            }
            Imm64::MapIdx(_) | Imm64::MapIdxValue { .. } => {
                return inval!("fd_idx without fd_array is invalid")
            }
            Imm64::BtfId(_) => return inval!("kernel btf_id is not supported"),
            Imm64::Func(_) => return inval!("callbacks are not supported"),
        };
        self.set_reg(dst, v);
        Ok(())
    }

    fn mem_arg(&mut self, regno: u8, size: u32) -> VResult<()> {
        let reg = *self.reg(regno);
        match reg.ty {
            RegType::Stack if !reg.maybe_null => self.check_stack_range(regno, &reg, size),
            RegType::Packet | RegType::PacketMeta => {
                self.check_packet_access(regno, &reg, i64::from(reg.off), size, false)
            }
            RegType::MapValue if !reg.maybe_null => {
                let limit = self.maps[reg.map as usize].def.value_size;
                self.check_region(
                    regno,
                    &reg,
                    i64::from(reg.off),
                    size,
                    limit,
                    false,
                    "map value",
                )
            }
            RegType::Mem if !reg.maybe_null => self.check_region(
                regno,
                &reg,
                i64::from(reg.off),
                size,
                reg.range,
                false,
                "memory",
            ),
            _ => access!("R{regno} type={} expected={MEM_TYPES}", reg.type_name()),
        }
    }

    /// A helper call.
    pub fn check_helper_call(&mut self, func: i32) -> VResult<()> {
        if !(0..id::MAX_ID).contains(&func) {
            return inval!("invalid func unknown#{func}");
        }
        let proto = match proto_of(func) {
            Some(p) if p.needs == NeedCap::None || self.cfg.caps.perfmon => *p,
            _ => return inval!("unknown func {}#{func}", helper_name(func)),
        };
        let mut map: Option<usize> = None;
        for (i, &arg) in proto.args.iter().enumerate() {
            let r = (i + 1) as u8;
            if arg == ArgType::DontCare {
                continue;
            }
            self.check_src(r)?;
            let reg = *self.reg(r);
            match arg {
                ArgType::DontCare => {}
                ArgType::Anything => {
                    if reg.is_pointer() && !self.allow_ptr_leaks() {
                        return access!("R{r} leaks addr into helper function");
                    }
                }
                ArgType::ConstMapPtr => {
                    if reg.ty != RegType::ConstMap {
                        return access!("R{r} type={} expected=map_ptr", reg.type_name());
                    }
                    map = Some(reg.map as usize);
                }
                ArgType::MapKey | ArgType::MapValue => {
                    let Some(m) = map else {
                        return access!("invalid map_ptr to access map->key");
                    };
                    if !is_mem_type(&reg) {
                        return access!("R{r} type={} expected={MEM_TYPES}", reg.type_name());
                    }
                    let def = self.maps[m].def;
                    let size = if arg == ArgType::MapKey {
                        def.key_size
                    } else {
                        def.value_size
                    };
                    self.mem_arg(r, size)?;
                }
                ArgType::ReadonlyMem => {
                    if !is_mem_type(&reg) {
                        return access!("R{r} type={} expected={MEM_TYPES}", reg.type_name());
                    }
                }
                ArgType::ConstSize => self.check_size_arg(r)?,
            }
        }
        for r in 1..=5 {
            self.set_reg(r, RegState::NOT_INIT);
        }
        let r0 = match proto.ret {
            RetType::Integer => RegState::unknown(),
            RetType::MapValueOrNull => {
                let m = map.unwrap_or(0);
                let id = self.new_id();
                RegState {
                    map: m as u32,
                    maybe_null: true,
                    id,
                    ..RegState::pointer(RegType::MapValue)
                }
            }
        };
        self.set_reg(0, r0);
        Ok(())
    }

    /// `ARG_CONST_SIZE`: a bounded, positive scalar sizing the previous
    /// memory argument; its value becomes precise.
    fn check_size_arg(&mut self, r: u8) -> VResult<()> {
        let reg = *self.reg(r);
        if !reg.is_scalar() {
            return access!("R{r} type={} expected=scalar", reg.type_name());
        }
        if reg.b.smin < 0 {
            return access!("R{r} min value is negative, either use unsigned or 'var &= const'");
        }
        if reg.b.umin == 0 {
            return access!(
                "R{r} invalid zero-sized read: u64=[{},{}]",
                reg.b.umin as i64,
                reg.b.umax
            );
        }
        if reg.b.umax >= MAX_VAR_SIZ {
            return access!(
                "R{r} unbounded memory access, use 'var &= const' or 'if (var < const)'"
            );
        }
        self.mem_arg(r - 1, reg.b.umax as u32)?;
        self.mark_precise(r)
    }

    /// A BPF-to-BPF call at `idx`.
    pub fn check_subprog_call(&mut self, idx: usize, off: i32) -> VResult<Flow> {
        if self.cur.frames.len() >= MAX_CALL_FRAMES {
            return Err(Reject::new(
                Errno::TooBig,
                format!(
                    "the call stack of {} frames is too deep !",
                    self.cur.frames.len() + 1
                ),
            ));
        }
        let target = (idx as i64 + 1 + i64::from(off)) as usize;
        let sub = self
            .subprogs
            .iter()
            .position(|s| s.start == target)
            .unwrap_or(0);
        let f = self.cur.curframe();
        let mut regs = [RegState::NOT_INIT; NREGS];
        for r in 1..=5u8 {
            let reg = *self.reg(r);
            if reg.ty != RegType::NotInit {
                self.mark_reg_read(f, r as usize);
            }
            regs[r as usize] = RegState { live: 0, ..reg };
        }
        let frameno = self.cur.frames.len() as u8;
        regs[10] = RegState {
            frameno,
            ..RegState::pointer(RegType::Stack)
        };
        for r in 0..=5 {
            self.set_reg(r, RegState::NOT_INIT);
        }
        self.cur.frames.push(FuncState {
            regs,
            stack: Vec::new(),
            callsite: Some(idx),
            subprog: sub,
            parent: None,
        });
        Ok(Flow::Next(target))
    }

    /// `exit`: return to the caller, or end the path.
    pub fn check_exit(&mut self) -> VResult<Flow> {
        self.check_src(0)?;
        let r0 = *self.reg(0);
        if self.cur.frames.len() > 1 {
            if r0.ty == RegType::Stack {
                return inval!("cannot return stack pointer to the caller");
            }
            let callee = self.cur.frames.pop().unwrap_or_else(|| unreachable!());
            let ret = callee.callsite.map_or(0, |c| c + 1);
            let caller = self.cur.cur_mut();
            caller.regs[0] = RegState {
                live: LIVE_WRITTEN,
                ..r0
            };
            return Ok(Flow::Next(ret));
        }
        if r0.is_pointer() && !self.allow_ptr_leaks() {
            return access!("R0 leaks addr as return value");
        }
        if let Some((lo, hi)) = self.cfg.prog_type.return_range() {
            if !r0.is_scalar() {
                return inval!(
                    "At program exit the register R0 is not a known value ({})",
                    r0.type_name()
                );
            }
            self.mark_precise(0)?;
            if !(lo <= r0.b.smin && r0.b.smax <= hi) {
                let mut s = alloc::string::String::from("At program exit the register R0 has");
                if r0.b.smin > i64::MIN {
                    s.push_str(&format!(" smin={}", r0.b.smin));
                }
                if r0.b.smax < i64::MAX {
                    s.push_str(&format!(" smax={}", r0.b.smax));
                }
                if r0.b.smin == i64::MIN && r0.b.smax == i64::MAX {
                    s.push_str(" unknown scalar value");
                }
                s.push_str(&format!(" should have been in [{lo}, {hi}]"));
                return Err(Reject::new(Errno::Inval, s));
            }
        }
        Ok(Flow::Done)
    }

    /// After exploration: the deepest call chain's combined stack.
    pub fn check_max_stack_depth(&self) -> VResult<()> {
        self.stack_chain(0, 0, 1)
    }

    fn stack_chain(&self, sub: usize, depth: u32, frames: usize) -> VResult<()> {
        if frames > MAX_CALL_FRAMES {
            return Err(Reject::new(
                Errno::TooBig,
                format!("the call stack of {frames} frames is too deep !"),
            ));
        }
        let s = self.subprogs[sub];
        let depth = depth + s.stack_depth.max(1).div_ceil(32) * 32;
        if depth > 512 {
            return access!("combined stack size of {frames} calls is {depth}. Too large");
        }
        for i in s.start..s.end {
            if let crate::isa::Insn::Call(crate::isa::CallTarget::Local(off)) = self.prog[i] {
                let t = (i as i64 + 1 + i64::from(off)) as usize;
                if let Some(k) = self.subprogs.iter().position(|x| x.start == t) {
                    self.stack_chain(k, depth, frames + 1)?;
                }
            }
        }
        Ok(())
    }
}

fn is_mem_type(r: &RegState) -> bool {
    !r.maybe_null
        && matches!(
            r.ty,
            RegType::Stack
                | RegType::Packet
                | RegType::PacketMeta
                | RegType::MapValue
                | RegType::Mem
        )
}
