//! PVH boot: load an ELF kernel with a PVH entry note, hand it the start info.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use firmware::gdt::write_boot_gdt;
use firmware::layout::{BOOT_GDT_ADDR, CMDLINE_MAX_SIZE, HIGH_RAM_START};
use firmware::pvh::{write_pvh_boot, PvhBootInfo};
use firmware::GuestLayout;
use linux_loader::cmdline::Cmdline;
use linux_loader::loader::elf::{Elf, PvhBootCapability};
use linux_loader::loader::KernelLoader;
use vm_memory::GuestAddress;

use super::image::{inspect_kernel, KernelFormat, LoadExtent};
use super::initramfs;
use crate::error::config_error;
use crate::memory::GuestMemory;
use crate::size::format_size;

/// Where the boot vCPU starts, and what it is handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PvhEntry {
    /// The 32-bit entry point from the PVH note.
    pub entry: GuestAddress,
    /// The `hvm_start_info`, passed in EBX.
    pub start_info: GuestAddress,
    /// The boot GDT's limit (its base is `BOOT_GDT_ADDR`).
    pub gdt_limit: u16,
}

/// What to boot.
#[derive(Debug)]
pub struct BootRequest<'a> {
    /// The kernel file.
    pub kernel: &'a Path,
    /// An optional initramfs file.
    pub initramfs: Option<&'a Path>,
    /// The command line.
    pub cmdline: &'a str,
    /// The ACPI RSDP, if the platform built tables.
    pub rsdp: Option<GuestAddress>,
}

/// Checks everything the user supplied for a boot, before any VM exists:
/// the kernel's format and fit, the initramfs, the command line.
pub fn preflight(layout: &GuestLayout, req: &BootRequest<'_>) -> Result<()> {
    open_kernel(layout, req.kernel)?;
    if let Some(path) = req.initramfs {
        initramfs::check_readable(path)?;
    }
    build_cmdline(req.cmdline).map(|_| ())
}

/// Opens a kernel that is a PVH ELF whose segments fit `layout`.
fn open_kernel(layout: &GuestLayout, path: &Path) -> Result<(File, LoadExtent)> {
    let shown = path.display();
    let (file, format) = inspect_kernel(path)?;
    let extent = match format {
        KernelFormat::PvhElf(extent) => extent,
        KernelFormat::BzImage => {
            return Err(config_error(format!(
                "kernel {shown} is a bzImage; this VMM boots ELF kernels with a PVH note \
                 (for Linux, pass its uncompressed vmlinux)"
            )))
        }
    };
    check_fits(&extent, layout).map_err(|why| config_error(format!("kernel {shown} {why}")))?;
    Ok((file, extent))
}

/// Loads the kernel (and initramfs) and writes the PVH boot information.
pub fn load_pvh(
    mem: &GuestMemory,
    layout: &GuestLayout,
    req: &BootRequest<'_>,
) -> Result<PvhEntry> {
    let shown = req.kernel.display();
    let (mut file, extent) = open_kernel(layout, req.kernel)?;
    let loaded = Elf::load(mem, None, &mut file, Some(GuestAddress(HIGH_RAM_START)))
        .map_err(|e| config_error(format!("cannot load kernel {shown}: {e}")))?;
    let PvhBootCapability::PvhEntryPresent(entry) = loaded.pvh_boot_cap else {
        return Err(config_error(format!(
            "kernel {shown} is an ELF without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"
        )));
    };

    let initramfs = req
        .initramfs
        .map(|path| initramfs::load(mem, layout, extent.end, path))
        .transpose()?;
    let cmdline = build_cmdline(req.cmdline)?;
    let gdt_limit =
        write_boot_gdt(mem, GuestAddress(BOOT_GDT_ADDR)).context("writing the boot GDT")?;
    let info = PvhBootInfo {
        layout: *layout,
        cmdline: &cmdline,
        rsdp_addr: req.rsdp,
        initramfs,
    };
    let start_info = write_pvh_boot(mem, &info).context("writing the PVH start info")?;
    Ok(PvhEntry {
        entry,
        start_info,
        gdt_limit,
    })
}

/// Why a kernel's segments cannot be placed in this guest, if they cannot.
fn check_fits(extent: &LoadExtent, layout: &GuestLayout) -> Result<(), String> {
    if extent.start < HIGH_RAM_START {
        return Err(format!(
            "loads at {:#x}, below 1 MiB, which the platform reserves",
            extent.start
        ));
    }
    if extent.end > layout.low_ram_end() {
        return Err(format!(
            "needs guest RAM up to {:#x} ({}), but --memory gives {}",
            extent.end,
            format_size(extent.end),
            format_size(layout.ram_size())
        ));
    }
    Ok(())
}

fn build_cmdline(text: &str) -> Result<Cmdline> {
    if text.len() >= CMDLINE_MAX_SIZE {
        return Err(config_error(format!(
            "--cmdline is {} bytes; at most {} fit",
            text.len(),
            CMDLINE_MAX_SIZE - 1
        )));
    }
    let mut cmdline = Cmdline::new(CMDLINE_MAX_SIZE).context("command line buffer")?;
    if !text.trim().is_empty() {
        cmdline
            .insert_str(text)
            .map_err(|e| config_error(format!("--cmdline {text:?} is not usable: {e}")))?;
    }
    Ok(cmdline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_check_fits_rejects_kernel_beyond_ram() {
        let extent = LoadExtent {
            start: 0x10_0000,
            end: 0x90_0000,
        };
        let err = check_fits(&extent, &GuestLayout::new(4 << 20)).unwrap_err();
        assert!(
            err.contains("needs guest RAM up to 0x900000 (9 MiB), but --memory gives 4 MiB"),
            "{err}"
        );
        check_fits(&extent, &GuestLayout::new(16 << 20)).unwrap();
    }

    #[test]
    fn test_check_fits_rejects_low_load_address() {
        let extent = LoadExtent {
            start: 0x8000,
            end: 0x9000,
        };
        assert!(check_fits(&extent, &GuestLayout::new(16 << 20))
            .unwrap_err()
            .contains("below 1 MiB"));
    }

    #[test]
    fn test_build_cmdline_limits_length() {
        assert!(build_cmdline(&"a".repeat(CMDLINE_MAX_SIZE)).is_err());
        assert_eq!(
            build_cmdline("quiet")
                .unwrap()
                .as_cstring()
                .unwrap()
                .to_str()
                .unwrap(),
            "quiet"
        );
        assert_eq!(
            build_cmdline("")
                .unwrap()
                .as_cstring()
                .unwrap()
                .to_str()
                .unwrap(),
            ""
        );
    }
}
