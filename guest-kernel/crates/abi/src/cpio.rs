//! cpio "newc" archives (`070701` headers), the initramfs format Linux
//! unpacks (`init/initramfs.c`): a 110-byte ASCII-hex header, the NUL-ended
//! name padded to 4 bytes, the data padded to 4 bytes, up to `TRAILER!!!`.
//!
//! [`Archive`] reads entries in place; names lose a leading `./` or `/`.

use core::fmt;

const HEADER: usize = 110;
const MAGIC: &[u8; 6] = b"070701";
const TRAILER: &[u8] = b"TRAILER!!!";

/// File type bits of `mode`.
pub const S_IFMT: u32 = 0o170000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Symbolic link (its data is the target).
pub const S_IFLNK: u32 = 0o120000;

/// Why an archive cannot be read further.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpioError {
    /// A header does not start with `070701` (at this byte offset).
    BadMagic(usize),
    /// A header field is not hexadecimal, or an entry runs past the end.
    Truncated(usize),
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic(at) => write!(f, "cpio: no newc magic at byte {at}"),
            Self::Truncated(at) => write!(f, "cpio: truncated or malformed entry at byte {at}"),
        }
    }
}

/// One archive member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Path without a leading `./` or `/` (`""` for the root).
    pub name: &'a str,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    /// The file's bytes (a symlink's target).
    pub data: &'a [u8],
}

impl Entry<'_> {
    /// Whether this is a regular file.
    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }
}

/// An archive in memory.
#[derive(Debug, Clone, Copy)]
pub struct Archive<'a> {
    bytes: &'a [u8],
}

/// Iterator over the entries; yields an error once and then stops.
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    bytes: &'a [u8],
    at: usize,
    done: bool,
}

fn hex(field: &[u8]) -> Option<u32> {
    field.iter().try_fold(0u32, |v, &c| {
        let d = (c as char).to_digit(16)?;
        Some(v << 4 | d)
    })
}

/// Strips `./` and `/` prefixes (and a lone `.`).
pub fn normalize(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else if p == "." {
            return "";
        } else {
            return p;
        }
    }
}

impl<'a> Archive<'a> {
    /// An archive over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// The entries, in archive order.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            bytes: self.bytes,
            at: 0,
            done: false,
        }
    }

    /// The last entry named `path` (normalised as [`normalize`] does), with
    /// symbolic links followed (up to 8 of them); `None` if absent or broken.
    pub fn lookup(&self, path: &str) -> Option<Entry<'a>> {
        let mut name = alloc::string::String::from(normalize(path));
        for _ in 0..8 {
            let entry = self
                .entries()
                .map_while(Result::ok)
                .filter(|e| e.name == name)
                .last()?;
            if entry.mode & S_IFMT != S_IFLNK {
                return Some(entry);
            }
            let target = core::str::from_utf8(entry.data).ok()?;
            name = if target.starts_with('/') {
                normalize(target).into()
            } else {
                let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                let joined = if dir.is_empty() {
                    alloc::string::String::from(target)
                } else {
                    alloc::format!("{dir}/{target}")
                };
                normalize(&joined).into()
            };
        }
        None
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, CpioError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.at >= self.bytes.len() {
            return None;
        }
        let start = self.at;
        let result = self.parse_one(start);
        match &result {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => self.done = true,
        }
        result.transpose()
    }
}

impl<'a> Entries<'a> {
    fn parse_one(&mut self, start: usize) -> Result<Option<Entry<'a>>, CpioError> {
        let b = self.bytes;
        let header = b
            .get(start..start + HEADER)
            .ok_or(CpioError::Truncated(start))?;
        if &header[..6] != MAGIC {
            return Err(CpioError::BadMagic(start));
        }
        let field =
            |i: usize| hex(&header[6 + i * 8..14 + i * 8]).ok_or(CpioError::Truncated(start));
        let mode = field(1)?;
        let filesize = field(6)? as usize;
        let namesize = field(11)? as usize;
        let name_start = start + HEADER;
        let name_bytes = b
            .get(name_start..name_start + namesize)
            .ok_or(CpioError::Truncated(start))?;
        let name_bytes = name_bytes.strip_suffix(&[0]).unwrap_or(name_bytes);
        let name = core::str::from_utf8(name_bytes).map_err(|_| CpioError::Truncated(start))?;
        let data_start = (name_start + namesize).next_multiple_of(4);
        let data = b
            .get(data_start..data_start + filesize)
            .ok_or(CpioError::Truncated(start))?;
        self.at = (data_start + filesize).next_multiple_of(4);
        if name_bytes == TRAILER {
            return Ok(None);
        }
        Ok(Some(Entry {
            name: normalize(name),
            mode,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn push(out: &mut Vec<u8>, name: &str, mode: u32, data: &[u8]) {
        let header = alloc::format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            1,
            mode,
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out.extend_from_slice(data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
    }

    fn sample() -> Vec<u8> {
        let mut a = Vec::new();
        push(&mut a, ".", S_IFDIR | 0o755, b"");
        push(&mut a, "./bin", S_IFDIR | 0o755, b"");
        push(&mut a, "./bin/hello", S_IFREG | 0o755, b"\x7fELF...");
        push(&mut a, "init", S_IFLNK | 0o777, b"bin/hello");
        push(&mut a, "TRAILER!!!", 0, b"");
        a
    }

    #[test]
    fn test_entries_are_normalised_and_stop_at_trailer() {
        let bytes = sample();
        let names: Vec<_> = Archive::new(&bytes)
            .entries()
            .map(|e| e.unwrap().name)
            .collect();
        assert_eq!(names, ["", "bin", "bin/hello", "init"]);
    }

    #[test]
    fn test_lookup_follows_symlinks() {
        let bytes = sample();
        let archive = Archive::new(&bytes);
        let init = archive.lookup("/init").unwrap();
        assert!(init.is_file());
        assert_eq!(init.data, b"\x7fELF...");
        assert!(archive.lookup("/bin").unwrap().is_dir());
        assert!(archive.lookup("/nope").is_none());
    }

    #[test]
    fn test_bad_magic_is_reported_once() {
        let mut bytes = sample();
        bytes[0] = b'1';
        let mut entries = Archive::new(&bytes).entries();
        assert_eq!(entries.next(), Some(Err(CpioError::BadMagic(0))));
        assert_eq!(entries.next(), None);
    }

    #[test]
    fn test_truncated_data_is_an_error() {
        let bytes = sample();
        let cut = &bytes[..200];
        let last = Archive::new(cut).entries().last().unwrap();
        assert!(matches!(last, Err(CpioError::Truncated(_))));
    }
}
