//! Stack accesses: bounds, spills and fills of registers, byte types
//! (Linux's `check_stack_write_fixed_off`, `check_stack_read_fixed_off`,
//! their variable-offset variants and `check_stack_range_initialized`).

use super::env::{Env, MAX_BPF_STACK, MAX_VAR_OFF};
use super::error::{access, inval, VResult};
use super::reg::{RegState, LIVE_WRITTEN};
use super::stack::{slot_of, SlotByte, StackSlot};

impl<'a> Env<'a> {
    /// Bounds of a stack access (`check_stack_access_within_bounds`).
    pub fn check_stack_bounds(
        &self,
        regno: u8,
        reg: &RegState,
        off: i64,
        size: u32,
        write: bool,
        helper: bool,
    ) -> VResult<()> {
        let extra = if helper {
            " indirect access to"
        } else if write {
            " write to"
        } else {
            " read from"
        };
        let (min_off, max_off) = if reg.b.is_const() {
            let min = reg.b.var_off.value as i64 + off;
            (min, min + i64::from(size))
        } else {
            if reg.b.smax >= MAX_VAR_OFF || reg.b.smin <= -MAX_VAR_OFF {
                return access!("invalid unbounded variable-offset{extra} stack R{regno}");
            }
            (reg.b.smin + off, reg.b.smax + off + i64::from(size))
        };
        let allocated = self.cur.frames[reg.frameno as usize].stack.len() as i64 * 8;
        let min_valid = if write || self.allow_uninit_stack() {
            -MAX_BPF_STACK
        } else {
            -allocated
        };
        let bad = min_off < min_valid || min_off > -1 || max_off > 0;
        if bad {
            if reg.b.is_const() {
                return access!("invalid{extra} stack R{regno} off={off} size={size}");
            }
            return access!(
                "invalid variable-offset{extra} stack R{regno} var_off={} off={off} size={size}",
                reg.b.var_off
            );
        }
        Ok(())
    }

    fn grow_stack(&mut self, f: usize, spi: usize) {
        let stack = &mut self.cur.frames[f].stack;
        if stack.len() <= spi {
            stack.resize(spi + 1, StackSlot::EMPTY);
        }
    }

    /// Bytes after a narrow spill keep zeroes and stay unwritten when they
    /// were; the rest become `Misc`. Deliberately stricter than Linux 6.8,
    /// which turns unwritten bytes into `Misc` for loaders without
    /// `CAP_PERFMON` (so a later read of bytes nobody wrote is accepted):
    /// we never let a program read stack bytes it did not write.
    fn misc_byte(&self, b: SlotByte) -> SlotByte {
        match b {
            SlotByte::Zero => SlotByte::Zero,
            SlotByte::Invalid => SlotByte::Invalid,
            _ => SlotByte::Misc,
        }
    }

