//! One ring bank (ring pair): ring 0 carries requests to the device, ring
//! 1 responses back. The CSRs as the GEN4 transport defines them (heads,
//! tails, base, config, empty status, interrupt flag/enable/coalescing
//! registers, exception status), and the geometry checks the worker
//! applies before it touches a ring.

use super::regs::*;

/// The request ring.
pub const TX: usize = 0;
/// The response ring.
pub const RX: usize = 1;

/// One ring's registers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ring {
    /// RING_CONFIG: size code in bits 4:0, watermarks above.
    pub config: u32,
    /// RING_LBASE/UBASE.
    pub base: u64,
    /// Byte offset of the consumer.
    pub head: u32,
    /// Byte offset of the producer.
    pub tail: u32,
}

impl Ring {
    /// The ring's size in bytes, if its size code is valid.
    pub fn bytes(&self) -> Option<u64> {
        ring_bytes(self.config & 0x1f)
    }

    /// The ring's guest address (the base, aligned to the ring size).
    pub fn address(&self) -> Option<u64> {
        Some(self.base & !(self.bytes()? - 1))
    }

    /// Whether head equals tail.
    pub fn is_empty(&self) -> bool {
        self.head == self.tail
    }
}

/// A bank's registers and bookkeeping.
#[derive(Debug, Default, Clone)]
pub struct Bank {
    /// Ring 0 (TX) and ring 1 (RX).
    pub rings: [Ring; RINGS_PER_BANK],
    /// INT_FLAG: rings that raised an interrupt (write 1 to clear).
    pub int_flag: u32,
    /// INT_FLAG_EN.
    pub int_flag_en: u32,
    /// INT_SRCSEL.
    pub int_srcsel: u32,
    /// INT_COL_EN: rings whose responses raise the (coalesced) interrupt.
    pub int_col_en: u32,
    /// INT_COL_CTL.
    pub int_col_ctl: u32,
    /// EXP_STAT: rings that faulted (write 1 to clear).
    pub exp_stat: u32,
    /// EXP_INT_EN.
    pub exp_int_en: u32,
    /// RING_SRV_ARB_EN.
    pub arb_en: u32,
    /// Bumped by a ring-pair reset, so in-flight work is discarded.
    pub generation: u64,
}

/// What a CSR write asks of the transport besides the register update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// Requests may be ready (doorbell, room freed, ring enabled).
    Kick,
    /// The driver re-enabled interrupts: fire if responses are pending.
    Rearm,
    /// A bad tail value: ring `r` faulted.
    Fault(usize),
}

impl Effect {
    /// [`Effect::Rearm`] when an enable write turns something on.
    fn rearm_if(value: u32) -> Self {
        if value != 0 {
            Effect::Rearm
        } else {
            Effect::None
        }
    }
}

