//! Each instruction-fallback handler, proven by a tiny guest under KVM: a
//! few 32-bit instructions execute it and report through port 0xf4 (0 =
//! every check passed, otherwise the number of the failed check). On
//! kvm-pvm the VMM completes the instruction (its counter must show it);
//! on hardware KVM the CPU runs it natively and the same checks hold.

use iced_x86::code_asm::*;
use integration::{
    host_cpu_has, is_kvm_pvm, kvm_available, pvh_elf, run_vmm, scratch_file, Run, PVH_LOAD_ADDR,
};

/// Scratch RAM the guests use for data (the kernel image is at 1 MiB).
const DATA: u32 = 0x20_0000;
/// Top of the guests' stack (the PVH entry state has none).
const STACK_TOP: u32 = 0x28_0000;
const DEBUG_EXIT: u8 = 0xf4;

/// Ends the guest with exit code `code`.
fn exit(a: &mut CodeAssembler, code: u8) -> Result<(), IcedError> {
    a.mov(al, code as u32)?;
    a.out(DEBUG_EXIT as u32, al)?;
    let mut halt = a.create_label();
    a.set_label(&mut halt)?;
    a.cli()?;
    a.hlt()?;
    a.jmp(halt)
}

/// Exits with `code` unless `reg == value`.
fn expect(
    a: &mut CodeAssembler,
    reg: AsmRegister32,
    value: u32,
    code: u8,
) -> Result<(), IcedError> {
    let mut ok = a.create_label();
    a.cmp(reg, value)?;
    a.je(ok)?;
    exit(a, code)?;
    a.set_label(&mut ok)?;
    a.nop()
}

/// Exits with `code` unless CF == `set`.
fn expect_cf(a: &mut CodeAssembler, set: bool, code: u8) -> Result<(), IcedError> {
    let mut ok = a.create_label();
    if set {
        a.jb(ok)?;
    } else {
        a.jae(ok)?;
    }
    exit(a, code)?;
    a.set_label(&mut ok)?;
    a.nop()
}

/// Turns on SSE state (CR4.OSFXSR/OSXMMEXCPT, CR0.MP, CR0.EM clear) and x87.
fn enable_fpu_sse(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.mov(eax, cr0)?;
    a.and(eax, !0x4u32 as i32)?; // EM off
    a.or(eax, 0x2)?; // MP on
    a.mov(cr0, eax)?;
    a.mov(eax, cr4)?;
    a.or(eax, 0x600)?;
    a.mov(cr4, eax)?;
    a.fninit()
}

/// Assembles a guest (`body` then a passing exit), boots it, returns the run.
fn boot(name: &str, body: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Run {
    let mut a = CodeAssembler::new(32).unwrap();
    a.mov(esp, STACK_TOP).unwrap();
    body(&mut a).unwrap();
    exit(&mut a, 0).unwrap();
    let code = a.assemble(PVH_LOAD_ADDR).unwrap();
    let path = scratch_file(&format!("fallback-{name}.elf"), &pvh_elf(&code, 0x1000));
    run_vmm(&[
        "--kernel",
        path.to_str().unwrap(),
        "--timeout",
        "30",
        "--timings",
    ])
}

/// Checks a guest passed and, on kvm-pvm, that the fallback completed each
/// of `mnemonics` (`name=count` in the --timings fallback line).
fn expect_pass(run: &Run, mnemonics: &[&str]) {
    run.expect_code(0);
    if !is_kvm_pvm() {
        return;
    }
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("vmm fallback: "))
        .unwrap_or_else(|| panic!("no fallback counters on kvm-pvm:\n{run}"));
    for m in mnemonics {
        assert!(
            line.contains(&format!(" {m}=")),
            "fallback did not count {m}: {line}"
        );
    }
}

#[test]
fn test_fallback_popcnt() {
    if !kvm_available() {
        return;
    }
    let run = boot("popcnt", |a| {
        a.mov(ebx, 0xf0f0u32)?;
        a.popcnt(eax, ebx)?;
        expect(a, eax, 8, 1)?;
        a.xor(ebx, ebx)?;
        a.popcnt(eax, ebx)?;
        expect(a, eax, 0, 2)
    });
    expect_pass(&run, &["popcnt"]);
}

