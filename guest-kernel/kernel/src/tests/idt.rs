//! The IDT is loaded (`sidt` gives our table and limit), and every exception
//! vector, the timer, MSI-X and the spurious vector have a present 64-bit interrupt
//! gate (type 0x8e) with the kernel code selector pointing at its stub; only
//! #DF switches stacks (IST 1); other vectors have no gate.

use x86_64::instructions::tables::sidt;

use super::{TestResult, ensure};
use crate::arch::idt::{self, INTERRUPT_GATE, LIMIT};
use crate::arch::{gdt, trap};

pub fn run() -> TestResult {
    let loaded = sidt();
    ensure!(
        loaded.base.as_u64() == idt::address() && loaded.limit == LIMIT,
        "sidt: base {:#x} limit {:#x}, our IDT is at {:#x} limit {LIMIT:#x}",
        loaded.base.as_u64(),
        loaded.limit,
        idt::address()
    );
    let selector = gdt::kernel_code_selector();
    let expected = (0..trap::EXCEPTION_VECTORS).chain([
        trap::TIMER_VECTOR,
        trap::MSI_VECTOR,
        trap::SPURIOUS_VECTOR,
    ]);
    let mut stubs = trap::stubs();
    for vector in expected {
        let (stub_vector, stub) = stubs.next().ok_or("fewer stubs than vectors")?;
        ensure!(
            stub_vector == vector,
            "stub for {stub_vector}, expected {vector}"
        );
        let gate = idt::gate(vector).ok_or_else(|| alloc::format!("vector {vector}: no gate"))?;
        let ist = if vector == trap::DOUBLE_FAULT_VECTOR {
            gdt::DOUBLE_FAULT_IST
        } else {
            0
        };
        ensure!(
            gate.handler == stub
                && gate.selector == selector
                && gate.ist == ist
                && gate.type_attr == INTERRUPT_GATE,
            "vector {vector}: gate {gate:x?}, expected stub {stub:#x} selector {selector:#x} ist {ist} type {INTERRUPT_GATE:#x}"
        );
    }
    ensure!(stubs.next().is_none(), "more stubs than vectors");
    for vector in [
        trap::TIMER_VECTOR + 1,
        trap::MSI_VECTOR + 1,
        0x80,
        trap::SPURIOUS_VECTOR - 1,
    ] {
        ensure!(
            idt::gate(vector).is_none(),
            "vector {vector:#x} unexpectedly present"
        );
    }
    Ok(())
}
