//! Handler tests on a mock vCPU: instructions assembled with iced-x86,
//! memory identity-mapped below `RAM_END`, a device above `MMIO_BASE`.

use std::collections::HashMap;

use iced_x86::code_asm::*;
use iced_x86::Mnemonic;
use kvm_bindings::{kvm_regs, kvm_sregs};

use super::cpu::{
    page_fault, Access, CpuError, Exception, FxArea, GuestCpu, BP, FX_AREA_SIZE, GP0, MF, NM, UD,
};
use super::flags::{AC, CF, ZF};
use super::{complete, Completion, FallbackStats};

const CODE: u64 = 0x1000;
const RAM_END: u64 = 0x10_0000;
const MMIO_BASE: u64 = 0xd000_0000;

struct MockCpu {
    regs: kvm_regs,
    sregs: kvm_sregs,
    fx: FxArea,
    ram: HashMap<u64, u8>,
    mmio_writes: Vec<(u64, Vec<u8>)>,
    injected: Vec<Exception>,
    no_tsc_aux: bool,
}

impl MockCpu {
    fn new(bits: u32) -> Self {
        let mut sregs = kvm_sregs {
            cr0: 0x8000_0011,
            cr4: 0x200, // OSFXSR
            ..Default::default()
        };
        if bits == 64 {
            sregs.efer = 0x500;
            sregs.cs.l = 1;
        } else {
            sregs.cs.db = 1;
        }
        let regs = kvm_regs {
            rip: CODE,
            rflags: 2,
            ..Default::default()
        };
        Self {
            regs,
            sregs,
            fx: [0u8; FX_AREA_SIZE],
            ram: HashMap::new(),
            mmio_writes: Vec::new(),
            injected: Vec::new(),
            no_tsc_aux: false,
        }
    }

    fn poke(&mut self, addr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.ram.insert(addr + i as u64, *b);
        }
    }

    fn peek(&self, addr: u64, len: usize) -> Vec<u8> {
        (0..len as u64)
            .map(|i| self.ram.get(&(addr + i)).copied().unwrap_or(0))
            .collect()
    }
}

impl GuestCpu for MockCpu {
    fn regs(&mut self) -> Result<&mut kvm_regs, CpuError> {
        Ok(&mut self.regs)
    }
    fn sregs(&mut self) -> Result<&kvm_sregs, CpuError> {
        Ok(&self.sregs)
    }
    fn fx_area(&mut self) -> Result<&mut FxArea, CpuError> {
        Ok(&mut self.fx)
    }
    fn read_virt(&mut self, addr: u64, buf: &mut [u8]) -> Access<()> {
        if addr + buf.len() as u64 > RAM_END {
            return Ok(Err(page_fault(addr, false, false)));
        }
        buf.copy_from_slice(&self.peek(addr, buf.len()));
        Ok(Ok(()))
    }
    fn write_virt(&mut self, addr: u64, data: &[u8]) -> Access<()> {
        if addr >= MMIO_BASE {
            self.mmio_writes.push((addr, data.to_vec()));
        } else if addr + data.len() as u64 > RAM_END {
            return Ok(Err(page_fault(addr, true, false)));
        } else {
            self.poke(addr, data);
        }
        Ok(Ok(()))
    }
    fn read_msr(&mut self, index: u32) -> Result<u64, CpuError> {
        match index {
            0xc000_0103 if !self.no_tsc_aux => Ok(7),
            _ => Err(CpuError(format!("no MSR {index:#x}"))),
        }
    }
    fn random(&mut self, buf: &mut [u8]) -> Result<(), CpuError> {
        buf.fill(0x5a);
        Ok(())
    }
    fn inject(&mut self, exception: Exception) -> Result<(), CpuError> {
        self.injected.push(exception);
        Ok(())
    }
}

/// Assembles one instruction at CODE and runs the fallback on it.
fn run(
    bits: u32,
    cpu: &mut MockCpu,
    emit: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
) -> (Completion, usize) {
    let mut a = CodeAssembler::new(bits).unwrap();
    emit(&mut a).unwrap();
    let bytes = a.assemble(CODE).unwrap();
    // KVM hands over a 15-byte window: pad with junk to prove we decode the length.
    let mut window = bytes.clone();
    window.resize(15, 0xcc);
    let stats = FallbackStats::default();
    (complete(&window, cpu, &stats).unwrap(), bytes.len())
}

