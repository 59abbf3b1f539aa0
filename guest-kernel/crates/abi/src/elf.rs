//! Static x86_64 ELF executables: `ET_EXEC` (loaded where linked) and
//! static-pie `ET_DYN` without an interpreter (loaded at a bias the kernel
//! picks; the program relocates itself, as musl's `rcrt1.o` does).
//!
//! [`Executable::parse`] checks the header and collects the `PT_LOAD`
//! segments and what the auxiliary vector needs (`AT_PHDR`, `AT_PHENT`,
//! `AT_PHNUM`, `AT_ENTRY`), in the way Linux's `load_elf_binary` reads them.

use alloc::vec::Vec;
use core::fmt;

/// `e_type` of a fixed-address executable.
pub const ET_EXEC: u16 = 2;
/// `e_type` of a position-independent executable (or shared object).
pub const ET_DYN: u16 = 3;
/// `e_machine` of x86_64.
pub const EM_X86_64: u16 = 62;
/// Loadable segment.
pub const PT_LOAD: u32 = 1;
/// Program interpreter path.
pub const PT_INTERP: u32 = 3;
/// The program header table itself.
pub const PT_PHDR: u32 = 6;
/// Stack executability.
pub const PT_GNU_STACK: u32 = 0x6474_e551;
/// Segment flag: executable.
pub const PF_X: u32 = 1;
/// Segment flag: writable.
pub const PF_W: u32 = 2;
/// Segment flag: readable.
pub const PF_R: u32 = 4;
/// Size of one 64-bit program header.
pub const PHDR_SIZE: u16 = 56;
const EHDR_SIZE: usize = 64;
const PAGE: u64 = 4096;

/// Why an executable cannot be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// Not an ELF file (magic), or shorter than its header.
    NotElf,
    /// Not a 64-bit little-endian x86_64 `ET_EXEC`/`ET_DYN` of version 1.
    Unsupported,
    /// Needs a program interpreter (dynamically linked).
    Dynamic,
    /// A program header or segment lies outside the file, or is inconsistent.
    Malformed,
    /// No `PT_LOAD` segment.
    NoSegments,
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotElf => "not an ELF file",
            Self::Unsupported => "not a 64-bit little-endian x86_64 executable",
            Self::Dynamic => "dynamically linked (has an interpreter)",
            Self::Malformed => "malformed program headers",
            Self::NoSegments => "no loadable segment",
        })
    }
}

/// One `PT_LOAD` segment (addresses before the load bias is added).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Bytes in memory (the rest past `filesz` is zero: .bss).
    pub memsz: u64,
    /// Offset of the file bytes.
    pub offset: u64,
    /// Bytes taken from the file.
    pub filesz: u64,
    /// `PF_R | PF_W | PF_X`.
    pub flags: u32,
}

impl Segment {
    /// Page-aligned start of the segment's mapping.
    pub fn map_start(&self) -> u64 {
        self.vaddr & !(PAGE - 1)
    }

    /// Page-aligned end (exclusive) of the segment's mapping.
    pub fn map_end(&self) -> u64 {
        (self.vaddr + self.memsz).next_multiple_of(PAGE)
    }
}

/// A parsed executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executable {
    /// `ET_EXEC` or `ET_DYN`.
    pub kind: u16,
    /// Entry point (before the bias).
    pub entry: u64,
    /// The `PT_LOAD` segments, in file order.
    pub segments: Vec<Segment>,
    /// Address of the program headers in memory (before the bias), if they
    /// are loaded: `PT_PHDR`, else found inside a segment.
    pub phdr_vaddr: Option<u64>,
    /// Number of program headers.
    pub phnum: u16,
    /// Whether `PT_GNU_STACK` asks for an executable stack.
    pub exec_stack: bool,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

impl Executable {
    /// Parses `file` (the whole executable).
    pub fn parse(file: &[u8]) -> Result<Self, ElfError> {
        if file.len() < EHDR_SIZE || file[..4] != *b"\x7fELF" {
            return Err(ElfError::NotElf);
        }
        let kind = u16_at(file, 16);
        if file[4] != 2
            || file[5] != 1
            || file[6] != 1
            || u16_at(file, 18) != EM_X86_64
            || !(kind == ET_EXEC || kind == ET_DYN)
        {
            return Err(ElfError::Unsupported);
        }
        let entry = u64_at(file, 24);
        let phoff = u64_at(file, 32);
        let phentsize = u16_at(file, 54);
        let phnum = u16_at(file, 56);
        if phentsize != PHDR_SIZE || phnum == 0 {
            return Err(ElfError::Malformed);
        }
        let table_end = phoff
            .checked_add(u64::from(phnum) * u64::from(PHDR_SIZE))
            .ok_or(ElfError::Malformed)?;
        if table_end > file.len() as u64 {
            return Err(ElfError::Malformed);
        }
        let mut segments = Vec::new();
        let mut phdr_vaddr = None;
        let mut exec_stack = false;
        for i in 0..usize::from(phnum) {
            let at = phoff as usize + i * usize::from(PHDR_SIZE);
            let p_type = u32_at(file, at);
            let flags = u32_at(file, at + 4);
            let offset = u64_at(file, at + 8);
            let vaddr = u64_at(file, at + 16);
            let filesz = u64_at(file, at + 32);
            let memsz = u64_at(file, at + 40);
            match p_type {
                PT_INTERP => return Err(ElfError::Dynamic),
                PT_PHDR => phdr_vaddr = Some(vaddr),
                PT_GNU_STACK => exec_stack = flags & PF_X != 0,
                PT_LOAD => {
                    let in_file = offset
                        .checked_add(filesz)
                        .is_some_and(|e| e <= file.len() as u64);
                    let fits = vaddr.checked_add(memsz).is_some_and(|e| e < 1 << 47);
                    if !in_file || !fits || filesz > memsz || vaddr % PAGE != offset % PAGE {
                        return Err(ElfError::Malformed);
                    }
                    if memsz > 0 {
                        segments.push(Segment {
                            vaddr,
                            memsz,
                            offset,
                            filesz,
                            flags,
                        });
                    }
                }
                _ => {}
            }
        }
        if segments.is_empty() {
            return Err(ElfError::NoSegments);
        }
        // Without PT_PHDR, the table is loaded if a segment's file bytes hold it.
        let phdr_vaddr = phdr_vaddr.or_else(|| {
            segments
                .iter()
                .find(|s| s.offset <= phoff && table_end <= s.offset + s.filesz)
                .map(|s| s.vaddr + (phoff - s.offset))
        });
        Ok(Self {
            kind,
            entry,
            segments,
            phdr_vaddr,
            phnum,
            exec_stack,
        })
    }

