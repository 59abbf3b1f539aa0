//! bpf(2) in our kernel, from user space: `rdinit=/bin/bpf`
//! (guest-kernel/user/src/bin/bpf.rs) creates maps, loads an XDP program the
//! verifier accepts, runs it with BPF_PROG_TEST_RUN, reads the map it
//! updated, has an unsafe program rejected with EACCES and its reason in
//! the log, and checks Linux's error codes (EINVAL, E2BIG, ENOENT, EFAULT,
//! EBADF).

use integration::{guest_kernel, initramfs, kvm_available, run_vmm, Run};

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

#[test]
fn test_bpf_syscall_maps_prog_load_test_run_and_verifier_reject() {
    if !kvm_available() {
        return;
    }
    let run = boot("rdinit=/bin/bpf");
    run.expect_code(0)
        .expect_stdout_line("bpf: verifier accepts the XDP program ok")
        .expect_stdout_line("bpf: test run (repeat 3) returns XDP_PASS ok")
        .expect_stdout_line("bpf: map[0] = 0xdeadbeef count 3")
        .expect_stdout_line("bpf: the program updated the map ok")
        .expect_stdout_line("bpf: unchecked packet read: EACCES with the reason logged ok")
        .expect_stdout_line(
            "bpf: reject reason: invalid access to packet, off=0 size=4, R2(id=0,off=0,r=0)",
        )
        .expect_stdout_line("bpf_trace_printk: hi")
        .expect_stdout_line("bpf: 30 checks, 0 failed")
        .expect_stdout_line("user: pid 1 (/bin/bpf) exited with status 0");
    let failed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("bpf: ") && l.contains("FAILED"))
        .collect();
    assert!(failed.is_empty(), "{run}");
    // Nothing fell through to ENOSYS.
    assert!(!run.stdout.contains("unknown system calls"), "{run}");
}