#[test]
fn test_popcnt_register_form_completes_and_advances_rip() {
    let mut cpu = MockCpu::new(64);
    cpu.regs.rbx = 0xf0f0;
    cpu.regs.rflags = 2 | CF;
    let (done, len) = run(64, &mut cpu, |a| a.popcnt(rax, rbx));
    assert_eq!(done, Completion::Completed(Mnemonic::Popcnt));
    assert_eq!(cpu.regs.rax, 8);
    assert_eq!(
        cpu.regs.rflags, 2,
        "CF cleared, ZF clear for a non-zero source"
    );
    assert_eq!(cpu.regs.rip, CODE + len as u64);
}

#[test]
fn test_popcnt_memory_form_reads_guest_memory() {
    let mut cpu = MockCpu::new(64);
    cpu.poke(0x2000, &0u32.to_le_bytes());
    cpu.regs.rsi = 0x2000;
    run(64, &mut cpu, |a| a.popcnt(ecx, dword_ptr(rsi)));
    assert_eq!((cpu.regs.rcx, cpu.regs.rflags & ZF), (0, ZF));
}

#[test]
fn test_memory_operand_fault_injects_page_fault_and_keeps_rip() {
    let mut cpu = MockCpu::new(64);
    cpu.regs.rsi = 0x40_0000;
    let (done, _) = run(64, &mut cpu, |a| a.popcnt(ecx, dword_ptr(rsi)));
    assert!(matches!(done, Completion::Injected(Mnemonic::Popcnt, e) if e.vector == 14));
    assert_eq!(cpu.injected[0].cr2, Some(0x40_0000));
    assert_eq!(cpu.regs.rip, CODE);
}

#[test]
fn test_lzcnt_16bit_keeps_upper_bits_and_tzcnt_of_zero_sets_cf() {
    let mut cpu = MockCpu::new(64);
    cpu.regs.rax = 0xffff_0000;
    cpu.regs.rbx = 0x00f0;
    run(64, &mut cpu, |a| a.lzcnt(ax, bx));
    assert_eq!(cpu.regs.rax, 0xffff_0008);
    cpu.regs.rip = CODE;
    cpu.regs.rbx = 0;
    run(64, &mut cpu, |a| a.tzcnt(edx, ebx));
    assert_eq!((cpu.regs.rdx, cpu.regs.rflags & CF), (32, CF));
}

#[test]
fn test_bmi2_shrx_and_mulx_write_their_destinations() {
    let mut cpu = MockCpu::new(64);
    cpu.regs.rcx = 0x1_0000_0000;
    cpu.regs.rdx = 4;
    run(64, &mut cpu, |a| a.shrx(rax, rcx, rdx));
    assert_eq!(cpu.regs.rax, 0x1000_0000);
    cpu.regs.rip = CODE;
    cpu.regs.rdx = u64::MAX;
    cpu.regs.rbx = 2;
    run(64, &mut cpu, |a| a.mulx(r8, r9, rbx));
    assert_eq!((cpu.regs.r8, cpu.regs.r9), (1, u64::MAX - 1));
}

#[test]
fn test_int3_is_a_trap_after_the_instruction() {
    let mut cpu = MockCpu::new(64);
    let (done, _) = run(64, &mut cpu, |a| a.int3());
    assert_eq!(done, Completion::Injected(Mnemonic::Int3, BP));
    assert_eq!(cpu.regs.rip, CODE + 1);
}

#[test]
fn test_clac_stac_toggle_ac_in_ring0_only() {
    let mut cpu = MockCpu::new(64);
    run(64, &mut cpu, |a| a.stac());
    assert_eq!(cpu.regs.rflags & AC, AC);
    cpu.regs.rip = CODE;
    run(64, &mut cpu, |a| a.clac());
    assert_eq!(cpu.regs.rflags & AC, 0);
    cpu.regs.rip = CODE;
    cpu.sregs.ss.dpl = 3;
    let (done, _) = run(64, &mut cpu, |a| a.stac());
    assert_eq!(done, Completion::Injected(Mnemonic::Stac, UD));
    assert_eq!(cpu.regs.rip, CODE);
}

#[test]
fn test_rdrand_sets_cf_and_rdpid_reads_tsc_aux() {
    let mut cpu = MockCpu::new(64);
    run(64, &mut cpu, |a| a.rdrand(eax));
    assert_eq!((cpu.regs.rax, cpu.regs.rflags & CF), (0x5a5a_5a5a, CF));
    cpu.regs.rip = CODE;
    run(64, &mut cpu, |a| a.rdpid(rcx));
    assert_eq!(cpu.regs.rcx, 7);
}

