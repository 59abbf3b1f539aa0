//! The kernel's own GDT (64-bit kernel code and data, a TSS, user data and
//! code) and the TSS, whose IST1 stack serves the double-fault handler and
//! whose RSP0 is the stack the CPU switches to on a trap from user mode.
//!
//! Selectors: kernel code 0x08, kernel data 0x10, TSS 0x18 (two slots), user
//! data 0x2b and user code 0x33 (Linux's values: `STAR[63:48]` = 0x23 makes
//! SYSRET load SS = 0x2b and CS = 0x33).

use core::cell::UnsafeCell;

use spin::Once;
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::{lgdt, load_tss};
use x86_64::structures::DescriptorTablePointer;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;

/// IST slot (1-based, as the IDT encodes it) used by the double-fault handler.
pub const DOUBLE_FAULT_IST: u8 = 1;
/// User data (stack) selector, RPL 3.
pub const USER_DATA_SELECTOR: u16 = 0x2b;
/// User 64-bit code selector, RPL 3.
pub const USER_CODE_SELECTOR: u16 = 0x33;
/// `STAR[63:48]`: SYSRET adds 8 (SS) and 16 (CS) to it.
pub const SYSRET_SELECTOR_BASE: u16 = USER_DATA_SELECTOR - 8;

const IST_STACK_SIZE: usize = 16 * 1024;

/// The double-fault stack (in .bss): only its address is used, by the CPU.
static mut DOUBLE_FAULT_STACK: [u8; IST_STACK_SIZE] = [0; IST_STACK_SIZE];

struct Gdt {
    table: GlobalDescriptorTable,
    code: SegmentSelector,
    data: SegmentSelector,
    tss: SegmentSelector,
}

/// The TSS: the CPU reads it; the kernel writes it only in [`init`] and
/// [`use_alias`], on the boot CPU with interrupts disabled.
struct Tss(UnsafeCell<TaskStateSegment>);

// SAFETY: written only by `init` (once) and `use_alias`, both on the boot CPU
// with interrupts off; nothing else holds a reference across those writes.
unsafe impl Sync for Tss {}

static TSS: Tss = Tss(UnsafeCell::new(TaskStateSegment::new()));
static GDT: Once<Gdt> = Once::new();

/// Selector of the kernel code segment, as loaded by [`init`] (panics before that).
pub fn kernel_code_selector() -> u16 {
    GDT.get().expect("gdt::init first").code.0
}

/// Builds and loads the GDT, reloads the segment registers and loads the TSS.
pub fn init() {
    let tss = TSS.0.get();
    let base = VirtAddr::from_ptr(&raw const DOUBLE_FAULT_STACK);
    let top = (base + IST_STACK_SIZE as u64).align_down(16u64);
    // SAFETY: `init` runs once, on the boot CPU with interrupts off, before
    // any TSS is loaded: no one else reads or writes the TSS now.
    unsafe { (*tss).interrupt_stack_table[usize::from(DOUBLE_FAULT_IST - 1)] = top };
    let gdt = GDT.call_once(|| {
        let mut table = GlobalDescriptorTable::new();
        let code = table.append(Descriptor::kernel_code_segment());
        let data = table.append(Descriptor::kernel_data_segment());
        // SAFETY: the TSS is a 'static that lives as long as the GDT.
        let tss = table.append(unsafe { Descriptor::tss_segment_unchecked(tss) });
        let user_data = table.append(Descriptor::user_data_segment());
        let user_code = table.append(Descriptor::user_code_segment());
        debug_assert_eq!(user_data.0, USER_DATA_SELECTOR);
        debug_assert_eq!(user_code.0, USER_CODE_SELECTOR);
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

/// Reloads the GDT, the TSS and its stacks at `offset` + their addresses
/// (the kernel alias every user address space maps), so traps from user
/// mode find them, and makes `rsp0` (an alias address too) the stack
/// traps from user mode run on. Call with interrupts off, after [`init`].
pub fn use_alias(offset: u64, rsp0: u64) {
    let gdt = GDT.get().expect("gdt::init first");
    let tss = TSS.0.get();
    // SAFETY: interrupts are off on the only CPU; the CPU reads the TSS
    // only on a privilege change or #DF, neither of which can happen here.
    unsafe {
        let slot = usize::from(DOUBLE_FAULT_IST - 1);
        let ist = (*tss).interrupt_stack_table[slot];
        if ist.as_u64() < offset {
            (*tss).interrupt_stack_table[slot] = VirtAddr::new(ist.as_u64() + offset);
        }
        (*tss).privilege_stack_table[0] = VirtAddr::new(rsp0);
    }
    let entries = gdt.table.entries();
    let table_base = entries.as_ptr() as u64;
    // The TSS descriptor: base bits 15:0 at 16, 23:16 at 32, 31:24 at 56 of
    // the low quad, 63:32 in the high quad; type (busy 0xb) at bits 40..44.
    let index = usize::from(gdt.tss.index());
    let tss_alias = tss as u64 + offset;
    let low = (table_base + index as u64 * 8) as *mut u64;
    // SAFETY: `low` and the quad after it are the TSS descriptor inside the
    // 'static GDT; interrupts are off and nothing else reads it until `lgdt`.
    unsafe {
        let mut value = core::ptr::read_volatile(low);
        value &= !(0xffff << 16 | 0xff << 32 | 0xff << 56 | 0xf << 40);
        value |= (tss_alias & 0xffff) << 16
            | (tss_alias >> 16 & 0xff) << 32
            | (tss_alias >> 24 & 0xff) << 56
            | 0x9 << 40;
        core::ptr::write_volatile(low, value);
        core::ptr::write_volatile(low.add(1), tss_alias >> 32);
    }
    let pointer = DescriptorTablePointer {
        limit: (entries.len() * 8 - 1) as u16,
        base: VirtAddr::new(table_base + offset),
    };
    // SAFETY: the alias maps the same 'static GDT (same descriptors, so the
    // loaded selectors stay valid); the TSS descriptor is available (not busy).
    unsafe {
        lgdt(&pointer);
        load_tss(gdt.tss);
    }
}
