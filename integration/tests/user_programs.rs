//! Our kernel runs the initramfs's user programs (guest-kernel/user) in
//! ring 3: a musl C program, bad pointers, a segfault, the system calls,
//! multi-size THP policy and counters, and the page-fault figures.

use integration::{guest_kernel, initramfs, kvm_available, run_vmm, Run};

/// Boots our kernel with the initramfs and `cmdline`.
fn boot(cmdline: &str) -> Run {
    let kernel = guest_kernel();
    let initrd = initramfs();
    run_vmm(&[
        "--kernel",
        kernel.to_str().unwrap(),
        "--initramfs",
        initrd.to_str().unwrap(),
        "--cmdline",
        cmdline,
        "--timeout",
        "90",
    ])
}

fn lines_with<'a>(run: &'a Run, prefix: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with(prefix))
        .collect()
}

#[test]
fn test_musl_init_prints_mallocs_uses_sse_and_exits_with_its_status() {
    if !kvm_available() {
        return;
    }
    let run = boot("console=ttyS0");
    run.expect_code(42)
        .expect_stdout_line("hello from musl: pid 1, argc 1, argv[0] /init")
        .expect_stdout_line("malloc: small block says brk, big block has 256 pages")
        .expect_stdout_line("floating point: 1.750")
        .expect_stdout_line("exiting with status 42")
        .expect_stdout_line("user: pid 1 (/init) exited with status 42");
    assert!(!run.stdout.contains("unknown system calls"), "{run}");
}

#[test]
fn test_musl_static_pie_gets_its_arguments() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/hello-pie -- 7");
    run.expect_code(7)
        .expect_stdout_line("hello from musl: pid 1, argc 2, argv[0] /bin/hello-pie")
        .expect_stdout_line("user: pid 1 (/bin/hello-pie) exited with status 7");
}

#[test]
fn test_rust_hello_runs_in_ring_3() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/hello -- 5");
    run.expect_code(5)
        .expect_stdout_line("hello from ring 3: pid 1, argc 2");
}

#[test]
fn test_bad_pointers_get_efault_and_the_kernel_survives() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/efault,/bin/hello");
    run.expect_code(0)
        .expect_stdout_line("efault: kernel survived, 0 wrong")
        .expect_stdout_line("user: pid 1 (/bin/efault) exited with status 0")
        .expect_stdout_line("hello from ring 3: pid 2, argc 1");
    assert_eq!(lines_with(&run, "efault: ").len(), 6, "{run}");
    assert!(!run.stdout.contains("WRONG"), "{run}");
}

#[test]
fn test_segfault_kills_only_that_process() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/segv,/bin/hello-musl");
    run.expect_code(42)
        .expect_stdout_line("user: pid 1 (/bin/segv) killed by signal 11")
        .expect_stdout_line("user: pid 2 (/bin/hello-musl) exited with status 42");
    let line = lines_with(&run, "segv[1]: segfault at 10 ip ");
    assert_eq!(line.len(), 1, "Linux's segfault line:\n{run}");
    assert!(
        line[0].ends_with("error 6"),
        "a user write to a missing page:\n{run}"
    );
    assert!(!run.stdout.contains("segv: still alive"), "{run}");
}

#[test]
fn test_killed_program_status_is_128_plus_signal_capped_by_the_vmm() {
    if !kvm_available() {
        return;
    }
    // 128 + SIGSEGV; the VMM reserves codes above 63 and caps the value.
    boot("rdinit=/bin/segv")
        .expect_code(63)
        .expect_stderr("guest exit value 139 is above 63");
}

#[test]
fn test_out_of_memory_kills_only_that_process() {
    if !kvm_available() {
        return;
    }
    let kernel = guest_kernel();
    let initrd = initramfs();
    let run = run_vmm(&[
        "--kernel",
        kernel.to_str().unwrap(),
        "--initramfs",
        initrd.to_str().unwrap(),
        "--memory",
        "128M",
        "--cmdline",
        "rdinit=/bin/segv,/bin/hello -- oom",
        "--timeout",
        "90",
    ]);
    run.expect_code(0)
        .expect_stdout_line("Out of memory: Killed process 1 (segv)")
        .expect_stdout_line("user: pid 1 (/bin/segv) killed by signal 9")
        .expect_stdout_line("user: pid 2 (/bin/hello) exited with status 0");
}

#[test]
fn test_system_calls_behave_as_linux_documents() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/syscalls");
    run.expect_code(0)
        .expect_stdout_line("syscalls: 0 failed")
        .expect_stdout_line("user: pid 1: 1 unknown system calls (ENOSYS): 999");
    assert!(lines_with(&run, "syscalls: ").len() >= 16, "{run}");
}