    /// Whether the executable is position-independent (needs a bias).
    pub fn is_pie(&self) -> bool {
        self.kind == ET_DYN
    }

    /// Lowest page-aligned address the segments use (before the bias).
    pub fn image_start(&self) -> u64 {
        self.segments
            .iter()
            .map(Segment::map_start)
            .min()
            .unwrap_or(0)
    }

    /// End of the highest segment, page-aligned (before the bias): where
    /// the program break starts.
    pub fn image_end(&self) -> u64 {
        self.segments
            .iter()
            .map(Segment::map_end)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// An ELF header and `phdrs` (type, flags, offset, vaddr, filesz, memsz).
    fn image(kind: u16, phdrs: &[(u32, u32, u64, u64, u64, u64)]) -> Vec<u8> {
        let mut f = vec![0u8; 0x2000];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&kind.to_le_bytes());
        f[18..20].copy_from_slice(&EM_X86_64.to_le_bytes());
        f[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&PHDR_SIZE.to_le_bytes());
        f[56..58].copy_from_slice(&(phdrs.len() as u16).to_le_bytes());
        for (i, &(t, fl, off, va, fs, ms)) in phdrs.iter().enumerate() {
            let at = 64 + i * 56;
            f[at..at + 4].copy_from_slice(&t.to_le_bytes());
            f[at + 4..at + 8].copy_from_slice(&fl.to_le_bytes());
            f[at + 8..at + 16].copy_from_slice(&off.to_le_bytes());
            f[at + 16..at + 24].copy_from_slice(&va.to_le_bytes());
            f[at + 32..at + 40].copy_from_slice(&fs.to_le_bytes());
            f[at + 40..at + 48].copy_from_slice(&ms.to_le_bytes());
        }
        f
    }

    #[test]
    fn test_parse_static_exec_finds_segments_and_phdrs() {
        let f = image(
            ET_EXEC,
            &[
                (PT_LOAD, PF_R, 0, 0x400000, 0x200, 0x200),
                (PT_LOAD, PF_R | PF_X, 0x1000, 0x401000, 0x100, 0x100),
                (PT_LOAD, PF_R | PF_W, 0x1100, 0x402100, 0x10, 0x3000),
            ],
        );
        let exe = Executable::parse(&f).unwrap();
        assert_eq!(exe.segments.len(), 3);
        assert_eq!(exe.phdr_vaddr, Some(0x400040));
        assert_eq!(exe.entry, 0x401000);
        assert_eq!(exe.image_start(), 0x400000);
        assert_eq!(exe.image_end(), 0x406000);
        assert!(!exe.is_pie());
    }

    #[test]
    fn test_parse_interp_is_rejected_as_dynamic() {
        let f = image(ET_DYN, &[(PT_INTERP, PF_R, 0x200, 0x200, 0x10, 0x10)]);
        assert_eq!(Executable::parse(&f), Err(ElfError::Dynamic));
    }

    #[test]
    fn test_parse_segment_past_file_end_is_malformed() {
        let f = image(
            ET_EXEC,
            &[(PT_LOAD, PF_R, 0x1000, 0x401000, 0x5000, 0x5000)],
        );
        assert_eq!(Executable::parse(&f), Err(ElfError::Malformed));
    }

    #[test]
    fn test_parse_pt_phdr_wins_and_pie_is_detected() {
        let f = image(
            ET_DYN,
            &[
                (PT_PHDR, PF_R, 64, 0x40, 112, 112),
                (PT_LOAD, PF_R | PF_X, 0, 0, 0x200, 0x200),
            ],
        );
        let exe = Executable::parse(&f).unwrap();
        assert!(exe.is_pie());
        assert_eq!(exe.phdr_vaddr, Some(0x40));
    }

    #[test]
    fn test_parse_garbage_is_not_elf() {
        assert_eq!(Executable::parse(b"#!/bin/sh\n"), Err(ElfError::NotElf));
    }
}
