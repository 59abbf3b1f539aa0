//! read, write, readv, writev, open, openat, fstat, lseek, ioctl.

use alloc::vec;
use alloc::vec::Vec;

use guest_abi::errno::{EBADF, EFAULT, EINVAL, ENOENT, ENOTTY};
use guest_abi::nr::AT_FDCWD;

use super::{Args, SysResult};
use crate::proc::{Process, initramfs};
use crate::uvm::pt::USER_END;
use crate::uvm::uaccess::{copy_from_user, copy_to_user, read_u64, strncpy_from_user};

/// Longest path accepted (PATH_MAX).
const PATH_MAX: usize = 4096;
/// Most iovecs in one readv/writev (UIO_MAXIOV).
const IOV_MAX: u64 = 1024;
/// Bytes moved per chunk between user memory and a file.
const CHUNK: usize = 4096;

pub fn read(p: &mut Process, a: Args) -> SysResult {
    let [fd, buf, count, ..] = a.0;
    read_into(p, fd, buf, count)
}

/// access_ok: the whole buffer lies in the user half.
fn access_ok(buf: u64, count: u64) -> Result<(), i64> {
    buf.checked_add(count)
        .filter(|&end| end <= USER_END)
        .map(|_| ())
        .ok_or(EFAULT)
}

fn read_into(p: &mut Process, fd: u64, buf: u64, count: u64) -> SysResult {
    p.files.get(fd)?;
    access_ok(buf, count)?;
    let mut done = 0u64;
    let mut chunk = vec![0u8; CHUNK];
    while done < count {
        let want = ((count - done) as usize).min(CHUNK);
        let n = p.files.get(fd)?.read(&mut chunk[..want])?;
        if n == 0 {
            break;
        }
        copy_to_user(&mut p.mm, buf + done, &chunk[..n])?;
        done += n as u64;
        if n < want {
            break;
        }
    }
    Ok(done)
}

pub fn write(p: &mut Process, a: Args) -> SysResult {
    let [fd, buf, count, ..] = a.0;
    write_from(p, fd, buf, count)
}

fn write_from(p: &mut Process, fd: u64, buf: u64, count: u64) -> SysResult {
    p.files.get(fd)?;
    access_ok(buf, count)?;
    let mut done = 0u64;
    let mut chunk = vec![0u8; CHUNK.min(count as usize)];
    while done < count {
        let n = ((count - done) as usize).min(CHUNK);
        copy_from_user(&mut p.mm, &mut chunk[..n], buf + done)?;
        let written = p.files.get(fd)?.write(&chunk[..n])?;
        done += written as u64;
        if written < n {
            break;
        }
    }
    Ok(done)
}

fn iovecs(p: &mut Process, iov: u64, count: u64) -> Result<Vec<(u64, u64)>, i64> {
    if count > IOV_MAX {
        return Err(EINVAL);
    }
    (0..count)
        .map(|i| {
            let base = read_u64(&mut p.mm, iov + 16 * i)?;
            let len = read_u64(&mut p.mm, iov + 16 * i + 8)?;
            Ok((base, len))
        })
        .collect()
}

pub fn writev(p: &mut Process, a: Args) -> SysResult {
    let [fd, iov, count, ..] = a.0;
    p.files.get(fd)?;
    let mut total = 0;
    for (base, len) in iovecs(p, iov, count)? {
        total += write_from(p, fd, base, len)?;
    }
    Ok(total)
}

pub fn readv(p: &mut Process, a: Args) -> SysResult {
    let [fd, iov, count, ..] = a.0;
    p.files.get(fd)?;
    let mut total = 0;
    for (base, len) in iovecs(p, iov, count)? {
        let n = read_into(p, fd, base, len)?;
        total += n;
        if n < len {
            break;
        }
    }
    Ok(total)
}

pub fn open(p: &mut Process, path: u64, flags: u64) -> SysResult {
    let path = strncpy_from_user(&mut p.mm, path, PATH_MAX)?;
    let path = core::str::from_utf8(&path).map_err(|_| ENOENT)?;
    if path.is_empty() {
        return Err(ENOENT);
    }
    p.files.open(initramfs(), path, flags)
}

pub fn openat(p: &mut Process, a: Args) -> SysResult {
    let [dirfd, path, flags, ..] = a.0;
    // The working directory is `/`; other directory fds are not supported.
    if dirfd as i64 != AT_FDCWD {
        let raw = strncpy_from_user(&mut p.mm, path, PATH_MAX)?;
        if !raw.starts_with(b"/") {
            return Err(EBADF);
        }
    }
    open(p, path, flags)
}

pub fn fstat(p: &mut Process, a: Args) -> SysResult {
    let [fd, buf, ..] = a.0;
    let (mode, size) = p.files.get(fd)?.stat();
    // struct stat (x86_64): 144 bytes; st_mode at 24, st_size at 48,
    // st_blksize at 56, st_nlink at 16.
    let mut st = [0u8; 144];
    st[16..24].copy_from_slice(&1u64.to_le_bytes());
    st[24..28].copy_from_slice(&mode.to_le_bytes());
    st[48..56].copy_from_slice(&size.to_le_bytes());
    st[56..64].copy_from_slice(&4096u64.to_le_bytes());
    st[64..72].copy_from_slice(&size.div_ceil(512).to_le_bytes());
    copy_to_user(&mut p.mm, buf, &st)?;
    Ok(0)
}

pub fn lseek(p: &mut Process, a: Args) -> SysResult {
    let [fd, offset, whence, ..] = a.0;
    p.files.get(fd)?.seek(offset as i64, whence)
}

pub fn ioctl(p: &mut Process, a: Args) -> SysResult {
    p.files.get(a.0[0])?;
    Err(ENOTTY)
}
