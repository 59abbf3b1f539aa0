//! Bad input gets one clear line on stderr and a non-zero exit code, never a
//! panic. None of these needs KVM except where the test names it.

use integration::{
    fake_pvh_elf, guest_kernel, kvm_available, run_vmm, run_vmm_env, scratch_file, vmm_bin, Run,
};

const USAGE: i32 = 64;
const KVM_UNAVAILABLE: i32 = 65;

fn kernel_arg() -> String {
    guest_kernel().to_str().unwrap().to_string()
}

fn usage_error(args: &[&str], expected: &str) -> Run {
    let run = run_vmm(args);
    run.expect_code(USAGE)
        .expect_one_line_error()
        .expect_stderr(expected);
    run
}

#[test]
fn test_missing_kernel_file() {
    usage_error(
        &["--kernel", "/nonexistent/vmlinux"],
        "cannot open kernel /nonexistent/vmlinux",
    );
}

#[test]
fn test_kernel_that_is_a_directory() {
    usage_error(&["--kernel", "/"], "is a directory");
}

#[test]
fn test_kernel_that_is_not_an_executable_format() {
    let path = scratch_file("not-a-kernel.txt", b"#!/bin/sh\necho hello\n");
    usage_error(
        &["--kernel", path.to_str().unwrap()],
        "is neither an ELF kernel with a PVH note nor a bzImage",
    );
}

#[test]
fn test_empty_kernel_file() {
    let path = scratch_file("empty-kernel", b"");
    usage_error(&["--kernel", path.to_str().unwrap()], "is neither an ELF");
}

#[test]
fn test_elf_without_pvh_note() {
    let vmm = vmm_bin();
    usage_error(
        &["--kernel", vmm.to_str().unwrap()],
        "is an ELF without a PVH entry note",
    );
}

#[test]
fn test_bzimage_with_an_old_boot_protocol_is_refused() {
    let mut image = vec![0u8; 0x400];
    image[0x202..0x206].copy_from_slice(b"HdrS");
    image[0x206..0x208].copy_from_slice(&0x0201u16.to_le_bytes());
    let path = scratch_file("old-bzimage", &image);
    usage_error(
        &["--kernel", path.to_str().unwrap()],
        "boot protocol 2.01; 2.06 or later is needed",
    );
}

#[test]
fn test_bzimage_that_decompresses_beyond_memory() {
    // 64 MiB init_size: the kernel needs RAM to 65 MiB.
    let path = scratch_file("big-bzimage", &integration::bzimage(&[0xf4], 64 << 20));
    usage_error(
        &["--kernel", path.to_str().unwrap(), "--memory", "32M"],
        "needs guest RAM up to 0x4100000 (65 MiB), but --memory gives 32 MiB",
    );
}

#[test]
fn test_cmdline_longer_than_the_bzimage_takes() {
    let path = scratch_file(
        "small-cmdline-bzimage",
        &integration::bzimage(&[0xf4], 0x1000),
    );
    let long = "y".repeat(300);
    usage_error(
        &["--kernel", path.to_str().unwrap(), "--cmdline", &long],
        "takes at most 255",
    );
}

#[test]
fn test_memory_too_small_for_kernel() {
    let path = scratch_file("big-kernel.elf", &fake_pvh_elf(64 << 20));
    usage_error(
        &["--kernel", path.to_str().unwrap(), "--memory", "16M"],
        "needs guest RAM up to 0x4100000 (65 MiB), but --memory gives 16 MiB",
    );
}

#[test]
fn test_memory_below_minimum() {
    usage_error(&["--kernel", &kernel_arg(), "--memory", "1M"], "too small");
}

#[test]
fn test_memory_above_host_ram() {
    usage_error(
        &["--kernel", &kernel_arg(), "--memory", "64T"],
        "more than the host's RAM",
    );
}

#[test]
fn test_malformed_memory_size() {
    usage_error(
        &["--kernel", &kernel_arg(), "--memory", "lots"],
        "'lots' is not a size",
    );
}

#[test]
fn test_zero_cpus() {
    usage_error(&["--kernel", &kernel_arg(), "--cpus", "0"], "--cpus");
}

#[test]
fn test_negative_timeout() {
    usage_error(&["--kernel", &kernel_arg(), "--timeout", "-3"], "--timeout");
}

#[test]
fn test_unknown_flag() {
    usage_error(&["--kernel", &kernel_arg(), "--memroy", "1G"], "--memroy");
}

#[test]
fn test_missing_kernel_flag() {
    usage_error(&[], "--kernel");
}

