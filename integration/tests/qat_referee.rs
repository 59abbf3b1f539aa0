//! Linux's own qat_420xx driver against our QAT 420xx model: it loads
//! Debian's qat_420xx firmware through the kernel's firmware loader (the
//! model takes it structurally), brings the device up through the real
//! probe path (PM handshake, engine loader, admin mailbox, rings), and the
//! kernel's crypto self-tests of every symmetric algorithm it registers
//! pass through our device, while the asymmetric ones (qat-rsa, qat-dh)
//! fail by design: the model answers every PKE request with the PKE error
//! status (spec 9.8). A second boot restarts the device for compression
//! and `qat_deflate` passes its self-test too.
//!
//! Two boots, run in parallel, because of what Linux 6.12 does here:
//! qat-dh's tfm init takes a device reference, then allocates its software
//! fallback "dh", which waits (60 s at most) for dh-generic's self-test;
//! under kvm-pvm that test computes for many minutes, the allocation times
//! out, and `qat_dh_init_tfm` returns without dropping the reference, so
//! the device stays busy and can never be brought down in that boot. The
//! restart boot therefore boots with `cryptomgr.notests` (nothing tests at
//! boot, no tfm is left behind) and turns the self-tests on before the
//! restart, so `qat_deflate` is tested for real.
//!
//! Where the time goes (one vCPU each): ~12 s of boot; ~100 s of probe,
//! nearly all of it the driver checksumming the 665 KB MOF and the 133 KB
//! SUOF image once per firmware object (five objects for `sym;asym`, ~20 s
//! an object: ~800 KB x ~81 emulated instructions a byte); then ~60 s of
//! qat-dh's fallback wait, or ~60 s for the restart (three objects for
//! `dc`).

use std::time::{Duration, Instant};

use integration::kvm_available;
use integration::linux::{
    qat_firmware_overlay, referee_vmlinux, run_linux_script_with_overlay, LinuxRun, REFEREE_CMDLINE,
};

