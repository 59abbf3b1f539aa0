//! virtio-net on a tap backend: the VMM runs inside a network namespace
//! this test creates (never the host's own network), attaches tap0 there,
//! the test gives tap0 an address, and the referee kernel's virtio_net
//! pings it.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use integration::kvm_available;
use integration::linux::{referee_vmlinux, run_linux_script};

/// A network namespace that is deleted when dropped.
struct Namespace(String);

impl Namespace {
    fn create(name: &str) -> Self {
        let _ = ip(&["netns", "del", name]);
        assert!(ip(&["netns", "add", name]), "ip netns add {name} failed");
        Self(name.to_owned())
    }

    /// Runs `ip ARGS` inside the namespace.
    fn ip(&self, args: &[&str]) -> bool {
        let mut all = vec!["-n", self.0.as_str()];
        all.extend_from_slice(args);
        ip(&all)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

const PING: &str = r#"
ip link set eth0 up && ip addr add 10.0.3.2/24 dev eth0
i=0
while [ $i -lt 60 ]; do ping -c 1 -W 1 10.0.3.1 >/dev/null 2>&1 && break; i=$((i+1)); done
if ping -c 3 -W 2 10.0.3.1; then result tap_ping pass; else result tap_ping fail; fi
"#;

#[test]
fn test_referee_pings_a_tap_in_a_test_made_namespace() {
    if !kvm_available() {
        return;
    }
    let ns = Namespace::create(&format!("vmmtap{}", std::process::id()));
    // The VMM is started through `ip netns exec`, by a wrapper the harness
    // runs in place of the binary (this file holds one test, so the
    // variable affects nothing else).
    let wrapper = integration::scratch_file(
        "tap-netns-vmm.sh",
        format!(
            "#!/bin/sh\nexec ip netns exec {} {} \"$@\"\n",
            ns.0,
            integration::vmm_bin().display()
        )
        .as_bytes(),
    );
    Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap();
    std::env::set_var("VMM_BIN", &wrapper);

    // Address tap0 as soon as the VMM has created it.
    let configure = {
        let name = ns.0.clone();
        thread::spawn(move || {
            let ns = Namespace(name);
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if ns.ip(&["link", "show", "tap0"]) {
                    let ok = ns.ip(&["addr", "add", "10.0.3.1/24", "dev", "tap0"])
                        && ns.ip(&["link", "set", "tap0", "up"]);
                    std::mem::forget(ns);
                    return ok;
                }
                thread::sleep(Duration::from_millis(50));
            }
            std::mem::forget(ns);
            false
        })
    };
    let run = run_linux_script(
        "referee-tap",
        &referee_vmlinux(),
        PING,
        &[
            "--memory",
            "128M",
            "--net",
            "tap=tap0,mac=52:54:00:00:03:02",
        ],
        Duration::from_secs(300),
    );
    assert!(
        configure.join().unwrap(),
        "tap0 never appeared in the namespace"
    );
    run.expect_pass("tap_ping");
    run.run.expect_code(0);
}
