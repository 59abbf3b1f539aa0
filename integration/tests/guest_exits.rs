//! Every way a guest can end maps to its documented exit code and message.

use integration::{guest_kernel, kvm_available, run_vmm, Run};

fn selftest(mode: &str, extra: &[&str]) -> Run {
    let kernel = guest_kernel();
    let cmdline = format!("selftest={mode}");
    let mut args = vec!["--kernel", kernel.to_str().unwrap(), "--cmdline", &cmdline];
    args.extend_from_slice(extra);
    if !extra.contains(&"--timeout") {
        args.extend_from_slice(&["--timeout", "60"]);
    }
    run_vmm(&args)
}

#[test]
fn test_guest_panic_exits_2_with_message_and_location() {
    if !kvm_available() {
        return;
    }
    let run = selftest("panic", &[]);
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("panic: deliberate panic requested by selftest=panic at "),
        "{run}"
    );
}

#[test]
fn test_hung_guest_is_stopped_by_timeout_with_code_68() {
    if !kvm_available() {
        return;
    }
    let run = selftest("hang", &["--timeout", "1"]);
    run.expect_code(68).expect_stderr("--timeout 1 s");
}

#[test]
fn test_emulation_failure_gives_report_and_code_69() {
    if !kvm_available() {
        return;
    }
    let run = selftest("emufail", &[]);
    run.expect_code(69)
        .expect_stderr("vmm: emulation failure: KVM could not emulate an instruction on vCPU 0")
        .expect_stderr("instruction: fld")
        .expect_stderr("(64-bit code)")
        .expect_stderr("cr0=0x")
        .expect_stderr("efer=0x");
}

#[test]
fn test_unhandled_guest_exception_exits_3_with_fault_line() {
    if !kvm_available() {
        return;
    }
    let run = selftest("fault", &[]);
    run.expect_code(3);
    assert!(run.stdout.contains("exception: #PF"), "{run}");
}

#[test]
fn test_i8042_reset_exits_66() {
    if !kvm_available() {
        return;
    }
    selftest("reset", &[])
        .expect_code(66)
        .expect_stderr("reset");
}

#[test]
fn test_triple_fault_exits_67() {
    if !kvm_available() {
        return;
    }
    selftest("triplefault", &[])
        .expect_code(67)
        .expect_stderr("triple fault");
}

/// A guest that writes `value` to I/O `port` and then halts.
fn port_write_guest(name: &str, port: u16, value: u8) -> Run {
    use iced_x86::code_asm::*;
    let mut a = CodeAssembler::new(32).unwrap();
    a.mov(dx, port as u32).unwrap();
    a.mov(al, value as u32).unwrap();
    a.out(dx, al).unwrap();
    let mut halt = a.create_label();
    a.set_label(&mut halt).unwrap();
    a.hlt().unwrap();
    a.jmp(halt).unwrap();
    let code = a.assemble(integration::PVH_LOAD_ADDR).unwrap();
    let path =
        integration::scratch_file(&format!("{name}.elf"), &integration::pvh_elf(&code, 0x1000));
    run_vmm(&["--kernel", path.to_str().unwrap(), "--timeout", "30"])
}

#[test]
fn test_acpi_s5_sleep_powers_off_with_code_0() {
    if !kvm_available() {
        return;
    }
    // SLP_EN | SLP_TYP=5 (the DSDT's _S5) to the FADT's sleep control register.
    port_write_guest("acpi-poweroff", 0x3c0, (5 << 2) | (1 << 5))
        .expect_code(0)
        .expect_stderr("vmm: guest powered off");
}

#[test]
fn test_acpi_reset_register_exits_66() {
    if !kvm_available() {
        return;
    }
    port_write_guest("acpi-reset", 0x3c2, 1)
        .expect_code(66)
        .expect_stderr("reset");
}
