//! PVH boot: an ELF kernel with a PVH entry note gets the start info in EBX.

use std::fs::File;

use anyhow::{Context, Result};
use firmware::gdt::write_boot_gdt;
use firmware::layout::{BOOT_GDT_ADDR, HIGH_RAM_START};
use firmware::pvh::{write_pvh_boot, PvhBootInfo};
use firmware::GuestLayout;
use linux_loader::loader::elf::{Elf, PvhBootCapability};
use linux_loader::loader::KernelLoader;
use vm_memory::GuestAddress;

use super::image::LoadExtent;
use super::{cmdline, initramfs, BootEntry, BootRequest, InfoRegister};
use crate::error::config_error;
use crate::memory::GuestMemory;

/// Loads the ELF (and initramfs) and writes the PVH boot information.
pub fn load(
    mem: &GuestMemory,
    layout: &GuestLayout,
    req: &BootRequest<'_>,
    mut file: File,
    extent: &LoadExtent,
) -> Result<BootEntry> {
    let shown = req.kernel.display();
    let loaded = Elf::load(mem, None, &mut file, Some(GuestAddress(HIGH_RAM_START)))
        .map_err(|e| config_error(format!("cannot load kernel {shown}: {e}")))?;
    let PvhBootCapability::PvhEntryPresent(entry) = loaded.pvh_boot_cap else {
        return Err(config_error(format!(
            "kernel {shown} is an ELF without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"
        )));
    };
    let initramfs = req
        .initramfs
        .map(|path| initramfs::load(mem, layout.low_ram_end(), extent.end, path))
        .transpose()?;
    let cmdline = cmdline::build(req.cmdline)?;
    let gdt_limit =
        write_boot_gdt(mem, GuestAddress(BOOT_GDT_ADDR)).context("writing the boot GDT")?;
    let info = PvhBootInfo {
        layout: *layout,
        cmdline: &cmdline,
        rsdp_addr: req.rsdp,
        initramfs,
    };
    let start_info = write_pvh_boot(mem, &info).context("writing the PVH start info")?;
    Ok(BootEntry {
        entry,
        info: start_info,
        info_register: InfoRegister::Rbx,
        gdt_limit,
    })
}
