//! Linux guests as test rigs: a busybox initramfs runs a test script under
//! the VMM, and the script reports `RESULT <name> pass|fail [detail]`
//! lines on the console, which the harness collects with the VMM's exit
//! code. Device issues call [`run_linux_script`] with their own script and
//! VMM flags against the referee kernel (real 6.8 drivers built in).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{run_vmm_until, scratch_file, Run};

/// Where the test script's lines start: everything before is boot noise.
const RESULT_PREFIX: &str = "RESULT ";
/// The last line the prelude prints before running the script.
pub const SCRIPT_START: &str = "linux-test: script starts";

/// One `RESULT` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The check's name (no spaces).
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Free text after the verdict.
    pub detail: String,
}

/// What a Linux test run produced.
#[derive(Debug)]
pub struct LinuxRun {
    /// The VMM's run (exit code, console, stderr).
    pub run: Run,
    /// The script's results, in order.
    pub results: Vec<TestResult>,
}

impl LinuxRun {
    /// The result named `name`, or a panic that shows the whole run.
    pub fn result(&self, name: &str) -> &TestResult {
        self.results
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no RESULT {name} in:\n{}", self.run))
    }

    /// Panics unless `name` passed.
    pub fn expect_pass(&self, name: &str) -> &TestResult {
        let r = self.result(name);
        assert!(r.passed, "RESULT {name} failed: {}\n{}", r.detail, self.run);
        r
    }
}

/// Parses `RESULT name pass|fail detail` lines.
pub fn parse_results(console: &str) -> Vec<TestResult> {
    console
        .lines()
        .filter_map(|line| line.trim_end().strip_prefix(RESULT_PREFIX))
        .filter_map(|rest| {
            let mut parts = rest.splitn(3, ' ');
            let name = parts.next()?.to_string();
            let passed = match parts.next()? {
                "pass" => true,
                "fail" => false,
                _ => return None,
            };
            let detail = parts.next().unwrap_or("").to_string();
            Some(TestResult {
                name,
                passed,
                detail,
            })
        })
        .collect()
}

/// The /init: mount the usual file systems, run `script` (sh), power off.
pub fn init_script(script: &str) -> String {
    format!(
        "#!/bin/sh\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n\
         mount -t devtmpfs devtmpfs /dev 2>/dev/null\n\
         exec </dev/console >/dev/console 2>&1\n\
         echo '{SCRIPT_START}'\n\
         result() {{ echo \"RESULT $*\"; }}\n\
         {script}\n\
         echo 'linux-test: script done'\n\
         poweroff -f\n"
    )
}

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

/// A newc initramfs with busybox and `script` as /init's body.
pub fn build_initramfs(name: &str, script: &str) -> PathBuf {
    build_initramfs_with(name, script, None)
}

/// [`build_initramfs`], plus the tree under `overlay` (e.g. `lib/firmware/...`).
pub fn build_initramfs_with(name: &str, script: &str, overlay: Option<&Path>) -> PathBuf {
    let init = scratch_file(&format!("{name}.init"), init_script(script).as_bytes());
    let out = init.with_extension("cpio");
    let mut command = Command::new("bash");
    command.arg(scripts_dir().join("linux-guest.sh")).args([
        "initramfs",
        init.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    if let Some(overlay) = overlay {
        command.arg(overlay);
    }
    let status = command.status().expect("running linux-guest.sh");
    assert!(
        status.success(),
        "building the initramfs failed (make linux-guest?)"
    );
    out
}

/// The directory holding `lib/firmware/qat_420xx*.bin` from Debian's
/// firmware-intel-misc (fetched on first use by `qat-firmware.sh`).
pub fn qat_firmware_overlay() -> PathBuf {
    let out = Command::new("bash")
        .arg(scripts_dir().join("qat-firmware.sh"))
        .arg("overlay")
        .output()
        .expect("running qat-firmware.sh");
    assert!(
        out.status.success(),
        "cannot fetch the QAT firmware:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The referee kernel's vmlinux (`make referee`), or `VMM_REFEREE_VMLINUX`.
pub fn referee_vmlinux() -> PathBuf {
    if let Some(path) = std::env::var_os("VMM_REFEREE_VMLINUX") {
        return PathBuf::from(path);
    }
    let out = Command::new("bash")
        .arg(scripts_dir().join("referee.sh"))
        .args(["path", "vmlinux"])
        .output()
        .expect("running referee.sh");
    assert!(
        out.status.success(),
        "the referee kernel is not built: run `make referee` (make test does)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The command line the referee boots with on any KVM: what kvm-pvm's
/// emulator cannot run is hidden (harmless on hardware KVM).
pub const REFEREE_CMDLINE: &str =
    "console=ttyS0 clearcpuid=cx16,ssse3,aes,pclmulqdq,smap,popcnt noxsave panic=-1 cryptomgr.notests";

/// Boots `kernel` with an initramfs running `script`, plus `vmm_args`; waits
/// for the power-off (or `limit`), and collects the results.
pub fn run_linux_script(
    name: &str,
    kernel: &Path,
    script: &str,
    vmm_args: &[&str],
    limit: Duration,
) -> LinuxRun {
    run_linux_script_with_cmdline(name, kernel, script, REFEREE_CMDLINE, vmm_args, limit)
}

/// [`run_linux_script`] with another kernel command line.
pub fn run_linux_script_with_cmdline(
    name: &str,
    kernel: &Path,
    script: &str,
    cmdline: &str,
    vmm_args: &[&str],
    limit: Duration,
) -> LinuxRun {
    run_linux_script_with_overlay(name, kernel, script, cmdline, None, vmm_args, limit)
}

/// [`run_linux_script_with_cmdline`] with `overlay`'s files in the initramfs.
pub fn run_linux_script_with_overlay(
    name: &str,
    kernel: &Path,
    script: &str,
    cmdline: &str,
    overlay: Option<&Path>,
    vmm_args: &[&str],
    limit: Duration,
) -> LinuxRun {
    let initrd = build_initramfs_with(name, script, overlay);
    let timeout = limit.as_secs().to_string();
    let mut args = vec![
        "--kernel",
        kernel.to_str().unwrap(),
        "--initramfs",
        initrd.to_str().unwrap(),
        "--cmdline",
        cmdline,
        "--timeout",
        &timeout,
    ];
    args.extend_from_slice(vmm_args);
    // The VMM ends on its own (power-off, timeout): no stop line.
    let (run, _) = run_vmm_until(&args, "\u{0}never\u{0}", limit + Duration::from_secs(30));
    let results = parse_results(&run.stdout);
    LinuxRun { run, results }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_parse_results_reads_verdicts_and_details() {
        let console = "[ 1.0] boot noise\nRESULT cpus pass 2\nRESULT acpi fail no MADT here\nRESULT bad maybe\nRESULT x pass\n";
        assert_eq!(
            parse_results(console),
            vec![
                TestResult {
                    name: "cpus".into(),
                    passed: true,
                    detail: "2".into()
                },
                TestResult {
                    name: "acpi".into(),
                    passed: false,
                    detail: "no MADT here".into()
                },
                TestResult {
                    name: "x".into(),
                    passed: true,
                    detail: String::new()
                },
            ]
        );
    }

    #[test]
    fn test_init_script_runs_the_script_then_powers_off() {
        let init = init_script("result one pass");
        let run_at = init.find("result one pass").unwrap();
        assert!(init.starts_with("#!/bin/sh\n"));
        assert!(init.find(SCRIPT_START).unwrap() < run_at);
        assert!(init.rfind("poweroff -f").unwrap() > run_at);
    }
}