#[test]
fn test_fwait_raises_mf_only_with_a_pending_x87_exception() {
    let mut cpu = MockCpu::new(64);
    assert_eq!(
        run(64, &mut cpu, |a| a.wait()).0,
        Completion::Completed(Mnemonic::Wait)
    );
    cpu.regs.rip = CODE;
    cpu.fx[2] = 0x80; // FSW.ES
    assert_eq!(
        run(64, &mut cpu, |a| a.wait()).0,
        Completion::Injected(Mnemonic::Wait, MF)
    );
}

#[test]
fn test_ldmxcsr_loads_and_rejects_reserved_bits_and_stmxcsr_stores() {
    let mut cpu = MockCpu::new(64);
    cpu.poke(0x3000, &0x1fa0u32.to_le_bytes());
    cpu.regs.rdi = 0x3000;
    run(64, &mut cpu, |a| a.ldmxcsr(dword_ptr(rdi)));
    assert_eq!(cpu.fx[24..28], 0x1fa0u32.to_le_bytes());
    cpu.regs.rip = CODE;
    cpu.poke(0x3000, &0x1_0000u32.to_le_bytes());
    assert_eq!(
        run(64, &mut cpu, |a| a.ldmxcsr(dword_ptr(rdi))).0,
        Completion::Injected(Mnemonic::Ldmxcsr, GP0)
    );
    cpu.regs.rip = CODE;
    run(64, &mut cpu, |a| a.stmxcsr(dword_ptr(rdi + 8)));
    assert_eq!(cpu.peek(0x3008, 4), 0x1fa0u32.to_le_bytes());
}

#[test]
fn test_sse_state_instructions_check_cr0_and_cr4() {
    let mut cpu = MockCpu::new(64);
    cpu.regs.rdi = 0x3000;
    cpu.sregs.cr4 = 0;
    assert_eq!(
        run(64, &mut cpu, |a| a.ldmxcsr(dword_ptr(rdi))).0,
        Completion::Injected(Mnemonic::Ldmxcsr, UD)
    );
    cpu.sregs.cr4 = 0x200;
    cpu.sregs.cr0 |= 1 << 3; // TS
    assert_eq!(
        run(64, &mut cpu, |a| a.stmxcsr(dword_ptr(rdi))).0,
        Completion::Injected(Mnemonic::Stmxcsr, NM)
    );
    assert_eq!(
        run(64, &mut cpu, |a| a.fxsave64(ptr(rdi))).0,
        Completion::Injected(Mnemonic::Fxsave64, NM)
    );
    cpu.sregs.cr0 |= 1 << 1; // MP
    assert_eq!(
        run(64, &mut cpu, |a| a.wait()).0,
        Completion::Injected(Mnemonic::Wait, NM)
    );
    assert_eq!(cpu.regs.rip, CODE);
}

#[test]
fn test_fxsave_then_fxrstor_restores_state_and_misalignment_is_gp() {
    let mut cpu = MockCpu::new(64);
    cpu.fx[0..2].copy_from_slice(&0x27fu16.to_le_bytes());
    cpu.fx[160 + 16 * 9..160 + 16 * 10].fill(3);
    cpu.regs.rbx = 0x4000;
    run(64, &mut cpu, |a| a.fxsave64(ptr(rbx)));
    assert_eq!(cpu.peek(0x4000, 2), [0x7f, 0x02]);
    cpu.fx = [0u8; FX_AREA_SIZE];
    cpu.regs.rip = CODE;
    run(64, &mut cpu, |a| a.fxrstor64(ptr(rbx)));
    assert_eq!(cpu.fx[0..2], [0x7f, 0x02]);
    assert_eq!(cpu.fx[160 + 16 * 9..160 + 16 * 10], [3; 16]);
    cpu.regs.rip = CODE;
    cpu.regs.rbx = 0x4008;
    assert_eq!(
        run(64, &mut cpu, |a| a.fxsave(ptr(rbx))).0,
        Completion::Injected(Mnemonic::Fxsave, GP0)
    );
}

#[test]
fn test_movdir64b_to_mmio_is_one_64_byte_device_write() {
    let mut cpu = MockCpu::new(64);
    let payload: Vec<u8> = (0..64).collect();
    cpu.poke(0x5000, &payload);
    cpu.regs.rax = MMIO_BASE + 0x40;
    cpu.regs.rsi = 0x5000;
    let (done, _) = run(64, &mut cpu, |a| a.movdir64b(rax, ptr(rsi)));
    assert_eq!(done, Completion::Completed(Mnemonic::Movdir64b));
    assert_eq!(cpu.mmio_writes, vec![(MMIO_BASE + 0x40, payload)]);
}