/// lzcnt and tzcnt are `F3`-prefixed bsr and bsf. kvm-pvm's emulator runs
/// them as bsr/bsf without an exit, so they never reach the VMM there: the
/// guest gets bsr's answer (15 for 0xf0f0, not 16). This test pins both
/// behaviours; the handlers themselves are unit-tested in vmm/.
#[test]
fn test_lzcnt_tzcnt_results_per_platform() {
    if !kvm_available() {
        return;
    }
    let (lzcnt, tzcnt_of_zero_cf) = if is_kvm_pvm() {
        (15, false)
    } else {
        (16, true)
    };
    if !is_kvm_pvm() && !host_cpu_has("abm") {
        eprintln!("skipping: this CPU runs lzcnt natively and lacks it");
        return;
    }
    let run = boot("lzcnt", |a| {
        a.mov(ebx, 0xf0f0u32)?;
        a.lzcnt(ecx, ebx)?;
        expect(a, ecx, lzcnt, 1)?;
        a.tzcnt(edx, ebx)?;
        expect(a, edx, 4, 2)?;
        a.xor(ebx, ebx)?;
        a.tzcnt(edx, ebx)?;
        expect_cf(a, tzcnt_of_zero_cf, 3)
    });
    run.expect_code(0);
}

#[test]
fn test_fallback_bmi1() {
    if !kvm_available() {
        return;
    }
    let run = boot("bmi1", |a| {
        a.mov(ebx, 0xff00u32)?;
        a.mov(ecx, 0xffffu32)?;
        a.andn(eax, ebx, ecx)?;
        expect(a, eax, 0xff, 1)?;
        a.mov(ebx, 0xabcd_ef00u32)?;
        a.mov(ecx, 0x0808u32)?;
        a.bextr(eax, ebx, ecx)?;
        expect(a, eax, 0xef, 2)?;
        a.mov(ebx, 0b1100u32)?;
        a.blsi(eax, ebx)?;
        expect(a, eax, 0b100, 3)?;
        a.blsmsk(eax, ebx)?;
        expect(a, eax, 0b111, 4)?;
        a.blsr(eax, ebx)?;
        expect(a, eax, 0b1000, 5)
    });
    expect_pass(&run, &["andn", "bextr", "blsi", "blsmsk", "blsr"]);
}

#[test]
fn test_fallback_bmi2() {
    if !kvm_available() {
        return;
    }
    let run = boot("bmi2", |a| {
        a.mov(ebx, 0xffff_ffffu32)?;
        a.mov(ecx, 4u32)?;
        a.bzhi(eax, ebx, ecx)?;
        expect(a, eax, 0xf, 1)?;
        a.mov(ebx, 0x100u32)?;
        a.shrx(eax, ebx, ecx)?;
        expect(a, eax, 0x10, 2)?;
        a.shlx(eax, ebx, ecx)?;
        expect(a, eax, 0x1000, 3)?;
        a.mov(ebx, 0x8000_0000u32)?;
        a.sarx(eax, ebx, ecx)?;
        expect(a, eax, 0xf800_0000, 4)?;
        a.mov(ebx, 1u32)?;
        a.rorx(eax, ebx, 1)?;
        expect(a, eax, 0x8000_0000, 5)?;
        a.mov(ebx, 0b101u32)?;
        a.mov(ecx, 0b1111_0000u32)?;
        a.pdep(eax, ebx, ecx)?;
        expect(a, eax, 0b0101_0000, 6)?;
        a.mov(ebx, 0b1010_0000u32)?;
        a.pext(eax, ebx, ecx)?;
        expect(a, eax, 0b1010, 7)?;
        a.mov(edx, 0x1_0000u32)?;
        a.mov(ebx, 0x3_0000u32)?;
        a.mulx(esi, edi, ebx)?;
        expect(a, esi, 3, 8)?;
        expect(a, edi, 0, 9)
    });
    expect_pass(
        &run,
        &[
            "bzhi", "shrx", "shlx", "sarx", "rorx", "pdep", "pext", "mulx",
        ],
    );
}

#[test]
fn test_fallback_clac_stac() {
    if !kvm_available() {
        return;
    }
    let run = boot("clac-stac", |a| {
        a.stac()?;
        a.pushfd()?;
        a.pop(eax)?;
        a.and(eax, 1 << 18)?;
        expect(a, eax, 1 << 18, 1)?;
        a.clac()?;
        a.pushfd()?;
        a.pop(eax)?;
        a.and(eax, 1 << 18)?;
        expect(a, eax, 0, 2)
    });
    expect_pass(&run, &["clac", "stac"]);
}

/// rdpid is not here: KVM's emulator implements it (and IA32_TSC_AUX)
/// itself, so it never reaches the VMM; its handler is unit-tested in vmm/.
#[test]
fn test_fallback_rdrand_rdseed() {
    if !kvm_available() {
        return;
    }
    let runs_here = is_kvm_pvm() || (host_cpu_has("rdrand") && host_cpu_has("rdseed"));
    if !runs_here {
        eprintln!("skipping: this CPU runs the instructions natively and lacks one of them");
        return;
    }
    let run = boot("rdrand", |a| {
        a.rdrand(eax)?;
        expect_cf(a, true, 1)?;
        a.rdseed(ebx)?;
        expect_cf(a, true, 2)
    });
    expect_pass(&run, &["rdrand", "rdseed"]);
}

