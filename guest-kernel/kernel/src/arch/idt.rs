//! The interrupt descriptor table: gates for all 32 exception vectors, the
//! LAPIC timer and the spurious vector, each pointing at a stub in [`super::trap`].

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

use super::{gdt, trap};

/// One 16-byte long-mode interrupt gate.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

/// Present, DPL 0, 64-bit interrupt gate (IF cleared on entry).
const INTERRUPT_GATE: u8 = 0x8e;

impl Gate {
    fn new(handler: u64, selector: u16, ist: u8) -> Self {
        Self {
            offset_low: handler as u16,
            selector,
            ist,
            type_attr: INTERRUPT_GATE,
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

#[repr(C, align(16))]
struct Idt([Gate; 256]);

static IDT: Once<Idt> = Once::new();

/// Builds the IDT and loads it with `lidt`. Call after [`gdt::init`].
pub fn init() {
    let idt = IDT.call_once(|| {
        let selector = gdt::kernel_code_selector();
        let mut idt = Idt([Gate::default(); 256]);
        for (index, &vector) in trap::STUB_VECTORS.iter().enumerate() {
            let ist = if vector == 8 {
                gdt::DOUBLE_FAULT_IST
            } else {
                0
            };
            idt.0[usize::from(vector)] = Gate::new(trap::stub_address(index), selector, ist);
        }
        idt
    });
    let pointer = DescriptorTablePointer {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: VirtAddr::from_ptr(idt),
    };
    // SAFETY: the IDT is 'static and every present gate points at a trap stub
    // in kernel code with the kernel code selector.
    unsafe { lidt(&pointer) };
}

/// Handler address installed for `vector`, or `None` if the gate is absent.
pub fn handler_address(vector: u8) -> Option<u64> {
    let gate = IDT.get()?.0[usize::from(vector)];
    (gate.type_attr & 0x80 != 0).then(|| {
        u64::from(gate.offset_low)
            | u64::from(gate.offset_mid) << 16
            | u64::from(gate.offset_high) << 32
    })
}
