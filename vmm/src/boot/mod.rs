//! Loading a kernel and what it is handed at entry: an ELF with a PVH note
//! (start info in EBX) or a Linux bzImage (zero page in ESI), both entered
//! in 32-bit protected mode with paging off.

mod bzimage;
mod cmdline;
mod image;
mod initramfs;
mod pvh;

use std::fs::File;
use std::path::Path;

use anyhow::Result;
use firmware::layout::HIGH_RAM_START;
use firmware::GuestLayout;
use vm_memory::GuestAddress;

use crate::error::config_error;
use crate::memory::GuestMemory;
use crate::size::format_size;
use image::{inspect_kernel, KernelFormat, LoadExtent};

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

/// Which register carries the boot information's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoRegister {
    /// PVH: EBX = `hvm_start_info`.
    Rbx,
    /// Linux boot protocol: ESI = `boot_params`.
    Rsi,
}

/// Where the boot vCPU starts, and what it is handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootEntry {
    /// The 32-bit entry point.
    pub entry: GuestAddress,
    /// The boot information (start info or zero page).
    pub info: GuestAddress,
    /// The register that holds `info`.
    pub info_register: InfoRegister,
    /// The boot GDT's limit (its base is `BOOT_GDT_ADDR`).
    pub gdt_limit: u16,
}

/// Checks everything the user supplied for a boot, before any VM exists:
/// the kernel's format and fit, the initramfs, the command line.
pub fn preflight(layout: &GuestLayout, req: &BootRequest<'_>) -> Result<()> {
    let (_, format) = open_kernel(layout, req.kernel)?;
    if let KernelFormat::BzImage(bz) = format {
        if req.cmdline.len() > bz.cmdline_size as usize {
            return Err(config_error(format!(
                "--cmdline is {} bytes; kernel {} takes at most {}",
                req.cmdline.len(),
                req.kernel.display(),
                bz.cmdline_size
            )));
        }
    }
    if let Some(path) = req.initramfs {
        initramfs::check_readable(path)?;
    }
    cmdline::build(req.cmdline).map(|_| ())
}

/// Loads the kernel (and initramfs) and writes its boot information.
pub fn load_kernel(
    mem: &GuestMemory,
    layout: &GuestLayout,
    req: &BootRequest<'_>,
) -> Result<BootEntry> {
    let (file, format) = open_kernel(layout, req.kernel)?;
    match format {
        KernelFormat::PvhElf(extent) => pvh::load(mem, layout, req, file, &extent),
        KernelFormat::BzImage(info) => bzimage::load(mem, layout, req, file, &info),
    }
}

/// Opens a kernel whose format we boot and whose memory fits `layout`.
fn open_kernel(layout: &GuestLayout, path: &Path) -> Result<(File, KernelFormat)> {
    let (file, format) = inspect_kernel(path)?;
    check_fits(&format.extent(), layout)
        .map_err(|why| config_error(format!("kernel {} {why}", path.display())))?;
    Ok((file, format))
}

/// Why a kernel's memory cannot be placed in this guest, if it cannot.
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
}
