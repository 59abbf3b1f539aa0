//! Linux's own idxd and iaa_crypto drive our IAA model: idxd probes it and
//! (6.8+) configures work queue 0 for iaa_crypto at probe, iaa_crypto binds
//! it and registers `deflate-iaa`, and the kernel's crypto self-test of
//! `deflate-iaa` (compress, verify, decompress of zlib streams, all on the
//! device, each descriptor one MOVDIR64B the VMM completes) passes.

use std::time::Duration;

use integration::kvm_available;
use integration::linux::{referee_vmlinux, run_linux_script_with_cmdline, REFEREE_CMDLINE};

const CHECKS: &str = r#"
dmesg | grep -iE 'idxd|iaa|iax|dsa|alg:' | sed 's/^/dmesg: /'
# idxd's expected notes on a platform without ENQCMD or an IOMMU are not complaints.
dmesg | grep -iE 'idxd|iaa|iax|alg:' | grep -vE 'ENQCMD|user SVA' \
  | grep -iE "error|fail|warn|cmp-rec|timeout|bug" > /tmp/complaints
if [ -s /tmp/complaints ]; then
  while read -r line; do echo "complaint: $line"; done < /tmp/complaints
  result iaa_dmesg_clean fail
else
  result iaa_dmesg_clean pass
fi
dmesg | grep -q 'Intel(R) Accelerator Device (v100)' && result idxd_probe pass || result idxd_probe fail
read -r state < /sys/bus/dsa/devices/wq0.0/state
read -r driver < /sys/bus/dsa/devices/wq0.0/driver_name
[ "$state" = enabled ] && [ "$driver" = crypto ] && result wq_enabled pass || result wq_enabled fail "$state $driver"
grep -B2 -A10 'deflate-iaa' /proc/crypto | sed 's/^/crypto: /'
if grep -A10 'driver.*: deflate-iaa' /proc/crypto | grep -q 'selftest.*: passed'; then
  result deflate_iaa_selftest pass
else
  result deflate_iaa_selftest fail
fi
"#;

#[test]
fn test_referee_idxd_and_iaa_crypto_pass_the_deflate_iaa_self_test() {
    if !kvm_available() {
        return;
    }
    // The crypto self-tests are on for this boot: that is the check.
    let cmdline = REFEREE_CMDLINE.replace(" cryptomgr.notests", "");
    let run = run_linux_script_with_cmdline(
        "referee-iaa",
        &referee_vmlinux(),
        CHECKS,
        &cmdline,
        &["--memory", "256M", "--device", "iaa"],
        Duration::from_secs(300),
    );
    for name in [
        "iaa_dmesg_clean",
        "idxd_probe",
        "wq_enabled",
        "deflate_iaa_selftest",
    ] {
        run.expect_pass(name);
    }
    run.run.expect_code(0);
}