    fn save_spill(&mut self, f: usize, spi: usize, reg: RegState, size: u32) {
        let slot = &self.cur.frames[f].stack[spi];
        let mut bytes = slot.bytes;
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = if i < size as usize {
                SlotByte::Spill
            } else {
                self.misc_byte(*b)
            };
        }
        let slot = &mut self.cur.frames[f].stack[spi];
        let live = slot.spilled.live;
        slot.spilled = reg;
        slot.spilled.live = live | if size == 8 { LIVE_WRITTEN } else { 0 };
        slot.bytes = bytes;
        self.record_stack_access((f as u8, spi as u16));
    }

    /// Store at a constant stack offset.
    pub fn stack_write_fixed(
        &mut self,
        f: usize,
        off: i64,
        size: u32,
        src: Option<u8>,
        imm: Option<i32>,
    ) -> VResult<()> {
        let (spi, byte) = slot_of(off);
        self.grow_stack(f, spi);
        let cur_f = self.cur.curframe();
        let slot = self.cur.frames[f].stack[spi];
        if !self.allow_ptr_leaks() && slot.is_spill() && !slot.spilled.is_scalar() && size != 8 {
            return access!("attempt to corrupt spilled pointer on stack");
        }
        let reg = src.map(|r| *self.reg(r));
        let aligned = byte == 0;
        match reg {
            Some(r) if aligned && r.is_scalar() && self.bpf_capable() => {
                let width = 64 - r.b.umax.leading_zeros();
                let fits = width <= size * 8;
                let mut spilled = r;
                if fits && r.id == 0 && !r.b.is_const() {
                    let id = self.new_id();
                    self.reg_mut(src.unwrap_or(0)).id = id;
                    spilled.id = id;
                }
                if !fits {
                    spilled.id = 0;
                }
                self.save_spill(f, spi, spilled, size);
                return Ok(());
            }
            None if aligned && imm.is_some() && self.bpf_capable() => {
                let v = imm.unwrap_or(0) as i64 as u64;
                self.save_spill(f, spi, RegState::constant(v), size);
                return Ok(());
            }
            Some(r) if r.is_pointer() => {
                if size != 8 {
                    return access!("invalid size of register spill");
                }
                if f != cur_f && r.ty == super::reg::RegType::Stack {
                    return inval!("cannot spill pointers to stack into stack frame of the caller");
                }
                self.save_spill(f, spi, r, size);
                return Ok(());
            }
            _ => {}
        }
        // A plain data write.
        let zero = reg.is_some_and(|r| r.is_zero()) || imm == Some(0);
        let slot = &mut self.cur.frames[f].stack[spi];
        if slot.is_spill() {
            for b in slot.bytes.iter_mut() {
                if *b != SlotByte::Invalid {
                    *b = SlotByte::Misc;
                }
            }
        }
        slot.spilled.ty = super::reg::RegType::NotInit;
        if size == 8 {
            slot.spilled.live |= LIVE_WRITTEN;
        }
        let t = if zero { SlotByte::Zero } else { SlotByte::Misc };
        for b in &mut slot.bytes[byte..byte + size as usize] {
            *b = t;
        }
        if zero {
            if let Some(r) = src {
                self.mark_precise(r)?;
            }
        }
        Ok(())
    }

    /// Store at a variable stack offset `[min, max)`.
    pub fn stack_write_var(
        &mut self,
        f: usize,
        min: i64,
        max: i64,
        src: Option<u8>,
        imm: Option<i32>,
    ) -> VResult<()> {
        let zero = src.is_some_and(|r| self.reg(r).is_zero()) || imm == Some(0);
        let (lo_spi, _) = slot_of(min);
        self.grow_stack(f, lo_spi);
        let insn = self.cur.insn;
        let mut zero_used = false;
        for o in min..max {
            let (spi, byte) = slot_of(o);
            let slot = self.cur.frames[f].stack[spi];
            let b = slot.bytes[byte];
            if !self.allow_ptr_leaks() && b != SlotByte::Misc && b != SlotByte::Zero {
                return inval!(
                    "spilled ptr in range of var-offset stack write; insn {insn}, ptr off: {o}"
                );
            }
            if zero
                && b == SlotByte::Spill
                && slot.is_spilled_scalar()
                && slot.spilled.b.const_value(true) == Some(0)
            {
                zero_used = true;
                continue;
            }
            if b == SlotByte::Invalid && !self.allow_uninit_stack() {
                return inval!("uninit stack in range of var-offset write prohibited for !root; insn {insn}, off: {o}");
            }
            let s = &mut self.cur.frames[f].stack[spi];
            if s.is_spill() {
                for x in s.bytes.iter_mut() {
                    if *x == SlotByte::Spill {
                        *x = SlotByte::Misc;
                    }
                }
                s.spilled.ty = super::reg::RegType::NotInit;
            }
            s.bytes[byte] = if zero && b == SlotByte::Zero {
                zero_used = true;
                SlotByte::Zero
            } else {
                SlotByte::Misc
            };
        }
        if zero_used {
            if let Some(r) = src {
                self.mark_precise(r)?;
            }
        }
        Ok(())
    }

    /// Load from a constant stack offset into `dst` (none: only check).
    pub fn stack_read_fixed(
        &mut self,
        f: usize,
        off: i64,
        size: u32,
        dst: Option<u8>,
    ) -> VResult<()> {
        let (spi, byte) = slot_of(off);
        let slot = self.cur.frames[f]
            .stack
            .get(spi)
            .copied()
            .unwrap_or(StackSlot::EMPTY);
        if slot.is_spill() {
            let spill_size = slot.spill_size() as u32;
            let sreg = slot.spilled;
            if size != 8 || spill_size != 8 {
                if !sreg.is_scalar() {
                    return access!("invalid size of register fill");
                }
                self.mark_slot_read(f, spi);
                let Some(d) = dst else { return Ok(()) };
                if byte == 0 && size == spill_size {
                    let mut v = sreg;
                    v.precise = sreg.precise;
                    self.set_reg(d, v);
                    self.record_stack_access((f as u8, spi as u16));
                    return Ok(());
                }
                let (mut spill_cnt, mut zero_cnt) = (0, 0);
                for i in 0..size as usize {
                    match slot.bytes[byte + i] {
                        SlotByte::Spill => spill_cnt += 1,
                        SlotByte::Misc => {}
                        SlotByte::Zero => zero_cnt += 1,
                        SlotByte::Invalid if self.allow_uninit_stack() => {}
                        SlotByte::Invalid => {
                            return access!("invalid read from stack off {off}+{i} size {size}")
                        }
                    }
                }
                if spill_cnt == size && sreg.b.const_value(true) == Some(0) {
                    self.set_reg(d, RegState::constant(0));
                    self.record_stack_access((f as u8, spi as u16));
                } else if zero_cnt == size {
                    self.set_reg(d, RegState::constant(0));
                } else {
                    self.set_reg(d, RegState::unknown());
                }
                return Ok(());
            }
            match dst {
                Some(d) => {
                    self.set_reg(d, sreg);
                    self.record_stack_access((f as u8, spi as u16));
                }
                None if sreg.is_pointer() && !self.allow_ptr_leaks() => {
                    return access!("leaking pointer from stack off {off}");
                }
                None => {}
            }
            self.mark_slot_read(f, spi);
            return Ok(());
        }
        let mut zeros = 0;
        for i in 0..size as usize {
            match slot.bytes[byte + i] {
                SlotByte::Misc => {}
                SlotByte::Zero => zeros += 1,
                SlotByte::Invalid if self.allow_uninit_stack() => {}
                _ => return access!("invalid read from stack off {off}+{i} size {size}"),
            }
        }
        self.mark_slot_read(f, spi);
        if let Some(d) = dst {
            let v = if zeros == size {
                RegState::constant(0)
            } else {
                RegState::unknown()
            };
            self.set_reg(d, v);
        }
        Ok(())
    }

    /// Load from a variable stack offset: every byte in range must be
    /// initialised; the value is unknown (or zero when all bytes are).
    pub fn stack_read_var(
        &mut self,
        regno: u8,
        reg: &RegState,
        f: usize,
        off: i64,
        size: u32,
        dst: Option<u8>,
    ) -> VResult<()> {
        let min = reg.b.smin + off;
        let max = reg.b.smax + off + i64::from(size);
        let mut all_zero = true;
        for o in min..max {
            let (spi, byte) = slot_of(o);
            let slot = self.cur.frames[f]
                .stack
                .get(spi)
                .copied()
                .unwrap_or(StackSlot::EMPTY);
            match slot.bytes[byte] {
                SlotByte::Zero => {}
                SlotByte::Misc => all_zero = false,
                SlotByte::Invalid if self.allow_uninit_stack() => all_zero = false,
                SlotByte::Spill if slot.spilled.is_scalar() || self.allow_ptr_leaks() => {
                    if slot.spilled.b.const_value(true) != Some(0) {
                        all_zero = false;
                    }
                }
                _ => {
                    return access!(
                        "invalid read from stack R{regno} var_off {}+{} size {size}",
                        reg.b.var_off,
                        o - min
                    )
                }
            }
            if spi < self.cur.frames[f].stack.len() {
                self.mark_slot_read(f, spi);
            }
        }
        if let Some(d) = dst {
            let v = if all_zero {
                RegState::constant(0)
            } else {
                RegState::unknown()
            };
            self.set_reg(d, v);
        }
        Ok(())
    }

    /// Helper memory argument on the stack (`check_stack_range_initialized`).
    pub fn check_stack_range(&mut self, regno: u8, reg: &RegState, size: u32) -> VResult<()> {
        let off = i64::from(reg.off);
        self.check_stack_bounds(regno, reg, off, size, false, true)?;
        let (min, max) = if reg.b.is_const() {
            let m = reg.b.var_off.value as i64 + off;
            (m, m)
        } else {
            if !self.allow_ptr_leaks() {
                return access!(
                    "R{regno} variable offset stack access prohibited for !root, var_off={}",
                    reg.b.var_off
                );
            }
            (reg.b.smin + off, reg.b.smax + off)
        };
        let f = reg.frameno as usize;
        self.update_stack_depth(f, min);
        for o in min..max + i64::from(size) {
            let (spi, byte) = slot_of(o);
            let slot = self.cur.frames[f]
                .stack
                .get(spi)
                .copied()
                .unwrap_or(StackSlot::EMPTY);
            let ok = match slot.bytes[byte] {
                SlotByte::Misc | SlotByte::Zero => true,
                SlotByte::Invalid => self.allow_uninit_stack(),
                SlotByte::Spill => slot.spilled.is_scalar() || self.allow_ptr_leaks(),
            };
            if !ok {
                if reg.b.is_const() {
                    return access!(
                        "invalid indirect read from stack R{regno} off {min}+{} size {size}",
                        o - min
                    );
                }
                return access!(
                    "invalid indirect read from stack R{regno} var_off {}+{} size {size}",
                    reg.b.var_off,
                    o - min
                );
            }
            if spi < self.cur.frames[f].stack.len() {
                self.mark_slot_read(f, spi);
            }
        }
        Ok(())
    }
}
