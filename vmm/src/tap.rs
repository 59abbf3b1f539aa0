//! A virtio-net backend on a Linux tap interface: one `read` is one
//! Ethernet frame from the host side, one `write` one frame to it. The
//! interface is created (or attached, if it exists and we may) by name with
//! TUNSETIFF; configuring its address and bringing it up is the host's
//! business (or a test's, inside a network namespace it made).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

use devices::virtio::NetBackend;
use thiserror::Error;

/// The tun/tap control device.
const TUN_DEVICE: &str = "/dev/net/tun";

/// Errors opening a tap interface.
#[derive(Debug, Error)]
pub enum TapError {
    /// The name is empty, too long for IFNAMSIZ, or has a NUL or a slash.
    #[error("tap name '{0}' must be 1 to 15 bytes without '/' or NUL")]
    Name(String),
    /// /dev/net/tun could not be opened.
    #[error("cannot open {TUN_DEVICE}: {0}")]
    Open(io::Error),
    /// TUNSETIFF refused (no CAP_NET_ADMIN, or the interface is not a tap).
    #[error("cannot attach tap '{name}' (TUNSETIFF): {source}")]
    Attach {
        /// The interface name.
        name: String,
        /// The kernel's answer.
        source: io::Error,
    },
}

/// An open tap interface.
#[derive(Debug)]
pub struct TapBackend {
    file: File,
}

/// `struct ifreq` as TUNSETIFF reads it: the name, then the flags.
#[repr(C)]
struct IfReqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    /// The rest of the union (ifreq is 40 bytes on x86_64).
    _pad: [u8; 22],
}

impl TapBackend {
    /// Creates or attaches the tap interface `name` (no packet-info
    /// header, no virtio-net header: plain frames), non-blocking.
    pub fn open(name: &str) -> Result<Self, TapError> {
        let bytes = name.as_bytes();
        if bytes.is_empty()
            || bytes.len() >= libc::IFNAMSIZ
            || bytes.contains(&0)
            || bytes.contains(&b'/')
        {
            return Err(TapError::Name(name.to_owned()));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(TUN_DEVICE)
            .map_err(TapError::Open)?;
        let mut request = IfReqFlags {
            name: [0; libc::IFNAMSIZ],
            flags: (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short,
            _pad: [0; 22],
        };
        request.name[..bytes.len()].copy_from_slice(bytes);
        // SAFETY: TUNSETIFF reads (and writes back the final name into) a
        // struct ifreq; `request` has its layout (name, then the flags at
        // the start of the union, padded to the full 40 bytes) and lives
        // across the call; the fd is the tun device we just opened.
        let result = unsafe {
            libc::ioctl(
                file.as_raw_fd(),
                libc::TUNSETIFF as _,
                &mut request as *mut IfReqFlags,
            )
        };
        if result < 0 {
            return Err(TapError::Attach {
                name: name.to_owned(),
                source: io::Error::last_os_error(),
            });
        }
        Ok(Self { file })
    }
}

impl NetBackend for TapBackend {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.file.write(frame).map(|_| ())
    }

    fn raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_ifreq_layout_matches_the_kernels() {
        assert_eq!(
            std::mem::size_of::<IfReqFlags>(),
            std::mem::size_of::<libc::ifreq>()
        );
    }

    #[test]
    fn test_bad_names_are_refused_before_any_syscall() {
        for name in ["", "a/b", "sixteen-bytes-xx", "nul\0"] {
            assert!(
                matches!(TapBackend::open(name), Err(TapError::Name(_))),
                "{name:?}"
            );
        }
    }
}