#[test]
fn test_movdir64b_to_ram_copies_and_misaligned_destination_is_gp() {
    let mut cpu = MockCpu::new(64);
    cpu.poke(0x5000, &[9; 64]);
    cpu.regs.rax = 0x6000;
    cpu.regs.rsi = 0x5000;
    run(64, &mut cpu, |a| a.movdir64b(rax, ptr(rsi)));
    assert_eq!(cpu.peek(0x6000, 64), vec![9; 64]);
    cpu.regs.rip = CODE;
    cpu.regs.rax = 0x6020;
    assert_eq!(
        run(64, &mut cpu, |a| a.movdir64b(rax, ptr(rsi))).0,
        Completion::Injected(Mnemonic::Movdir64b, GP0)
    );
}

#[test]
fn test_32bit_mode_decodes_and_wraps_eip() {
    let mut cpu = MockCpu::new(32);
    cpu.regs.rbx = 0b111;
    run(32, &mut cpu, |a| a.popcnt(eax, ebx));
    assert_eq!(cpu.regs.rax, 3);
    // The same 4-byte instruction at the top of the 4 GiB code segment.
    let mut a = CodeAssembler::new(32).unwrap();
    a.popcnt(eax, ebx).unwrap();
    let bytes = a.assemble(0xffff_fffc).unwrap();
    cpu.regs.rip = 0xffff_fffc;
    complete(&bytes, &mut cpu, &FallbackStats::default()).unwrap();
    assert_eq!(cpu.regs.rip, 0);
}

#[test]
fn test_64bit_mode_ignores_ds_base_but_not_gs_base() {
    let mut cpu = MockCpu::new(64);
    cpu.sregs.ds.base = 0x7000_0000;
    cpu.sregs.gs.base = 0x1000;
    cpu.poke(0x2000, &0xffu32.to_le_bytes());
    cpu.poke(0x3000, &0x1u32.to_le_bytes());
    cpu.regs.rsi = 0x2000;
    run(64, &mut cpu, |a| a.popcnt(eax, dword_ptr(rsi)));
    assert_eq!(cpu.regs.rax, 8);
    cpu.regs.rip = CODE;
    run(64, &mut cpu, |a| a.popcnt(eax, dword_ptr(rsi).gs()));
    assert_eq!(cpu.regs.rax, 1);
}

#[test]
fn test_32bit_linear_addresses_wrap_at_4g() {
    let mut cpu = MockCpu::new(32);
    cpu.sregs.ds.base = 0xffff_f000;
    cpu.poke(0x1000, &0xfu32.to_le_bytes());
    cpu.regs.rsi = 0x2000;
    run(32, &mut cpu, |a| a.popcnt(eax, dword_ptr(esi)));
    assert_eq!(cpu.regs.rax, 4);
}

#[test]
fn test_other_encodings_of_handled_mnemonics_are_unsupported() {
    // AMD TBM's bextr r32, r/m32, imm32 (XOP): not a BMI1 form.
    let bytes = [0x8f, 0xea, 0x78, 0x10, 0xc3, 0x08, 0x08, 0x00, 0x00];
    let mut cpu = MockCpu::new(64);
    assert_eq!(
        complete(&bytes, &mut cpu, &FallbackStats::default()).unwrap(),
        Completion::Unsupported
    );
    assert_eq!(cpu.regs.rip, CODE);
}

#[test]
fn test_rdpid_without_tsc_aux_raises_ud() {
    let mut cpu = MockCpu::new(64);
    cpu.no_tsc_aux = true;
    assert_eq!(
        run(64, &mut cpu, |a| a.rdpid(rcx)).0,
        Completion::Injected(Mnemonic::Rdpid, UD)
    );
}

#[test]
fn test_unsupported_instruction_changes_nothing() {
    let mut cpu = MockCpu::new(64);
    cpu.regs.rax = 1;
    let (done, _) = run(64, &mut cpu, |a| a.add(rax, rbx));
    assert_eq!(done, Completion::Unsupported);
    assert_eq!((cpu.regs.rax, cpu.regs.rip), (1, CODE));
    assert!(cpu.injected.is_empty());
}
