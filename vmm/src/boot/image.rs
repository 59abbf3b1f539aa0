//! Recognises a kernel file by its content and, for ELF, finds where its
//! loadable segments land, so a too-small guest is reported before loading.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::Result;

use crate::error::config_error;

/// What a kernel file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelFormat {
    /// A 64-bit x86 ELF with a PVH entry note.
    PvhElf(LoadExtent),
    /// A Linux bzImage (setup header magic "HdrS") for boot protocol 2.06+.
    BzImage(BzImageInfo),
}

impl KernelFormat {
    /// Guest-physical memory the kernel needs: for a bzImage, where it is
    /// loaded and where it decompresses itself (`init_size` bytes).
    pub fn extent(&self) -> LoadExtent {
        match self {
            KernelFormat::PvhElf(extent) => *extent,
            KernelFormat::BzImage(bz) => bz.extent,
        }
    }
}

/// What the setup header of a bzImage says about its placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BzImageInfo {
    /// Boot protocol version (0x020f is 2.15).
    pub version: u16,
    /// Where the protected-mode kernel is loaded.
    pub code32_start: u32,
    /// Bytes of protected-mode kernel in the file.
    pub payload_len: u64,
    /// Where a relocatable kernel prefers to run (2.10+).
    pub pref_address: u64,
    /// Memory the kernel needs from its run address to decompress (2.10+).
    pub init_size: u32,
    /// Highest address an initramfs may end at (inclusive).
    pub initrd_addr_max: u32,
    /// Longest command line the kernel takes, without the NUL.
    pub cmdline_size: u32,
    /// Memory from the load address to the end of the decompressed kernel.
    pub extent: LoadExtent,
}

/// Where a bzImage lives: loaded at `code32_start`, decompressed at
/// `pref_address` (or in place), `init_size` bytes from there; None if the
/// header's numbers overflow.
fn bzimage_extent(
    code32_start: u32,
    payload_len: u64,
    pref_address: u64,
    init_size: u32,
) -> Option<LoadExtent> {
    let start = u64::from(code32_start);
    let run_at = start.max(pref_address);
    let end = start
        .checked_add(payload_len)?
        .max(run_at.checked_add(u64::from(init_size))?);
    Some(LoadExtent { start, end })
}

/// The guest-physical span of an ELF's PT_LOAD segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadExtent {
    /// Lowest physical address loaded.
    pub start: u64,
    /// One past the highest byte (p_memsz, so .bss included).
    pub end: u64,
}

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
const MAX_NOTES_SIZE: u64 = 64 * 1024;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: u64 = 56;
const MAX_PHDRS: u16 = 256;
const SETUP_HEADER_OFFSET: u64 = 0x1f1;
const SETUP_HEADER_LEN: usize = 0x268 - 0x1f1;
const BZIMAGE_MAGIC: &[u8; 4] = b"HdrS";
/// Oldest boot protocol we drive (2.06: cmdline_size).
const MIN_BOOT_PROTOCOL: u16 = 0x0206;
/// loadflags: the protected-mode kernel loads at 1 MiB (a bzImage).
const LOADED_HIGH: u8 = 1;

/// Opens `path` and tells what kind of kernel it is.
pub fn inspect_kernel(path: &Path) -> Result<(File, KernelFormat)> {
    let shown = path.display();
    let mut file =
        File::open(path).map_err(|e| config_error(format!("cannot open kernel {shown}: {e}")))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(config_error(format!(
            "kernel {shown} is a directory, not a file"
        )));
    }
    let format = detect(&mut file)
        .map_err(|e| config_error(format!("cannot read kernel {shown}: {e}")))?
        .map_err(|why| config_error(format!("kernel {shown} {why}")))?;
    Ok((file, format))
}

/// Reads headers; the inner error says, for the user, why the file is unusable.
fn detect<F: Read + Seek>(file: &mut F) -> std::io::Result<Result<KernelFormat, String>> {
    let mut ehdr = [0u8; EHDR_SIZE];
    let n = read_up_to(file, 0, &mut ehdr)?;
    if n >= 4 && &ehdr[..4] == ELF_MAGIC {
        if n < EHDR_SIZE {
            return Ok(Err("is a truncated ELF file".into()));
        }
        return elf_extent(file, &ehdr).map(|r| r.map(KernelFormat::PvhElf));
    }
    let mut header = [0u8; SETUP_HEADER_LEN];
    if read_up_to(file, SETUP_HEADER_OFFSET, &mut header)? == SETUP_HEADER_LEN
        && &header[0x202 - 0x1f1..0x206 - 0x1f1] == BZIMAGE_MAGIC
    {
        let file_len = file.seek(SeekFrom::End(0))?;
        return Ok(bzimage_info(&header, file_len).map(KernelFormat::BzImage));
    }
    Ok(Err(
        "is neither an ELF kernel with a PVH note nor a bzImage".into(),
    ))
}

