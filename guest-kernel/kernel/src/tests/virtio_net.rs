//! virtio-net: sends a broadcast test frame (EtherType 0x88b5, local
//! experimental) every 200 ms until the peer's test frame arrives (at most
//! 20 s), then sends one more so the peer gets one too. Prints
//! `net: <our mac> got <len> bytes from <peer mac>`. Skipped without a
//! network device.

use alloc::vec;
use alloc::vec::Vec;

use guest_drivers::virtio::{DEVICE_TYPE_NET, MAX_FRAME, VirtioNet};

use super::{TestResult, ensure, skip};
use crate::hal::KernelHal;
use crate::{apic, msi, pci, println};

/// EtherType of the test frames (IEEE 802 local experimental 1).
const ETHERTYPE: [u8; 2] = [0x88, 0xb5];
/// Payload marker.
const MARKER: &[u8] = b"guest-kernel virtio_net test";
/// Minimum Ethernet frame without FCS.
const MIN_FRAME: usize = 60;
/// How long one receive attempt waits before the frame is sent again.
const ATTEMPT_MS: u64 = 200;
/// How long the test waits for the peer in all.
const TOTAL_MS: u64 = 20_000;
/// Milliseconds per timer tick.
const TICK_MS: u64 = 10;

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
struct Mac<'a>(&'a [u8]);

impl core::fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { ":" };
            write!(f, "{sep}{byte:02x}")?;
        }
        Ok(())
    }
}

fn test_frame(source: &[u8; 6]) -> Vec<u8> {
    let mut frame = vec![0xff; 6];
    frame.extend_from_slice(source);
    frame.extend_from_slice(&ETHERTYPE);
    frame.extend_from_slice(MARKER);
    frame.resize(MIN_FRAME, 0);
    frame
}

/// A test frame from someone else: our EtherType and marker, not our MAC.
fn is_peer_frame(frame: &[u8], own: &[u8; 6]) -> bool {
    frame.len() >= 14 + MARKER.len()
        && frame[12..14] == ETHERTYPE
        && frame[14..14 + MARKER.len()] == *MARKER
        && frame[6..12] != own[..]
}

pub fn run() -> TestResult {
    let Some(device) = pci::virtio_devices(DEVICE_TYPE_NET).next() else {
        return skip("no virtio-net");
    };
    let mut net = VirtioNet::new(KernelHal::new(), device, Some(msi::target()))
        .map_err(|e| alloc::format!("{}: {e}", device.bdf))?;
    let mac = net.mac().ok_or("device has no MAC address")?;
    let frame = test_frame(&mac);
    let mut buf = vec![0u8; MAX_FRAME];
    let start = apic::ticks();
    let peer = loop {
        net.send(&frame).map_err(|e| alloc::format!("send: {e}"))?;
        let got = net
            .receive(&mut buf, ATTEMPT_MS)
            .map_err(|e| alloc::format!("receive: {e}"))?;
        if let Some(len) = got.filter(|&len| is_peer_frame(&buf[..len], &mac)) {
            break len;
        }
        ensure!(
            (apic::ticks() - start) * TICK_MS < TOTAL_MS,
            "no frame from a peer within {TOTAL_MS} ms"
        );
    };
    net.send(&frame).map_err(|e| alloc::format!("send: {e}"))?;
    println!(
        "net: {} got {peer} bytes from {}",
        Mac(&mac),
        Mac(&buf[6..12])
    );
    Ok(())
}