#[test]
fn test_fallback_fwait_ldmxcsr_stmxcsr() {
    if !kvm_available() {
        return;
    }
    let run = boot("mxcsr", |a| {
        enable_fpu_sse(a)?;
        a.wait()?;
        a.mov(dword_ptr(DATA), 0x1fa0u32)?;
        a.ldmxcsr(dword_ptr(DATA))?;
        a.stmxcsr(dword_ptr(DATA + 4))?;
        a.mov(eax, dword_ptr(DATA + 4))?;
        expect(a, eax, 0x1fa0, 1)
    });
    expect_pass(&run, &["wait", "ldmxcsr", "stmxcsr"]);
}

/// KVM's emulator implements fxsave/fxrstor itself (they reach the VMM only
/// where it gives up); the guest checks the results either way, and the
/// ldmxcsr/stmxcsr around them do reach the fallback on kvm-pvm.
#[test]
fn test_fxsave_fxrstor_results_with_mxcsr_through_the_fallback() {
    if !kvm_available() {
        return;
    }
    let run = boot("fxsave", |a| {
        enable_fpu_sse(a)?;
        a.mov(dword_ptr(DATA), 0x1f80u32)?;
        a.ldmxcsr(dword_ptr(DATA))?;
        a.fxsave(ptr(DATA + 0x100))?;
        a.mov(eax, dword_ptr(DATA + 0x100 + 24))?;
        expect(a, eax, 0x1f80, 1)?;
        // Change MXCSR in the saved image, restore it, read it back.
        a.mov(dword_ptr(DATA + 0x100 + 24), 0x1fa0u32)?;
        a.fxrstor(ptr(DATA + 0x100))?;
        a.stmxcsr(dword_ptr(DATA + 8))?;
        a.mov(eax, dword_ptr(DATA + 8))?;
        expect(a, eax, 0x1fa0, 2)
    });
    expect_pass(&run, &["ldmxcsr", "stmxcsr"]);
}

#[test]
fn test_fallback_int3_delivers_bp_as_a_trap() {
    if !kvm_available() {
        return;
    }
    let idt = DATA + 0x1000;
    let idtr = DATA + 0x2000;
    let run = boot("int3", |a| {
        let mut setup = a.create_label();
        // `call` pushes the handler's address (the next instruction).
        a.call(setup)?;
        // The handler: the pushed EIP must follow an int3 (0xcc), i.e. #BP
        // arrived as a trap after the instruction.
        a.mov(eax, dword_ptr(esp))?;
        a.movzx(ebx, byte_ptr(eax - 1))?;
        expect(a, ebx, 0xcc, 2)?;
        exit(a, 0)?;
        a.set_label(&mut setup)?;
        a.pop(eax)?;
        // IDT gate 3: a 32-bit interrupt gate to the handler, through the
        // boot GDT's code selector (0x10, Linux's __BOOT_CS).
        a.mov(ebx, eax)?;
        a.and(eax, 0xffffu32)?;
        a.or(eax, 0x0010_0000u32)?;
        a.mov(dword_ptr(idt + 24), eax)?;
        a.and(ebx, 0xffff_0000u32)?;
        a.or(ebx, 0x8e00u32)?;
        a.mov(dword_ptr(idt + 28), ebx)?;
        a.mov(word_ptr(idtr), 4 * 8 - 1)?;
        a.mov(dword_ptr(idtr + 2), idt)?;
        a.lidt(ptr(idtr))?;
        a.int3()?;
        exit(a, 1) // int3 did not reach the handler
    });
    expect_pass(&run, &["int3"]);
}

#[test]
fn test_fallback_movdir64b_to_ram() {
    if !kvm_available() {
        return;
    }
    if !is_kvm_pvm() && !host_cpu_has("movdir64b") {
        eprintln!("skipping: this CPU runs movdir64b natively and lacks it");
        return;
    }
    let (src, dst) = (DATA + 0x3000, DATA + 0x3040);
    let run = boot("movdir64b", |a| {
        for i in 0..16u32 {
            a.mov(dword_ptr(src + 4 * i), 0x0101_0101 * (i + 1))?;
        }
        a.mov(esi, src)?;
        a.mov(edi, dst)?;
        a.movdir64b(edi, ptr(esi))?;
        a.mov(eax, dword_ptr(dst))?;
        expect(a, eax, 0x0101_0101, 1)?;
        a.mov(eax, dword_ptr(dst + 60))?;
        expect(a, eax, 0x1010_1010, 2)
    });
    expect_pass(&run, &["movdir64b"]);
}