/// Reads the placement fields of a setup header (bytes 0x1f1..0x268).
fn bzimage_info(header: &[u8; SETUP_HEADER_LEN], file_len: u64) -> Result<BzImageInfo, String> {
    let at = |offset: usize| offset - SETUP_HEADER_OFFSET as usize;
    let u16_at = |o: usize| u16::from_le_bytes([header[at(o)], header[at(o) + 1]]);
    let u32_at = |o: usize| {
        u32::from_le_bytes([
            header[at(o)],
            header[at(o) + 1],
            header[at(o) + 2],
            header[at(o) + 3],
        ])
    };
    let version = u16_at(0x206);
    if version < MIN_BOOT_PROTOCOL {
        return Err(format!(
            "is a bzImage for boot protocol {}.{:02}; 2.06 or later is needed",
            version >> 8,
            version & 0xff
        ));
    }
    if header[at(0x211)] & LOADED_HIGH == 0 {
        return Err("is a zImage (loaded below 1 MiB); only bzImages are supported".into());
    }
    let setup_sects = match header[at(0x1f1)] {
        0 => 4,
        n => u64::from(n),
    };
    let payload_len = file_len
        .checked_sub((setup_sects + 1) * 512)
        .ok_or("is a bzImage shorter than its setup code")?;
    let (pref_address, init_size) = if version >= 0x020a {
        (
            u64::from(u32_at(0x258)) | (u64::from(u32_at(0x25c)) << 32),
            u32_at(0x260),
        )
    } else {
        (0, 0)
    };
    let code32_start = u32_at(0x214);
    let extent = bzimage_extent(code32_start, payload_len, pref_address, init_size)
        .ok_or("has a setup header whose pref_address and init_size overflow")?;
    Ok(BzImageInfo {
        version,
        code32_start,
        payload_len,
        pref_address,
        init_size,
        initrd_addr_max: u32_at(0x22c),
        cmdline_size: u32_at(0x238),
        extent,
    })
}

fn elf_extent<F: Read + Seek>(
    file: &mut F,
    ehdr: &[u8; EHDR_SIZE],
) -> std::io::Result<Result<LoadExtent, String>> {
    if ehdr[4] != ELFCLASS64 || ehdr[5] != ELFDATA2LSB {
        return Ok(Err("is not a 64-bit little-endian ELF".into()));
    }
    let machine = u16::from_le_bytes([ehdr[18], ehdr[19]]);
    if machine != EM_X86_64 {
        return Ok(Err(format!("is an ELF for machine {machine}, not x86_64")));
    }
    let phoff = u64_at(ehdr, 32);
    let phentsize = u16::from_le_bytes([ehdr[54], ehdr[55]]);
    let phnum = u16::from_le_bytes([ehdr[56], ehdr[57]]);
    if u64::from(phentsize) != PHDR_SIZE || phnum == 0 || phnum > MAX_PHDRS {
        return Ok(Err("has no usable program headers".into()));
    }
    let mut extent: Option<LoadExtent> = None;
    let mut has_pvh_note = false;
    for i in 0..u64::from(phnum) {
        let mut phdr = [0u8; PHDR_SIZE as usize];
        let at = phoff.checked_add(i * PHDR_SIZE);
        if at.map(|at| read_up_to(file, at, &mut phdr)).transpose()? != Some(phdr.len()) {
            return Ok(Err("is a truncated ELF file (program headers)".into()));
        }
        let p_type = u32::from_le_bytes([phdr[0], phdr[1], phdr[2], phdr[3]]);
        if p_type == PT_NOTE {
            has_pvh_note |= has_pvh_entry_note(file, u64_at(&phdr, 8), u64_at(&phdr, 32))?;
        }
        if p_type != PT_LOAD {
            continue;
        }
        let (paddr, memsz) = (u64_at(&phdr, 24), u64_at(&phdr, 40));
        let Some(end) = paddr.checked_add(memsz) else {
            return Ok(Err(
                "has a segment that wraps around the address space".into()
            ));
        };
        extent = Some(match extent {
            None => LoadExtent { start: paddr, end },
            Some(e) => LoadExtent {
                start: e.start.min(paddr),
                end: e.end.max(end),
            },
        });
    }
    if !has_pvh_note {
        return Ok(Err(
            "is an ELF without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)".into(),
        ));
    }
    Ok(extent.ok_or_else(|| "is an ELF with no loadable segment".to_string()))
}

