//! Our guest kernel and the tiny guest boot under the VMM on KVM.

use integration::{guest_kernel, kvm_available, run_vmm, tiny_guest};

fn boot_kernel(extra: &[&str]) -> integration::Run {
    let kernel = guest_kernel();
    let mut args = vec!["--kernel", kernel.to_str().unwrap(), "--timeout", "60"];
    args.extend_from_slice(extra);
    run_vmm(&args)
}

#[test]
fn test_guest_kernel_boot_passes_every_self_test() {
    if !kvm_available() {
        return;
    }
    let run = boot_kernel(&[]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0]
            .starts_with("guest-kernel 0.1.0: memory 255 MiB, cpus 1, cmdline \"console=ttyS0\""),
        "banner first:\n{run}"
    );
    let plan: usize = lines
        .iter()
        .find_map(|l| l.strip_prefix("1.."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no plan line:\n{run}"));
    assert!(plan >= 8, "at least 8 self-tests, got {plan}");
    let passed = lines.iter().filter(|l| l.starts_with("ok ")).count();
    let failed: Vec<_> = lines.iter().filter(|l| l.starts_with("not ok ")).collect();
    assert!(failed.is_empty(), "failed self-tests: {failed:?}\n{run}");
    assert_eq!(passed, plan, "every planned test reported:\n{run}");
    run.expect_stdout_line(&format!("tests: {plan} passed, 0 failed"));
}

#[test]
fn test_guest_kernel_banner_shows_cpus_memory_and_cmdline() {
    if !kvm_available() {
        return;
    }
    let run = boot_kernel(&[
        "--cpus",
        "2",
        "--memory",
        "512M",
        "--cmdline",
        "selftest=run answer=42",
    ]);
    run.expect_code(0);
    let banner = run.stdout.lines().next().unwrap_or_default();
    assert_eq!(
        banner, "guest-kernel 0.1.0: memory 511 MiB, cpus 2, cmdline \"selftest=run answer=42\"",
        "{run}"
    );
}

#[test]
fn test_guest_kernel_sees_eight_cpus_in_the_madt() {
    if !kvm_available() {
        return;
    }
    let run = boot_kernel(&["--cpus", "8"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with("guest-kernel 0.1.0: memory 255 MiB, cpus 8,"),
        "{run}"
    );
}

#[test]
fn test_guest_kernel_boots_with_ram_above_4g() {
    if !kvm_available() {
        return;
    }
    let run = boot_kernel(&["--memory", "5G"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with("guest-kernel 0.1.0: memory 5119 MiB, cpus 1"),
        "{run}"
    );
}

#[test]
fn test_tiny_guest_prints_its_line_and_exits_zero() {
    if !kvm_available() {
        return;
    }
    let tiny = tiny_guest();
    let run = run_vmm(&["--kernel", tiny.to_str().unwrap(), "--timeout", "30"]);
    run.expect_code(0).expect_stdout_line("tiny-guest: hello");
    assert!(
        run.stderr.is_empty(),
        "no VMM messages on a clean exit:\n{run}"
    );
}

#[test]
fn test_timings_flag_reports_first_output_exit_and_rss() {
    if !kvm_available() {
        return;
    }
    let tiny = tiny_guest();
    let run = run_vmm(&[
        "--kernel",
        tiny.to_str().unwrap(),
        "--timings",
        "--timeout",
        "30",
    ]);
    run.expect_code(0);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("vmm timings: "))
        .unwrap_or_else(|| panic!("no timings line:\n{run}"));
    let field = |name: &str| -> f64 {
        let value = line
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} missing in {line}"));
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value} is not a number"))
    };
    let (first, exit, rss) = (
        field("first_output_ms"),
        field("exit_ms"),
        field("peak_rss_kib"),
    );
    assert!(first > 0.0 && first <= exit, "{line}");
    assert!(rss > 0.0, "{line}");
}

