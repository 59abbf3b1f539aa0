//! Loading a static (or static-pie) ELF executable from the initramfs into
//! a new address space, with the initial stack Linux builds.

use guest_abi::auxv::*;
use guest_abi::cpio::Archive;
use guest_abi::elf::{Executable, PF_R, PF_W, PF_X, PHDR_SIZE};
use guest_abi::errno::{EACCES, ENOENT, ENOEXEC, ENOMEM};
use guest_abi::mman::{PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE};
use guest_abi::stack::{self, StackSpec};

use crate::arch::gdt::{USER_CODE_SELECTOR, USER_DATA_SELECTOR};
use crate::arch::trap::TrapFrame;
use crate::uvm::vma::Kind;
use crate::uvm::{AddressSpace, PIE_BASE, STACK_SIZE, STACK_TOP, uaccess};

/// Most bytes of arguments, environment and auxv on the new stack.
const ARG_MAX: u64 = 128 * 1024;
/// RFLAGS a program starts with: IF and the always-one bit.
const INITIAL_RFLAGS: u64 = 0x202;

fn prot_of(flags: u32) -> u64 {
    let mut prot = 0;
    if flags & PF_R != 0 {
        prot |= PROT_READ;
    }
    if flags & PF_W != 0 {
        prot |= PROT_WRITE;
    }
    if flags & PF_X != 0 {
        prot |= PROT_EXEC;
    }
    prot
}

/// 16 bytes for AT_RANDOM: SplitMix64 over the timer state (not secret).
fn random_bytes() -> [u8; 16] {
    let mut seed = crate::apic::ticks() << 32 ^ u64::from(crate::apic::timer_current_count());
    let mut out = [0; 16];
    for chunk in out.chunks_mut(8) {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// Loads `path` with `argv`/`envp`: its address space and the registers
/// to enter it with. `Err(errno)` if it cannot run.
pub fn load(
    archive: &Archive<'static>,
    path: &str,
    argv: &[&[u8]],
    envp: &[&[u8]],
) -> Result<(AddressSpace, TrapFrame), i64> {
    let entry = archive.lookup(path).ok_or(ENOENT)?;
    if !entry.is_file() {
        return Err(EACCES);
    }
    let exe = Executable::parse(entry.data).map_err(|_| ENOEXEC)?;
    let bias = if exe.is_pie() {
        PIE_BASE - exe.image_start()
    } else {
        0
    };
    let mut mm = AddressSpace::new().ok_or(ENOMEM)?;
    let mut mapped_end = 0;
    for seg in &exe.segments {
        let prot = prot_of(seg.flags);
        let start = bias + seg.map_start();
        let end = bias + seg.map_end();
        // Two segments may share a page: the later one fills it too.
        let area_start = start.max(mapped_end);
        if area_start < end {
            mm.add_area(area_start, end, prot, Kind::Image);
        }
        let file = &entry.data[seg.offset as usize..(seg.offset + seg.filesz) as usize];
        let file_start = bias + seg.vaddr;
        let mut va = start;
        while va < end {
            let lo = va.max(file_start);
            let hi = (va + PAGE_SIZE).min(file_start + seg.filesz);
            let data = if lo < hi {
                &file[(lo - file_start) as usize..(hi - file_start) as usize]
            } else {
                &[][..]
            };
            if va < mapped_end {
                fill_shared_page(&mut mm, lo, data)?;
            } else if !mm.map_page_with(va, prot, (lo - va) as usize, data) {
                return Err(ENOMEM);
            }
            va += PAGE_SIZE;
        }
        mapped_end = mapped_end.max(end);
    }
    mm.brk_start = bias + exe.image_end();
    mm.brk = mm.brk_start;
    let stack_prot = PROT_READ | PROT_WRITE | if exe.exec_stack { PROT_EXEC } else { 0 };
    mm.add_area(STACK_TOP - STACK_SIZE, STACK_TOP, stack_prot, Kind::Stack);

    let hwcap = u64::from(core::arch::x86_64::__cpuid(1).edx);
    let auxv = [
        (AT_HWCAP, hwcap),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, 100),
        (AT_PHDR, exe.phdr_vaddr.map_or(0, |p| p + bias)),
        (AT_PHENT, u64::from(PHDR_SIZE)),
        (AT_PHNUM, u64::from(exe.phnum)),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, exe.entry + bias),
        (AT_UID, 0),
        (AT_EUID, 0),
        (AT_GID, 0),
        (AT_EGID, 0),
        (AT_SECURE, 0),
        (AT_RANDOM, 0),
        (AT_EXECFN, 0),
        (AT_PLATFORM, 0),
    ];
    let spec = StackSpec {
        argv,
        envp,
        execfn: path.as_bytes(),
        random: random_bytes(),
        auxv: &auxv,
    };
    let image = stack::build(&spec, STACK_TOP, ARG_MAX).ok_or(ENOMEM)?;
    uaccess::copy_to_user(&mut mm, image.sp, &image.bytes).map_err(|_| ENOMEM)?;
    // The stack pages written above are not the program's faults.
    mm.faults = 0;
    let frame = TrapFrame {
        r15: 0,
        r14: 0,
        r13: 0,
        r12: 0,
        r11: 0,
        r10: 0,
        r9: 0,
        r8: 0,
        rbp: 0,
        rdi: 0,
        rsi: 0,
        rdx: 0,
        rcx: 0,
        rbx: 0,
        rax: 0,
        vector: 0,
        error_code: 0,
        rip: exe.entry + bias,
        cs: u64::from(USER_CODE_SELECTOR),
        rflags: INITIAL_RFLAGS,
        rsp: image.sp,
        ss: u64::from(USER_DATA_SELECTOR),
    };
    Ok((mm, frame))
}

/// Copies `data` to `va` in a page an earlier segment already mapped.
fn fill_shared_page(mm: &mut AddressSpace, va: u64, data: &[u8]) -> Result<(), i64> {
    let e = mm.pte(va);
    let phys = (e & crate::uvm::pt::ADDR) + (va & (PAGE_SIZE - 1));
    // SAFETY: the frame is this new address space's, identity-mapped, and
    // `data` ends within the page (the caller clipped it).
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), phys as *mut u8, data.len()) };
    Ok(())
}
