//! LAPIC timer interrupts arrive and advance the tick counter.
//!
//! The test runs the timer at 1 ms (not the usual 10 ms) and restores the
//! 10 ms period afterwards, pass or fail. Phase 1 polls (interrupts on) until
//! one tick arrives, bounded by the timer's own current-count register: if
//! [`MAX_PERIODS`] periods elapse without a tick, interrupts are not
//! delivered (a dead timer fails, it does not hang). Phase 2, now safe,
//! waits for two more ticks with `sti; hlt`.

use super::{TestResult, ensure};
use crate::apic;

/// Timer initial count during the test: 1 ms at 1 GHz / 16.
const TEST_COUNT: u32 = apic::TIMER_INITIAL_COUNT / 10;
/// Timer periods phase 1 waits for a tick before it fails.
const MAX_PERIODS: u32 = 10;

pub fn run() -> TestResult {
    ensure!(
        x86_64::instructions::interrupts::are_enabled(),
        "interrupts are disabled"
    );
    apic::set_timer_initial_count(TEST_COUNT);
    let result = ticks_arrive();
    apic::set_timer_initial_count(apic::TIMER_INITIAL_COUNT);
    result
}

fn ticks_arrive() -> TestResult {
    let start = apic::ticks();
    let (mut periods, mut zeros) = (0, 0);
    let mut last = apic::timer_current_count();
    ensure!(
        last <= TEST_COUNT,
        "current count {last} above the initial count {TEST_COUNT}"
    );
    while apic::ticks() == start {
        let now = apic::timer_current_count();
        if now > last {
            periods += 1; // the periodic timer reloaded
        }
        zeros = if now == 0 { zeros + 1 } else { 0 };
        last = now;
        ensure!(zeros < 4, "timer is not running (current count 0)");
        ensure!(
            periods < MAX_PERIODS,
            "no tick in {MAX_PERIODS} timer periods"
        );
    }
    // Interrupts are proven to arrive: each hlt now ends at the next one.
    let first = apic::ticks();
    for _ in 0..4 {
        if apic::ticks() >= first + 2 {
            break;
        }
        x86_64::instructions::interrupts::enable_and_hlt();
    }
    let end = apic::ticks();
    ensure!(
        end >= first + 2,
        "ticks {first} -> {end} over four hlt waits"
    );
    Ok(())
}