impl Bank {
    /// E_STAT: bit r = ring r is empty.
    pub fn empty_status(&self) -> u32 {
        self.rings
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_empty())
            .fold(0, |acc, (i, _)| acc | 1 << i)
    }

    /// Whether the pair can run: arbitration enabled and both rings sized.
    pub fn is_enabled(&self) -> bool {
        self.arb_en & 1 != 0 && self.rings.iter().all(|r| r.bytes().is_some())
    }

    /// Whether the response ring holds responses the driver has not taken.
    pub fn has_responses(&self) -> bool {
        !self.rings[RX].is_empty()
    }

    /// INT_FLAG_AND_COL as read: the rings enabled for either interrupt.
    pub fn int_flag_and_col(&self) -> u32 {
        self.int_flag_en | self.int_col_en
    }

    /// Whether a response interrupt may fire: the RX ring is enabled for
    /// the coalesced or the flag interrupt.
    ///
    /// INT_FLAG_AND_COL is not a third enable: a write sets INT_FLAG_EN
    /// and INT_COL_EN together (Linux's ISR writes 0 to silence the bank,
    /// its bottom half the ring mask to re-enable it). Linux never writes
    /// it before the first interrupt: `adf_enable_ring_irq` only sets
    /// INT_COL_EN, which must be enough to interrupt.
    pub fn interrupt_enabled(&self) -> bool {
        self.int_flag_and_col() & (1 << RX) != 0
    }

    /// A CSR read at `offset` within the bank.
    pub fn read(&self, offset: u64) -> u32 {
        let ring = |base: u64| ((offset - base) / 4) as usize;
        match offset {
            RING_HEAD..=0x0c4 => self.rings.get(ring(RING_HEAD)).map_or(0, |r| r.head),
            RING_TAIL..=0x104 => self.rings.get(ring(RING_TAIL)).map_or(0, |r| r.tail),
            RING_STAT => !self.empty_status() & 0x3,
            RING_E_STAT => self.empty_status(),
            RING_F_STAT => self.full_status(),
            INT_FLAG_EN => self.int_flag_en,
            INT_FLAG => self.int_flag,
            INT_SRCSEL => self.int_srcsel,
            INT_COL_EN => self.int_col_en,
            INT_COL_CTL => self.int_col_ctl,
            INT_FLAG_AND_COL => self.int_flag_and_col(),
            EXP_STAT => self.exp_stat,
            EXP_INT_EN => self.exp_int_en,
            RING_SRV_ARB_EN => self.arb_en,
            RING_CONFIG..=0x1004 => self.rings.get(ring(RING_CONFIG)).map_or(0, |r| r.config),
            RING_LBASE..=0x1044 => self
                .rings
                .get(ring(RING_LBASE))
                .map_or(0, |r| r.base as u32),
            RING_UBASE..=0x1084 => self
                .rings
                .get(ring(RING_UBASE))
                .map_or(0, |r| (r.base >> 32) as u32),
            _ => 0,
        }
    }

    /// F_STAT: bit r = ring r is full.
    fn full_status(&self) -> u32 {
        let rx = &self.rings[RX];
        let full = rx
            .bytes()
            .is_some_and(|b| (u64::from(rx.tail) + 32) % b == u64::from(rx.head));
        u32::from(full) << RX
    }

    /// A CSR write at `offset` within the bank.
    pub fn write(&mut self, offset: u64, value: u32) -> Effect {
        let ring = |base: u64| ((offset - base) / 4) as usize;
        match offset {
            RING_HEAD..=0x0c4 => {
                let r = ring(RING_HEAD);
                if let Some(rg) = self.rings.get_mut(r) {
                    if !valid_offset(rg, r, value) {
                        return Effect::Fault(r);
                    }
                    rg.head = value;
                }
                return if r == RX { Effect::Kick } else { Effect::None };
            }
            RING_TAIL..=0x104 => {
                let r = ring(RING_TAIL);
                if let Some(rg) = self.rings.get_mut(r) {
                    if !valid_offset(rg, r, value) {
                        return Effect::Fault(r);
                    }
                    rg.tail = value;
                }
                return if r == TX { Effect::Kick } else { Effect::None };
            }
            INT_FLAG_EN => {
                self.int_flag_en = value;
                return Effect::rearm_if(value);
            }
            INT_FLAG => self.int_flag &= !value,
            INT_SRCSEL => self.int_srcsel = value,
            INT_COL_EN => {
                self.int_col_en = value;
                return Effect::rearm_if(value);
            }
            INT_COL_CTL => self.int_col_ctl = value,
            INT_FLAG_AND_COL => {
                self.int_flag_en = value;
                self.int_col_en = value;
                return Effect::rearm_if(value);
            }
            EXP_STAT => self.exp_stat &= !value,
            EXP_INT_EN => self.exp_int_en = value,
            RING_SRV_ARB_EN => {
                self.arb_en = value;
                return Effect::Kick;
            }
            RING_CONFIG..=0x1004 => {
                if let Some(r) = self.rings.get_mut(ring(RING_CONFIG)) {
                    r.config = value;
                }
            }
            RING_LBASE..=0x1044 => {
                if let Some(r) = self.rings.get_mut(ring(RING_LBASE)) {
                    r.base = (r.base & !0xffff_ffff) | u64::from(value);
                }
            }
            RING_UBASE..=0x1084 => {
                if let Some(r) = self.rings.get_mut(ring(RING_UBASE)) {
                    r.base = (r.base & 0xffff_ffff) | (u64::from(value) << 32);
                }
            }
            _ => {}
        }
        Effect::None
    }

    /// A ring-pair reset: back to power-on state, in-flight work dropped.
    pub fn reset(&mut self) {
        let generation = self.generation.wrapping_add(1);
        *self = Self {
            generation,
            ..Self::default()
        };
    }
}

