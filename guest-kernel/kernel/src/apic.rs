//! The local APIC (xAPIC MMIO at 0xfee0_0000): a periodic timer and its tick counter.
//!
//! KVM's APIC bus runs at 1 GHz: divide-by-16 and an initial count of 625 000
//! give one interrupt every 10 ms (100 Hz).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::trap::{SPURIOUS_VECTOR, TIMER_VECTOR};

/// Physical (= virtual) base of the LAPIC registers.
pub const LAPIC_BASE: u64 = 0xfee0_0000;
/// Timer initial count: 10 ms at 1 GHz / 16.
pub const TIMER_INITIAL_COUNT: u32 = 625_000;

const REG_ID: u64 = 0x20;
const REG_TPR: u64 = 0x80;
const REG_EOI: u64 = 0xb0;
const REG_SVR: u64 = 0xf0;
const REG_LVT_TIMER: u64 = 0x320;
const REG_LVT_LINT0: u64 = 0x350;
const REG_LVT_LINT1: u64 = 0x360;
const REG_TIMER_INITIAL: u64 = 0x380;
const REG_TIMER_CURRENT: u64 = 0x390;
const REG_TIMER_DIVIDE: u64 = 0x3e0;

const SVR_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const LVT_TIMER_PERIODIC: u32 = 1 << 17;
const DIVIDE_BY_16: u32 = 0b0011;

static TICKS: AtomicU64 = AtomicU64::new(0);

fn read(reg: u64) -> u32 {
    // SAFETY: LAPIC registers are 32-bit, 16-byte aligned MMIO inside the
    // identity map (uncached); reading them has no memory-safety effect.
    unsafe { core::ptr::read_volatile((LAPIC_BASE + reg) as *const u32) }
}

fn write(reg: u64, value: u32) {
    // SAFETY: as in `read`; the kernel is the LAPIC's only user.
    unsafe { core::ptr::write_volatile((LAPIC_BASE + reg) as *mut u32, value) }
}

/// Enables the LAPIC, masks LINT0/LINT1 (no legacy PIC interrupts) and starts
/// the periodic timer. Interrupts stay disabled until the caller runs `sti`.
pub fn init() {
    write(REG_SVR, SVR_ENABLE | u32::from(SPURIOUS_VECTOR));
    write(REG_TPR, 0);
    write(REG_LVT_LINT0, LVT_MASKED);
    write(REG_LVT_LINT1, LVT_MASKED);
    write(REG_TIMER_DIVIDE, DIVIDE_BY_16);
    write(REG_LVT_TIMER, LVT_TIMER_PERIODIC | u32::from(TIMER_VECTOR));
    write(REG_TIMER_INITIAL, TIMER_INITIAL_COUNT);
}

/// This CPU's local APIC ID (xAPIC ID register, bits 31:24).
pub fn id() -> u32 {
    read(REG_ID) >> 24
}

/// Restarts the periodic timer with period `count` (in bus clocks / 16):
/// [`TIMER_INITIAL_COUNT`] is the normal 10 ms.
pub fn set_timer_initial_count(count: u32) {
    write(REG_TIMER_INITIAL, count);
}

/// Timer interrupt: count the tick and signal end of interrupt.
pub fn on_timer_interrupt() {
    TICKS.fetch_add(1, Ordering::Relaxed);
    eoi();
}

/// Signals the end of the interrupt being handled.
pub fn eoi() {
    write(REG_EOI, 0);
}

/// Timer interrupts taken since boot.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// The timer's current count (counts down from [`TIMER_INITIAL_COUNT`], then reloads).
pub fn timer_current_count() -> u32 {
    read(REG_TIMER_CURRENT)
}