#[test]
fn test_missing_initramfs_file() {
    usage_error(
        &[
            "--kernel",
            &kernel_arg(),
            "--initramfs",
            "/nonexistent/initrd",
        ],
        "cannot open initramfs /nonexistent/initrd",
    );
}

#[test]
fn test_command_line_too_long() {
    let long = "x".repeat(4096);
    usage_error(
        &["--kernel", &kernel_arg(), "--cmdline", &long],
        "--cmdline is 4096 bytes",
    );
}

#[test]
fn test_kvm_device_missing() {
    let run = run_vmm_env(
        &["--kernel", &kernel_arg()],
        &[("VMM_KVM_DEVICE", "/nonexistent/kvm")],
    );
    run.expect_code(KVM_UNAVAILABLE)
        .expect_one_line_error()
        .expect_stderr("/nonexistent/kvm does not exist");
}

#[test]
fn test_kvm_device_that_is_not_kvm() {
    let run = run_vmm_env(
        &["--kernel", &kernel_arg()],
        &[("VMM_KVM_DEVICE", "/dev/null")],
    );
    run.expect_code(KVM_UNAVAILABLE)
        .expect_one_line_error()
        .expect_stderr("/dev/null is not a KVM device");
}

#[test]
fn test_too_many_cpus_for_kvm() {
    if !kvm_available() {
        return;
    }
    // 255 vCPUs passes the flag's range; KVM's limit may be lower or higher,
    // so either the guest boots or the error names the limit.
    let run = run_vmm(&[
        "--kernel",
        &kernel_arg(),
        "--cpus",
        "255",
        "--timeout",
        "60",
    ]);
    match run.code {
        Some(0) => assert!(run.stdout.contains("cpus 255"), "{run}"),
        _ => {
            run.expect_code(USAGE)
                .expect_one_line_error()
                .expect_stderr("more than KVM allows");
        }
    }
}

#[test]
fn test_help_lists_flags_and_exit_codes() {
    let run = run_vmm(&["--help"]);
    run.expect_code(0);
    for text in [
        "--kernel",
        "--initramfs",
        "--cmdline",
        "--memory",
        "--cpus",
        "--timeout",
        "--timings",
        "--disk",
        "--net",
        "--rng",
        "--trace",
        "Exit codes:",
        "68    --timeout expired",
    ] {
        assert!(run.stdout.contains(text), "--help lacks {text:?}:\n{run}");
    }
}

#[test]
fn test_missing_disk_image() {
    let kernel = kernel_arg();
    usage_error(
        &["--kernel", &kernel, "--disk", "path=/nonexistent/disk.img"],
        "--disk: disk image /nonexistent/disk.img: No such file or directory",
    );
}

#[test]
fn test_disk_image_that_is_a_directory() {
    let kernel = kernel_arg();
    usage_error(
        &["--kernel", &kernel, "--disk", "path=/"],
        "is not a regular file or block device",
    );
}

#[test]
fn test_malformed_disk_argument() {
    let kernel = kernel_arg();
    usage_error(
        &["--kernel", &kernel, "--disk", "path=a.img,cache=none"],
        "unknown disk option 'cache'",
    );
}

#[test]
fn test_net_socket_in_missing_directory() {
    let kernel = kernel_arg();
    usage_error(
        &[
            "--kernel",
            &kernel,
            "--net",
            "socket=/nonexistent/dir/a.sock,peer=/tmp/b.sock",
        ],
        "--net: cannot bind socket /nonexistent/dir/a.sock",
    );
}

#[test]
fn test_net_without_peer() {
    let kernel = kernel_arg();
    usage_error(
        &["--kernel", &kernel, "--net", "socket=/tmp/a.sock"],
        "socket=PATH,peer=PATH or tap=NAME is required",
    );
}

/// A disk image another process holds locked is refused, so two VMs
/// never write one image; readonly disks share a lock.
#[test]
fn test_disk_image_locked_by_another_process() {
    let image = scratch_file("locked-disk.img", &[0u8; 4096]);
    let holder = std::fs::File::open(&image).unwrap();
    holder.try_lock().unwrap();
    let kernel = kernel_arg();
    let arg = format!("path={}", image.display());
    usage_error(
        &["--kernel", &kernel, "--disk", &arg],
        "is in use by another process (locked)",
    );
    holder.unlock().unwrap();
    holder.try_lock_shared().unwrap();
    let readonly = format!("path={},readonly=on", image.display());
    if kvm_available() {
        let run = run_vmm(&["--kernel", &kernel, "--disk", &readonly, "--timeout", "60"]);
        run.expect_code(0);
    }
}