/// Whether `value` is a usable head/tail of ring `index`: inside the ring
/// and aligned to its smallest message (requests 64 bytes, responses 32).
/// An unsized ring accepts only 0.
fn valid_offset(ring: &Ring, index: usize, value: u32) -> bool {
    let align = if index == TX { 64 } else { 32 };
    match ring.bytes() {
        Some(bytes) => u64::from(value) < bytes && value.is_multiple_of(align),
        None => value == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sized() -> Bank {
        let mut b = Bank::default();
        b.write(RING_CONFIG, 10);
        b.write(RING_CONFIG + 4, 8);
        b.write(RING_LBASE, 0x10_0000);
        b.write(RING_UBASE + 4, 1);
        b
    }

    #[test]
    fn test_ring_csrs_read_back_and_report_empty() {
        let mut b = sized();
        assert_eq!(b.rings[TX].bytes(), Some(64 << 10));
        assert_eq!(b.rings[RX].base, 1 << 32);
        assert_eq!(b.read(RING_E_STAT), 0x3);
        assert_eq!(b.write(RING_TAIL, 128), Effect::Kick);
        assert_eq!(b.read(RING_E_STAT), 0x2);
        assert_eq!(b.read(RING_TAIL), 128);
        assert!(!b.is_enabled());
        b.write(RING_SRV_ARB_EN, 1);
        assert!(b.is_enabled());
    }

    #[test]
    fn test_bad_tail_values_fault_and_keep_the_ring() {
        let mut b = sized();
        assert_eq!(b.write(RING_TAIL, 64 << 10), Effect::Fault(TX));
        assert_eq!(b.write(RING_TAIL, 100), Effect::Fault(TX));
        assert_eq!(b.read(RING_TAIL), 0);
        let mut unsized_bank = Bank::default();
        assert_eq!(unsized_bank.write(RING_TAIL, 128), Effect::Fault(TX));
    }

    #[test]
    fn test_col_enable_alone_interrupts_and_flag_and_col_sets_both_enables() {
        let mut b = sized();
        assert!(!b.interrupt_enabled(), "off at reset");
        // adf_enable_ring_irq: INT_COL_EN only, never INT_FLAG_AND_COL.
        assert_eq!(b.write(INT_COL_EN, 1 << RX), Effect::Rearm);
        assert!(b.interrupt_enabled());
        assert_eq!(b.read(INT_FLAG_AND_COL), 1 << RX);
        // The ISR silences the bank, the bottom half re-enables it.
        assert_eq!(b.write(INT_FLAG_AND_COL, 0), Effect::None);
        assert!(!b.interrupt_enabled());
        assert_eq!((b.read(INT_COL_EN), b.read(INT_FLAG_EN)), (0, 0));
        assert_eq!(b.write(INT_FLAG_AND_COL, 1 << RX), Effect::Rearm);
        assert!(b.interrupt_enabled());
        assert_eq!(b.read(INT_COL_EN), 1 << RX);
        // The flag interrupt alone enables it too.
        b.write(INT_COL_EN, 0);
        b.write(INT_FLAG_EN, 1 << RX);
        assert!(b.interrupt_enabled());
    }

    #[test]
    fn test_int_flag_is_write_one_to_clear_and_reset_bumps_generation() {
        let mut b = sized();
        b.int_flag = 0x3;
        b.write(INT_FLAG, 0x1);
        assert_eq!(b.read(INT_FLAG), 0x2);
        b.reset();
        assert_eq!((b.generation, b.rings[TX].config), (1, 0));
    }
}