/// On kvm-pvm every system call arrives as the user-mode #PF at LSTAR; on
/// hardware KVM through the SYSCALL entry (and SYSRET back).
#[test]
fn test_system_calls_arrive_by_this_hosts_path() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/hello");
    run.expect_code(0);
    let line = lines_with(&run, "user: system calls: ");
    assert_eq!(line.len(), 1, "{run}");
    let numbers: Vec<u64> = line[0]
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (entry, pvm) = (numbers[0], numbers[1]);
    assert!(
        entry + pvm >= 3,
        "write, getpid, exit_group at least:\n{run}"
    );
    if std::path::Path::new("/sys/module/kvm_pvm").exists() {
        assert_eq!(entry, 0, "kvm-pvm: no SYSCALL reaches CPL0:\n{run}");
    } else {
        assert_eq!(pvm, 0, "hardware KVM: SYSCALL enters the kernel:\n{run}");
    }
}

#[test]
fn test_missing_init_is_reported() {
    if !kvm_available() {
        return;
    }
    boot("rdinit=/bin/nope")
        .expect_code(1)
        .expect_stdout_line("user: cannot run /bin/nope: error -2");
}

#[test]
fn test_thp_64k_only_maps_64k_folios() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/thp -- 64k");
    run.expect_code(0)
        .expect_stdout_line("thp 64k: 32 faults for 2 MiB (expected 32)")
        .expect_stdout_line("thp 64k: 64kB folios +32 (expected +32)")
        .expect_stdout_line("thp 64k: ok");
}

#[test]
fn test_thp_all_never_maps_4k_pages_only() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/thp -- never");
    run.expect_code(0)
        .expect_stdout_line("thp never: 512 faults for 2 MiB (expected 512)")
        .expect_stdout_line("thp never: ok");
    assert!(!run.stdout.contains("folios +"), "{run}");
}

#[test]
fn test_thp_madv_nohugepage_beats_always() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/thp -- nohuge");
    run.expect_code(0)
        .expect_stdout_line("thp nohuge: 512 faults for 2 MiB (expected 512)")
        .expect_stdout_line("thp nohuge: ok");
}

#[test]
fn test_thp_2m_folio_takes_one_fault() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/thp -- 2m");
    run.expect_code(0)
        .expect_stdout_line("thp 2m: 1 faults for 2 MiB (expected 1)")
        .expect_stdout_line("thp 2m: ok");
}

#[test]
fn test_thp_boot_parameters_set_the_sysfs_files() {
    if !kvm_available() {
        return;
    }
    let run = boot(
        "transparent_hugepage=madvise thp_anon=16K-64K:always;2M:never;256K:madvise \
         rdinit=/bin/thp -- show",
    );
    run.expect_code(0)
        .expect_stdout_line("thp: top always [madvise] never")
        .expect_stdout_line("thp: 32kB [always] inherit madvise never")
        .expect_stdout_line("thp: 64kB [always] inherit madvise never")
        .expect_stdout_line("thp: 128kB always inherit madvise [never]")
        .expect_stdout_line("thp: 256kB always inherit [madvise] never")
        .expect_stdout_line("thp: 2048kB always inherit madvise [never]");
}

/// guest-mm's defaults: Linux's with CONFIG_TRANSPARENT_HUGEPAGE_NEVER.
#[test]
fn test_thp_defaults_are_never_with_2m_inherit() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/thp -- show");
    run.expect_code(0)
        .expect_stdout_line("thp: top always madvise [never]")
        .expect_stdout_line("thp: 64kB always inherit madvise [never]")
        .expect_stdout_line("thp: 2048kB always [inherit] madvise never");
}

/// The figures: page faults per MiB touched with 4 KiB pages, 64 KiB
/// folios and 2 MiB folios (8 MiB each), and the time per MiB on this host.
#[test]
fn test_fault_figures_per_mib_for_4k_64k_2m() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/thp -- figures");
    run.expect_code(0);
    let figures = lines_with(&run, "figure: ");
    for line in &figures {
        println!("{line}");
    }
    for (label, faults) in [("4K", "256.0"), ("64K", "16.0"), ("2M", "0.5")] {
        let prefix = format!("figure: {label} {faults} faults per MiB, ");
        assert!(
            figures.iter().any(|l| l.starts_with(&prefix)),
            "no {prefix:?}:\n{run}"
        );
    }
}

#[test]
fn test_selftest_run_with_initramfs_keeps_the_kernel_tests() {
    if !kvm_available() {
        return;
    }
    let run = boot("selftest=run");
    run.expect_code(0);
    assert!(run.stdout.contains("tests: "), "{run}");
    assert!(!run.stdout.contains("user: pid"), "{run}");
}