/// A synthetic bzImage checks, from its 32-bit entry, what the Linux boot
/// protocol promises: ESI -> zero page with our header fields, command line,
/// e820 map, RSDP and initramfs, and the __BOOT_CS/__BOOT_DS selectors.
#[test]
fn test_bzimage_entry_gets_zero_page_cmdline_e820_initramfs_and_rsdp() {
    use iced_x86::code_asm::*;
    if !kvm_available() {
        return;
    }
    let ramdisk = b"INITRAMFS-PAYLOAD".repeat(100);
    let mut a = CodeAssembler::new(32).unwrap();
    let mut check = 0u8;
    let mut expect =
        |a: &mut CodeAssembler, op: &dyn Fn(&mut CodeAssembler) -> Result<(), IcedError>| {
            check += 1;
            let mut ok = a.create_label();
            op(a).unwrap();
            a.je(ok).unwrap();
            a.mov(al, check as u32).unwrap();
            a.out(0xf4, al).unwrap();
            a.hlt().unwrap();
            a.set_label(&mut ok).unwrap();
            a.nop().unwrap();
        };
    expect(&mut a, &|a| a.cmp(dword_ptr(esi + 0x202), 0x5372_6448)); // "HdrS"
    expect(&mut a, &|a| a.cmp(byte_ptr(esi + 0x210), 0xff)); // type_of_loader
    expect(&mut a, &|a| {
        a.mov(ebx, dword_ptr(esi + 0x228))?; // cmd_line_ptr
        a.cmp(dword_ptr(ebx), u32::from_le_bytes(*b"bzim"))
    });
    expect(&mut a, &|a| a.cmp(byte_ptr(esi + 0x1e8), 4)); // e820_entries (ECAM last)
    expect(&mut a, &|a| a.cmp(dword_ptr(esi + 0x2d0 + 20 * 2 + 16), 1)); // e820[2] is RAM
    expect(&mut a, &|a| a.cmp(dword_ptr(esi + 0x70), 0xe0000)); // acpi_rsdp_addr
    expect(&mut a, &|a| a.cmp(dword_ptr(esi + 0x21c), 1700)); // ramdisk_size
    expect(&mut a, &|a| {
        a.mov(ebx, dword_ptr(esi + 0x218))?; // ramdisk_image
        a.cmp(dword_ptr(ebx), u32::from_le_bytes(*b"INIT"))
    });
    expect(&mut a, &|a| {
        a.mov(eax, cs)?;
        a.cmp(eax, 0x10)
    });
    expect(&mut a, &|a| {
        a.mov(eax, ds)?;
        a.cmp(eax, 0x18)
    });
    a.mov(al, 0).unwrap();
    a.out(0xf4, al).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(integration::PVH_LOAD_ADDR).unwrap();
    let kernel = integration::scratch_file("bzimage-test", &integration::bzimage(&code, 0x10000));
    let initrd = integration::scratch_file("bzimage-test.initrd", &ramdisk);
    let run = run_vmm(&[
        "--kernel",
        kernel.to_str().unwrap(),
        "--initramfs",
        initrd.to_str().unwrap(),
        "--cmdline",
        "bzimage-test console=ttyS0",
        "--timeout",
        "30",
    ]);
    run.expect_code(0);
}

/// String port I/O: `rep outsb` to the UART delivers every byte (KVM hands
/// the VMM all of them in one exit).
#[test]
fn test_rep_outsb_to_the_uart_sends_every_byte() {
    use iced_x86::code_asm::*;
    if !kvm_available() {
        return;
    }
    let text = b"rep outsb reached the console\n";
    let mut a = CodeAssembler::new(32).unwrap();
    let mut message = a.create_label();
    a.mov(esp, 0x28_0000u32).unwrap();
    a.call(message).unwrap(); // pushes the text's address
    a.db(text).unwrap();
    a.set_label(&mut message).unwrap();
    a.pop(esi).unwrap();
    a.mov(ecx, text.len() as u32).unwrap();
    a.mov(dx, 0x3f8u32).unwrap();
    a.rep().outsb().unwrap();
    a.mov(al, 0).unwrap();
    a.out(0xf4, al).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(integration::PVH_LOAD_ADDR).unwrap();
    let path = integration::scratch_file("rep-outsb.elf", &integration::pvh_elf(&code, 0x1000));
    let run = run_vmm(&["--kernel", path.to_str().unwrap(), "--timeout", "30"]);
    run.expect_code(0)
        .expect_stdout_line("rep outsb reached the console");
}
