//! The kernel's own GDT (64-bit code and data) and a TSS whose IST1 stack
//! serves the double-fault handler.

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

/// IST slot (1-based, as the IDT encodes it) used by the double-fault handler.
pub const DOUBLE_FAULT_IST: u8 = 1;

const IST_STACK_SIZE: usize = 16 * 1024;

/// The double-fault stack (in .bss): only its address is used, by the CPU.
static mut DOUBLE_FAULT_STACK: [u8; IST_STACK_SIZE] = [0; IST_STACK_SIZE];

struct Gdt {
    table: GlobalDescriptorTable,
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

static TSS: Once<TaskStateSegment> = Once::new();
static GDT: Once<Gdt> = Once::new();

/// Selector of the kernel code segment, as loaded by [`init`] (panics before that).
pub fn kernel_code_selector() -> u16 {
    GDT.get().expect("gdt::init first").code.0
}

/// Builds and loads the GDT, reloads the segment registers and loads the TSS.
pub fn init() {
    let tss = TSS.call_once(|| {
        let mut tss = TaskStateSegment::new();
        let base = VirtAddr::from_ptr(&raw const DOUBLE_FAULT_STACK);
        let top = (base + IST_STACK_SIZE as u64).align_down(16u64);
        tss.interrupt_stack_table[usize::from(DOUBLE_FAULT_IST - 1)] = top;
        tss
    });
    let gdt = GDT.call_once(|| {
        let mut table = GlobalDescriptorTable::new();
        let code = table.append(Descriptor::kernel_code_segment());
        let data = table.append(Descriptor::kernel_data_segment());
        let tss = table.append(Descriptor::tss_segment(tss));
        Gdt {
            table,
            code,
            data,
            tss,
        }
    });
    gdt.table.load();
    // SAFETY: the selectors index descriptors of the GDT just loaded, which is
    // 'static; code is a 64-bit ring-0 code segment and data a writable data segment.
    unsafe {
        CS::set_reg(gdt.code);
        SS::set_reg(gdt.data);
        DS::set_reg(gdt.data);
        ES::set_reg(gdt.data);
        load_tss(gdt.tss);
    }
}
