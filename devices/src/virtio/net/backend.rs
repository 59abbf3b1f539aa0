//! Where a virtio-net card's frames go: a [`NetBackend`] moves whole
//! Ethernet frames. [`UnixDatagramBackend`] links two VMs on one host
//! through a pair of Unix datagram sockets, one frame per datagram; the
//! VMM adds a tap backend of its own.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

/// Moves Ethernet frames (no virtio header) to and from the outside.
pub trait NetBackend: Send {
    /// Takes the next waiting frame into `buf`, returning its length;
    /// `ErrorKind::WouldBlock` when none waits. Must not block.
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize>;

    /// Sends one frame; an error drops it (like a congested wire).
    fn send(&mut self, frame: &[u8]) -> io::Result<()>;

    /// A descriptor that polls readable while frames wait.
    fn raw_fd(&self) -> RawFd;
}

/// One end of a host-local link: binds `local`, sends to `peer`.
///
/// Each VM binds its own path and sends to the other's, so either may
/// start first; frames sent while the peer is absent or its queue is full
/// are dropped.
#[derive(Debug)]
pub struct UnixDatagramBackend {
    socket: UnixDatagram,
    peer: PathBuf,
}

impl UnixDatagramBackend {
    /// Binds `local` (replacing a stale socket left there) and sends to `peer`.
    pub fn new(local: &Path, peer: &Path) -> io::Result<Self> {
        if std::fs::symlink_metadata(local).is_ok_and(|m| m.file_type().is_socket()) {
            std::fs::remove_file(local)?;
        }
        let socket = UnixDatagram::bind(local)?;
        socket.set_nonblocking(true)?;
        Ok(Self {
            socket,
            peer: peer.to_owned(),
        })
    }
}

impl NetBackend for UnixDatagramBackend {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.socket.recv(buf)
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.socket.send_to(frame, &self.peer).map(|_| ())
    }

    fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}