/// Shell helpers both boots use (at the highest priority): the device,
/// uptime, /proc/crypto as
/// "driver selftest type" lines (a test larval has type larval), and a
/// bounded wait for the test larvals of the drivers matching $1 (cryptomgr
/// tests each algorithm in its own thread).
const COMMON: &str = r#"
# The script first: rsa-generic's and dh-generic's self-tests compute for
# minutes and would otherwise take most of the vCPU from it.
renice -n -20 $$ >/dev/null
t() { cut -d' ' -f1 /proc/uptime; }
dev=$(grep -l 0x4946 /sys/bus/pci/devices/*/device | head -n 1); dev=${dev%/device}
echo "qat device: $dev (uptime $(t) s)"
algs() { awk '/^driver/ { d = $3 } /^selftest/ { s = $3 } /^type/ { print d, s, $3 }' /proc/crypto; }
wait_larvals() {
  i=0
  while algs | grep -qE "^$1 .* larval$" && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
  echo "waited $i s for the self-tests of $1 (uptime $(t) s)"
}
# testmgr's "self-tests ... failed" line has no newline: a record of ours
# completes it before dmesg is read.
dmesg_now() { echo "qat-referee: check" > /dev/kmsg; dmesg; }
read -r state < $dev/qat/state; read -r services < $dev/qat/cfg_services
echo "qat state=$state services=$services"
[ "$state" = up ] && result qat_up pass "$services" || result qat_up fail "$state"
dmesg_now | grep -q 'started 17 acceleration engines' && result qat_engines pass || result qat_engines fail
"#;

/// The first boot: self-tests at registration, as Linux runs them.
const SELF_TESTS: &str = r#"
dmesg_now | grep -iE 'qat|alg:' | sed 's/^/dmesg: /'
wait_larvals 'qat_[a-z0-9_]+'
algs | grep -E '^qat[-_]' | sed 's/^/alg: /'
# Every symmetric qat_* algorithm (cbc, ctr, xts, authenc x3) passed.
algs | grep -E '^qat_' | grep -v ' larval$' > /tmp/qat_sym
n=$(wc -l < /tmp/qat_sym); bad=$(grep -vc ' passed ' /tmp/qat_sym)
[ "$n" -ge 6 ] && [ "$bad" = 0 ] && result qat_sym_selftests pass "$n" || result qat_sym_selftests fail "$n algs, $bad not passed"
# The asymmetric algorithms fail by design: every PKE request is answered
# with the PKE error, which the driver's callback turns into -EINVAL.
# qat-dh's tfm first allocates its software fallback "dh", which waits
# (60 s at most) for dh-generic's self-test; while that still runs, qat-dh
# ends with -ETIMEDOUT before reaching the device.
wait_larvals 'qat-[a-z]+'
for a in rsa dh; do
  line=$(dmesg_now | grep "self-tests for $a using qat-$a failed")
  echo "qat-$a: ${line:-no failure reported}"
  case "$a:$line" in
    *"(rc=-22)"*|dh:*"(rc=-110)"*) rc=${line##*(}; result qat_${a}_fails_by_design pass "${rc%)}" ;;
    *) result qat_${a}_fails_by_design fail "${line:-no failure}" ;;
  esac
done
# No complaint from the driver or the self-tests but those failures.
dmesg_now | grep -iE 'qat|alg:' | grep -iE "fail|error|timeout|bug|warn|busy" \
  | grep -vE 'alg: (akcipher|kpp): |alg: self-tests for (rsa|dh) using qat-(rsa|dh) failed' > /tmp/complaints
if [ -s /tmp/complaints ]; then
  while read -r line; do echo "complaint: $line"; done < /tmp/complaints
  result qat_dmesg_clean fail
else
  result qat_dmesg_clean pass
fi
echo "checks done (uptime $(t) s)"
"#;

/// The second boot (`cryptomgr.notests`): self-tests on, then the restart
/// for compression.
const RESTART: &str = r#"
echo 0 > /sys/module/cryptomgr/parameters/notests
read -r notests < /sys/module/cryptomgr/parameters/notests
echo "restart for dc, self-tests on: notests=$notests (uptime $(t) s)"
echo down > $dev/qat/state && echo dc > $dev/qat/cfg_services && echo up > $dev/qat/state
read -r state < $dev/qat/state; read -r services < $dev/qat/cfg_services
echo "qat state=$state services=$services after the restart (uptime $(t) s)"
wait_larvals qat_deflate
algs | grep -E '^qat' | sed 's/^/proc-dc: /'
dmesg_now | grep -iE 'qat|alg:' | sed 's/^/dmesg: /'
if [ "$notests" = N ] && [ "$state" = up ] && [ "$services" = dc ] \
  && dmesg_now | grep -q 'started 9 acceleration engines' \
  && algs | grep '^qat_deflate ' | grep -v ' larval$' | grep -q ' passed '; then
  result qat_dc_selftest pass
else
  result qat_dc_selftest fail "$notests $state $services"
fi
dmesg_now | grep -iE 'qat|alg:' | grep -iE "fail|error|timeout|bug|warn|busy" > /tmp/complaints
if [ -s /tmp/complaints ]; then
  while read -r line; do echo "complaint: $line"; done < /tmp/complaints
  result qat_dmesg_clean fail
else
  result qat_dmesg_clean pass
fi
echo "checks done (uptime $(t) s)"
"#;

/// Boots the referee with the QAT device and Debian's firmware, runs
/// `script` after [`COMMON`], prints the script's lines (tagged `name`),
/// and checks `results` passed and the guest powered off.
fn referee(name: &str, script: &str, cmdline: &str, results: &[&str]) -> LinuxRun {
    let overlay = qat_firmware_overlay();
    let started = Instant::now();
    let run = run_linux_script_with_overlay(
        name,
        &referee_vmlinux(),
        &format!("{COMMON}{script}"),
        cmdline,
        Some(&overlay),
        &["--memory", "256M", "--device", "qat"],
        Duration::from_secs(420),
    );
    // The script's own lines (the kernel's are in its dmesg excerpts).
    for line in run.run.stdout.lines().filter(|l| !l.starts_with('[')) {
        eprintln!("{name}: {line}");
    }
    eprintln!(
        "{name}: the VM ran {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for result in ["qat_up", "qat_engines"].iter().chain(results) {
        run.expect_pass(result);
    }
    run.run.expect_code(0);
    run
}

#[test]
fn test_referee_qat_420xx_comes_up_and_its_algorithms_pass_their_self_tests() {
    if !kvm_available() {
        return;
    }
    referee(
        "referee-qat",
        SELF_TESTS,
        &REFEREE_CMDLINE.replace(" cryptomgr.notests", ""),
        &[
            "qat_sym_selftests",
            "qat_rsa_fails_by_design",
            "qat_dh_fails_by_design",
            "qat_dmesg_clean",
        ],
    );
}

#[test]
fn test_referee_qat_420xx_restarts_for_compression_and_deflate_passes_its_self_test() {
    if !kvm_available() {
        return;
    }
    assert!(REFEREE_CMDLINE.contains(" cryptomgr.notests"));
    referee(
        "referee-qat-dc",
        RESTART,
        REFEREE_CMDLINE,
        &["qat_dc_selftest", "qat_dmesg_clean"],
    );
}
