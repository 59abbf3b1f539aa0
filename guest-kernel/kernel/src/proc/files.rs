//! A process's open files: the console (fds 0-2), read-only initramfs
//! files and directories, [`crate::sysfs`] pseudo files, and BPF maps and
//! programs ([`crate::proc::syscall::bpf`]).

use alloc::sync::Arc;
use alloc::vec::Vec;

use guest_abi::cpio::Archive;
use guest_abi::errno::{EACCES, EBADF, EINVAL, EISDIR, EMFILE, ENOENT, ENOTDIR, EROFS, ESPIPE};

use crate::sysfs::{self, Node};

/// Most open files per process.
pub const MAX_FILES: usize = 64;

/// O_ACCMODE bits.
const O_ACCMODE: u64 = 3;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;
const O_DIRECTORY: u64 = 0o200000;

/// File type bits for `st_mode`.
pub const S_IFCHR: u32 = 0o020000;

/// An open file.
#[derive(Debug)]
pub enum File {
    /// The serial console: writes print, reads see end of file.
    Console,
    /// A regular file of the initramfs (read-only).
    Ram {
        /// Its bytes.
        data: &'static [u8],
        /// File position.
        pos: usize,
    },
    /// A directory of the initramfs (only fstat and close make sense).
    Dir,
    /// A pseudo file: the text taken at open, and whether writes go through.
    Pseudo {
        /// Which file.
        node: Node,
        /// Its text when opened.
        text: Vec<u8>,
        /// File position.
        pos: usize,
        /// Opened for writing.
        write: bool,
    },
    /// A BPF map (`BPF_MAP_CREATE`); programs that use it hold it too.
    BpfMap(Arc<spin::Mutex<guest_bpf::maps::Map>>),
    /// A verified BPF program (`BPF_PROG_LOAD`).
    BpfProg(Arc<crate::proc::syscall::bpf::Prog>),
}

/// The descriptor table.
#[derive(Debug)]
pub struct Files {
    table: Vec<Option<File>>,
}

impl Default for Files {
    fn default() -> Self {
        Self::new()
    }
}

impl Files {
    /// Standard input, output and error on the console.
    pub fn new() -> Self {
        Self {
            table: alloc::vec![
                Some(File::Console),
                Some(File::Console),
                Some(File::Console)
            ],
        }
    }

    /// The open file `fd`.
    pub fn get(&mut self, fd: u64) -> Result<&mut File, i64> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.table.get_mut(i))
            .and_then(Option::as_mut)
            .ok_or(EBADF)
    }

    /// Closes `fd`.
    pub fn close(&mut self, fd: u64) -> Result<(), i64> {
        let slot = usize::try_from(fd)
            .ok()
            .and_then(|i| self.table.get_mut(i))
            .ok_or(EBADF)?;
        slot.take().map(|_| ()).ok_or(EBADF)
    }

    /// Opens `path` with `flags` (`open(2)`'s); returns the lowest free fd.
    pub fn open(&mut self, archive: &Archive<'static>, path: &str, flags: u64) -> Result<u64, i64> {
        let file = open_file(archive, path, flags)?;
        self.install(file)
    }

    /// Puts `file` at the lowest free fd.
    pub fn install(&mut self, file: File) -> Result<u64, i64> {
        let free = self.table.iter().position(Option::is_none);
        let fd = match free {
            Some(i) => i,
            None if self.table.len() < MAX_FILES => {
                self.table.push(None);
                self.table.len() - 1
            }
            None => return Err(EMFILE),
        };
        self.table[fd] = Some(file);
        Ok(fd as u64)
    }
}

fn open_file(archive: &Archive<'static>, path: &str, flags: u64) -> Result<File, i64> {
    let access = flags & O_ACCMODE;
    if access == O_ACCMODE {
        return Err(EINVAL);
    }
    if let Some(node) = sysfs::lookup(path) {
        let write = access != 0;
        if write && !sysfs::writable(node) {
            return Err(EACCES);
        }
        return Ok(File::Pseudo {
            node,
            text: sysfs::read(node).into_bytes(),
            pos: 0,
            write,
        });
    }
    let Some(entry) = archive.lookup(path) else {
        return Err(if flags & O_CREAT != 0 { EROFS } else { ENOENT });
    };
    if access != 0 || flags & O_TRUNC != 0 {
        return Err(if entry.is_dir() { EISDIR } else { EROFS });
    }
    if entry.is_dir() {
        return Ok(File::Dir);
    }
    if flags & O_DIRECTORY != 0 {
        return Err(ENOTDIR);
    }
    Ok(File::Ram {
        data: entry.data,
        pos: 0,
    })
}

impl File {
    /// Reads at the file position into `buf`; returns the bytes read.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, i64> {
        let (data, pos): (&[u8], &mut usize) = match self {
            Self::Console => return Ok(0),
            Self::Dir => return Err(EISDIR),
            Self::BpfMap(_) | Self::BpfProg(_) => return Err(EINVAL),
            Self::Ram { data, pos } => (data, pos),
            Self::Pseudo { text, pos, .. } => (text, pos),
        };
        let n = data.len().saturating_sub(*pos).min(buf.len());
        buf[..n].copy_from_slice(&data[*pos..*pos + n]);
        *pos += n;
        Ok(n)
    }

    /// Writes `buf`; returns the bytes written.
    pub fn write(&mut self, buf: &[u8]) -> Result<usize, i64> {
        match self {
            Self::Console => {
                crate::serial::write_bytes(buf);
                Ok(buf.len())
            }
            Self::Pseudo {
                node, write: true, ..
            } => sysfs::write(*node, buf).map(|()| buf.len()),
            Self::BpfMap(_) | Self::BpfProg(_) => Err(EINVAL),
            _ => Err(EBADF),
        }
    }

    /// lseek: SEEK_SET 0, SEEK_CUR 1, SEEK_END 2.
    pub fn seek(&mut self, offset: i64, whence: u64) -> Result<u64, i64> {
        let (len, pos) = match self {
            Self::Ram { data, pos } => (data.len(), pos),
            Self::Pseudo { text, pos, .. } => (text.len(), pos),
            _ => return Err(ESPIPE),
        };
        let base = match whence {
            0 => 0,
            1 => *pos as i64,
            2 => len as i64,
            _ => return Err(EINVAL),
        };
        let new = base.checked_add(offset).filter(|&p| p >= 0).ok_or(EINVAL)?;
        *pos = new as usize;
        Ok(new as u64)
    }

    /// (st_mode, st_size) for fstat.
    pub fn stat(&self) -> (u32, u64) {
        match self {
            Self::Console => (S_IFCHR | 0o620, 0),
            Self::Ram { data, .. } => (guest_abi::cpio::S_IFREG | 0o755, data.len() as u64),
            Self::Dir => (guest_abi::cpio::S_IFDIR | 0o755, 0),
            Self::Pseudo { text, .. } => (guest_abi::cpio::S_IFREG | 0o644, text.len() as u64),
            // anon_inode_getfd's inode: mode 0600, no type bits.
            Self::BpfMap(_) | Self::BpfProg(_) => (0o600, 0),
        }
    }
}
