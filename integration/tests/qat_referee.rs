//! Linux's own qat_420xx driver against our QAT 420xx model: it loads
//! Debian's qat_420xx firmware through the kernel's firmware loader (the
//! model takes it structurally), brings the device up through the real
//! probe path (PM handshake, engine loader, admin mailbox, rings), and the
//! kernel's crypto self-tests of every algorithm it registers pass through
//! our device; then it restarts the device for compression and
//! `qat_deflate` passes its self-test too.

use std::time::Duration;

use integration::kvm_available;
use integration::linux::{
    qat_firmware_overlay, referee_vmlinux, run_linux_script_with_overlay, REFEREE_CMDLINE,
};

const CHECKS: &str = r#"
dev=$(grep -l 0x4946 /sys/bus/pci/devices/*/device | head -n 1); dev=${dev%/device}
echo "qat device: $dev"
dmesg | grep -iE 'qat|alg:' | sed 's/^/dmesg: /'
read -r state < $dev/qat/state; read -r services < $dev/qat/cfg_services
echo "qat state=$state services=$services"
[ "$state" = up ] && result qat_up pass "$services" || result qat_up fail "$state"
dmesg | grep -q 'started 17 acceleration engines' && result qat_engines pass || result qat_engines fail
# Every qat_* algorithm registered, with its self-test verdict.
# The self-tests run asynchronously (cryptomgr): wait for the test larvals to go.
i=0
while grep -q '^type *: larval' /proc/crypto && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
echo "waited $i s for the self-tests"
awk '/^name/ { name = $3 } /^driver/ { driver = $3 } /^selftest/ { if (driver ~ /^qat_/) print driver, $3 }' /proc/crypto > /tmp/qat_algs
sed 's/^/alg: /' /tmp/qat_algs
n=$(wc -l < /tmp/qat_algs); bad=$(grep -vc ' passed$' /tmp/qat_algs)
[ "$n" -gt 0 ] && [ "$bad" = 0 ] && result qat_sym_selftests pass "$n" || result qat_sym_selftests fail "$n algs, $bad not passed"
# Restart for compression.
echo down > $dev/qat/state && echo dc > $dev/qat/cfg_services && echo up > $dev/qat/state
read -r state < $dev/qat/state
i=0
while grep -q '^type *: larval' /proc/crypto && [ $i -lt 120 ]; do sleep 1; i=$((i+1)); done
grep -B4 -A8 'qat_deflate' /proc/crypto | sed 's/^/proc-dc: /'
dmesg | grep -iE 'qat|alg:' | tail -n 20 | sed 's/^/after-dc: /'
if [ "$state" = up ] && grep -A6 'driver.*: qat_deflate' /proc/crypto | grep -q 'selftest.*: passed'; then
  result qat_dc_selftest pass
else
  result qat_dc_selftest fail "$state"
fi
dmesg | grep -iE 'qat|alg:' | grep -iE "fail|error|timeout|bug|warn" | grep -vE 'rsa|dh|ecdh|ecdsa' > /tmp/complaints
if [ -s /tmp/complaints ]; then
  while read -r line; do echo "complaint: $line"; done < /tmp/complaints
  result qat_dmesg_clean fail
else
  result qat_dmesg_clean pass
fi
"#;

#[test]
fn test_referee_qat_420xx_comes_up_and_its_algorithms_pass_their_self_tests() {
    if !kvm_available() {
        return;
    }
    let cmdline = REFEREE_CMDLINE.replace(" cryptomgr.notests", "");
    let overlay = qat_firmware_overlay();
    let run = run_linux_script_with_overlay(
        "referee-qat",
        &referee_vmlinux(),
        CHECKS,
        &cmdline,
        Some(&overlay),
        &["--memory", "256M", "--device", "qat"],
        Duration::from_secs(300),
    );
    for name in [
        "qat_up",
        "qat_engines",
        "qat_sym_selftests",
        "qat_dc_selftest",
        "qat_dmesg_clean",
    ] {
        run.expect_pass(name);
    }
    run.run.expect_code(0);
}
