//! Linux boot protocol: a bzImage's protected-mode kernel is loaded at
//! `code32_start` and entered there (the 32-bit boot protocol) with the
//! zero page in ESI. Its setup code (real mode) is not run.

use std::fs::File;

use anyhow::{Context, Result};
use firmware::gdt::write_boot_gdt;
use firmware::layout::{BOOT_GDT_ADDR, HIGH_RAM_START};
use firmware::zero_page::{write_linux_boot, LinuxBootInfo};
use firmware::GuestLayout;
use linux_loader::loader::bzimage::BzImage;
use linux_loader::loader::KernelLoader;
use vm_memory::GuestAddress;

use super::image::BzImageInfo;
use super::{cmdline, initramfs, BootEntry, BootRequest, InfoRegister};
use crate::error::config_error;
use crate::memory::GuestMemory;

/// Loads the bzImage (and initramfs) and writes the zero page.
pub fn load(
    mem: &GuestMemory,
    layout: &GuestLayout,
    req: &BootRequest<'_>,
    mut file: File,
    info: &BzImageInfo,
) -> Result<BootEntry> {
    let shown = req.kernel.display();
    let loaded = BzImage::load(mem, None, &mut file, Some(GuestAddress(HIGH_RAM_START)))
        .map_err(|e| config_error(format!("cannot load kernel {shown}: {e}")))?;
    let header = loaded
        .setup_header
        .ok_or_else(|| config_error(format!("kernel {shown}: no setup header")))?;
    // The initramfs must end at or below initrd_addr_max, above the kernel.
    let top = layout
        .low_ram_end()
        .min(u64::from(info.initrd_addr_max) + 1);
    let kernel_end = info.extent.end;
    let initramfs = req
        .initramfs
        .map(|path| initramfs::load(mem, top, kernel_end, path))
        .transpose()?;
    let cmdline = cmdline::build(req.cmdline)?;
    let gdt_limit =
        write_boot_gdt(mem, GuestAddress(BOOT_GDT_ADDR)).context("writing the boot GDT")?;
    let boot = LinuxBootInfo {
        layout: *layout,
        header,
        cmdline: &cmdline,
        rsdp_addr: req.rsdp,
        initramfs,
    };
    let zero_page = write_linux_boot(mem, &boot).context("writing the zero page")?;
    Ok(BootEntry {
        entry: loaded.kernel_load,
        info: zero_page,
        info_register: InfoRegister::Rsi,
        gdt_limit,
    })
}
