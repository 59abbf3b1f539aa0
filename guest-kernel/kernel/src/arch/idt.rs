//! The interrupt descriptor table: a gate for each stub in [`super::trap`]
//! (all 32 exception vectors, the LAPIC timer, MSI-X and the spurious vector).
//!
//! The table is a zeroed static (.bss) filled in place: no 4 KiB table is
//! built on the stack and copied.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use x86_64::VirtAddr;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

use super::{gdt, trap};

/// One 16-byte long-mode interrupt gate.
#[repr(C)]
#[derive(Clone, Copy)]
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
pub const INTERRUPT_GATE: u8 = 0x8e;
/// Number of gates.
const ENTRIES: usize = 256;
/// The IDT limit `lidt` is given (size in bytes - 1).
pub const LIMIT: u16 = (ENTRIES * core::mem::size_of::<Gate>() - 1) as u16;

impl Gate {
    const ABSENT: Self = Self {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

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

/// A gate as the CPU sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateInfo {
    /// Handler address.
    pub handler: u64,
    /// Code-segment selector.
    pub selector: u16,
    /// IST slot (0 = no stack switch).
    pub ist: u8,
    /// Type and attributes byte (present, DPL, gate type).
    pub type_attr: u8,
}

#[repr(C, align(16))]
struct Idt(UnsafeCell<[Gate; ENTRIES]>);

// SAFETY: only `init` writes the table, once (STARTED guarantees it), on the
// boot CPU with interrupts disabled; `gate` reads it only after `init`
// published it (LOADED, release/acquire), and nothing writes it after that.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new([Gate::ABSENT; ENTRIES]));
/// Set when `init` starts: it runs once.
static STARTED: AtomicBool = AtomicBool::new(false);
/// Set when the table is complete and loaded.
static LOADED: AtomicBool = AtomicBool::new(false);

/// Fills the IDT and loads it with `lidt`. Call after [`gdt::init`], with
/// interrupts disabled, once (panics if called again).
pub fn init() {
    assert!(
        !STARTED.swap(true, Ordering::SeqCst),
        "idt::init called twice"
    );
    let selector = gdt::kernel_code_selector();
    let table = IDT.0.get();
    for (vector, handler) in trap::stubs() {
        let ist = if vector == trap::DOUBLE_FAULT_VECTOR {
            gdt::DOUBLE_FAULT_IST
        } else {
            0
        };
        // SAFETY: STARTED makes this the only writer ever, and no reader
        // looks before LOADED is set below; the index is below ENTRIES.
        unsafe { (*table)[usize::from(vector)] = Gate::new(handler, selector, ist) };
    }
    LOADED.store(true, Ordering::Release);
    let pointer = DescriptorTablePointer {
        limit: LIMIT,
        base: VirtAddr::new(address()),
    };
    // SAFETY: the IDT is 'static and every present gate points at a trap stub
    // in kernel code with the kernel code selector.
    unsafe { lidt(&pointer) };
}

/// Moves every gate's handler to `offset` + its address and reloads the
/// IDT at `offset` + its address: the kernel alias every user address space
/// maps, so traps from user mode find the table and the stubs. Call once,
/// after [`init`], with interrupts off.
pub fn use_alias(offset: u64) {
    assert!(LOADED.load(Ordering::Acquire), "idt::init first");
    let table = IDT.0.get();
    for vector in 0..ENTRIES {
        // SAFETY: interrupts are off on the only CPU, so no gate is read
        // while it changes; the index is below ENTRIES.
        unsafe {
            let gate = &mut (*table)[vector];
            if gate.type_attr & 0x80 != 0 {
                let handler = u64::from(gate.offset_low)
                    | u64::from(gate.offset_mid) << 16
                    | u64::from(gate.offset_high) << 32;
                *gate = Gate::new(handler + offset, gate.selector, gate.ist);
            }
        }
    }
    let pointer = DescriptorTablePointer {
        limit: LIMIT,
        base: VirtAddr::new(address() + offset),
    };
    // SAFETY: the alias maps the same 'static table, whose gates now point
    // at the aliases of the trap stubs.
    unsafe { lidt(&pointer) };
}

/// Address of the IDT (what `sidt` returns as the base once it is loaded).
pub fn address() -> u64 {
    IDT.0.get() as u64
}

/// The gate for `vector`, or `None` if it is absent or [`init`] has not run.
pub fn gate(vector: u8) -> Option<GateInfo> {
    if !LOADED.load(Ordering::Acquire) {
        return None;
    }
    // SAFETY: LOADED is set, so `init` finished writing and nothing writes
    // the table any more; the index is below ENTRIES.
    let gate = unsafe { (*IDT.0.get())[usize::from(vector)] };
    (gate.type_attr & 0x80 != 0).then(|| GateInfo {
        handler: u64::from(gate.offset_low)
            | u64::from(gate.offset_mid) << 16
            | u64::from(gate.offset_high) << 32,
        selector: gate.selector,
        ist: gate.ist,
        type_attr: gate.type_attr,
    })
}