/// Whether the notes at `offset..offset + size` hold a Xen PHYS32_ENTRY note.
fn has_pvh_entry_note<F: Read + Seek>(
    file: &mut F,
    offset: u64,
    size: u64,
) -> std::io::Result<bool> {
    let mut notes = vec![0u8; usize::try_from(size.min(MAX_NOTES_SIZE)).unwrap_or(0)];
    let len = read_up_to(file, offset, &mut notes)?;
    let notes = &notes[..len];
    let mut at = 0usize;
    while let Some(header) = notes.get(at..at + 12) {
        let word =
            |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let (namesz, descsz, kind) = (word(0) as usize, word(4) as usize, word(8));
        let name = notes.get(at + 12..at + 12 + namesz).unwrap_or_default();
        if kind == XEN_ELFNOTE_PHYS32_ENTRY && name == b"Xen\0" {
            return Ok(true);
        }
        at += 12 + namesz.next_multiple_of(4) + descsz.next_multiple_of(4);
    }
    Ok(false)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Reads as much of `buf` as the file has at `offset`.
fn read_up_to<F: Read + Seek>(file: &mut F, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    file.seek(SeekFrom::Start(offset))?;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// The PVH note: "Xen\0", type 18, a 4-byte entry address.
    fn pvh_note() -> Vec<u8> {
        let mut n = Vec::new();
        for w in [4u32, 4, XEN_ELFNOTE_PHYS32_ENTRY] {
            n.extend_from_slice(&w.to_le_bytes());
        }
        n.extend_from_slice(b"Xen\0");
        n.extend_from_slice(&0x10_0000u32.to_le_bytes());
        n
    }

    /// A minimal ELF64 with the given (paddr, memsz) PT_LOADs and a PVH note.
    fn fake_elf(loads: &[(u64, u64)], machine: u16) -> Vec<u8> {
        fake_elf_with_note(loads, machine, &pvh_note())
    }

    fn fake_elf_with_note(loads: &[(u64, u64)], machine: u16, note: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; EHDR_SIZE];
        f[..4].copy_from_slice(ELF_MAGIC);
        f[4] = ELFCLASS64;
        f[5] = ELFDATA2LSB;
        f[18..20].copy_from_slice(&machine.to_le_bytes());
        f[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes());
        f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[56..58].copy_from_slice(&(loads.len() as u16 + 1).to_le_bytes());
        let note_offset = (EHDR_SIZE + (loads.len() + 1) * PHDR_SIZE as usize) as u64;
        let mut ph = [0u8; PHDR_SIZE as usize];
        ph[..4].copy_from_slice(&PT_NOTE.to_le_bytes());
        ph[8..16].copy_from_slice(&note_offset.to_le_bytes());
        ph[32..40].copy_from_slice(&(note.len() as u64).to_le_bytes());
        f.extend_from_slice(&ph);
        for (paddr, memsz) in loads {
            let mut ph = [0u8; PHDR_SIZE as usize];
            ph[..4].copy_from_slice(&PT_LOAD.to_le_bytes());
            ph[24..32].copy_from_slice(&paddr.to_le_bytes());
            ph[40..48].copy_from_slice(&memsz.to_le_bytes());
            f.extend_from_slice(&ph);
        }
        f.extend_from_slice(note);
        f
    }

    fn detect_bytes(bytes: Vec<u8>) -> Result<KernelFormat, String> {
        detect(&mut Cursor::new(bytes)).unwrap()
    }

    #[test]
    fn test_detect_elf_extent_spans_all_loads_including_bss() {
        let elf = fake_elf(&[(0x20_0000, 0x1000), (0x10_0000, 0x3000)], EM_X86_64);
        assert_eq!(
            detect_bytes(elf),
            Ok(KernelFormat::PvhElf(LoadExtent {
                start: 0x10_0000,
                end: 0x20_1000
            }))
        );
    }

    #[test]
    fn test_detect_rejects_elf_without_pvh_note() {
        let mut other_note = pvh_note();
        other_note[8] = 17; // XEN_ELFNOTE_... other than PHYS32_ENTRY
        let elf = fake_elf_with_note(&[(0x10_0000, 0x1000)], EM_X86_64, &other_note);
        assert!(detect_bytes(elf)
            .unwrap_err()
            .contains("without a PVH entry note"));
        let elf = fake_elf_with_note(&[(0x10_0000, 0x1000)], EM_X86_64, &[]);
        assert!(detect_bytes(elf)
            .unwrap_err()
            .contains("without a PVH entry note"));
    }

    /// A bzImage header: protocol `version`, 1 setup sector, `payload` bytes.
    fn fake_bzimage(version: u16, loadflags: u8, payload: usize) -> Vec<u8> {
        let mut image = vec![0u8; 1024 + payload];
        image[0x1f1] = 1;
        image[0x202..0x206].copy_from_slice(b"HdrS");
        image[0x206..0x208].copy_from_slice(&version.to_le_bytes());
        image[0x211] = loadflags;
        image[0x214..0x218].copy_from_slice(&0x10_0000u32.to_le_bytes());
        image[0x22c..0x230].copy_from_slice(&0x37ff_ffffu32.to_le_bytes());
        image[0x258..0x260].copy_from_slice(&0x100_0000u64.to_le_bytes());
        image[0x260..0x264].copy_from_slice(&0x200_0000u32.to_le_bytes());
        image[0x238..0x23c].copy_from_slice(&2047u32.to_le_bytes());
        image
    }

    #[test]
    fn test_detect_bzimage_reads_placement_from_setup_header() {
        let KernelFormat::BzImage(bz) = detect_bytes(fake_bzimage(0x020f, 1, 4096)).unwrap() else {
            panic!("not a bzImage")
        };
        assert_eq!(
            (bz.version, bz.code32_start, bz.payload_len),
            (0x020f, 0x10_0000, 4096)
        );
        assert_eq!(
            (bz.pref_address, bz.init_size, bz.initrd_addr_max),
            (0x100_0000, 0x200_0000, 0x37ff_ffff)
        );
        // Decompresses at pref_address: needs memory to 16 MiB + 32 MiB.
        assert_eq!(
            KernelFormat::BzImage(bz).extent(),
            LoadExtent {
                start: 0x10_0000,
                end: 0x300_0000
            }
        );
    }

    #[test]
    fn test_detect_rejects_overflowing_bzimage_placement() {
        let mut image = fake_bzimage(0x020f, 1, 16);
        image[0x258..0x260].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(detect_bytes(image).unwrap_err().contains("overflow"));
    }

    #[test]
    fn test_detect_rejects_old_protocols_and_zimages() {
        assert!(detect_bytes(fake_bzimage(0x0204, 1, 16))
            .unwrap_err()
            .contains("boot protocol 2.04"));
        assert!(detect_bytes(fake_bzimage(0x020f, 0, 16))
            .unwrap_err()
            .contains("zImage"));
    }

    #[test]
    fn test_detect_rejects_text_file() {
        let err = detect_bytes(b"#!/bin/sh\necho hi\n".to_vec()).unwrap_err();
        assert!(err.contains("neither an ELF"), "{err}");
    }

    #[test]
    fn test_detect_rejects_empty_file() {
        assert!(detect_bytes(Vec::new()).is_err());
    }

    #[test]
    fn test_detect_rejects_other_machine_and_truncation() {
        assert!(detect_bytes(fake_elf(&[(0x10_0000, 1)], 183))
            .unwrap_err()
            .contains("machine 183"));
        let mut short = fake_elf(&[(0x10_0000, 1)], EM_X86_64);
        short.truncate(EHDR_SIZE + 10);
        assert!(detect_bytes(short).unwrap_err().contains("truncated"));
        assert!(detect_bytes(fake_elf(&[], EM_X86_64)).is_err());
    }

    #[test]
    fn test_detect_rejects_wrapping_segment() {
        let elf = fake_elf(&[(u64::MAX - 1, 0x10)], EM_X86_64);
        assert!(detect_bytes(elf).unwrap_err().contains("wraps"));
    }
}
