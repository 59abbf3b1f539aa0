//! Linux's boot protocol: the zero page (`struct boot_params`) a bzImage is
//! handed in ESI, with the setup header, the e820 map, the command line,
//! the initramfs and the RSDP, written with linux-loader's configurator.

use linux_loader::cmdline::Cmdline;
use linux_loader::configurator::linux::LinuxBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::bootparam::{boot_e820_entry, boot_params, setup_header};
use thiserror::Error;
use vm_memory::{GuestAddress, GuestMemoryBackend};

use crate::layout::{GuestLayout, BOOT_PARAMS_ADDR, CMDLINE_ADDR};
use crate::memmap::memory_map;

/// `type_of_loader` for a boot loader without an assigned ID.
const LOADER_TYPE_UNDEFINED: u8 = 0xff;

/// Errors writing the zero page.
#[derive(Debug, Error)]
pub enum ZeroPageError {
    /// The command line could not be written.
    #[error("cannot write the kernel command line: {0}")]
    Cmdline(linux_loader::loader::Error),
    /// The zero page could not be written.
    #[error("cannot write the zero page: {0}")]
    BootParams(linux_loader::configurator::Error),
    /// More memory-map entries than the zero page holds.
    #[error("memory map has {0} entries, more than the zero page holds")]
    MemmapTooLarge(usize),
}

/// What a bzImage kernel is handed besides its memory.
#[derive(Debug)]
pub struct LinuxBootInfo<'a> {
    /// RAM layout, turned into the e820 map.
    pub layout: GuestLayout,
    /// The kernel's setup header, as read from its image.
    pub header: setup_header,
    /// The kernel command line.
    pub cmdline: &'a Cmdline,
    /// Where the ACPI RSDP is, if the platform has ACPI tables.
    pub rsdp_addr: Option<GuestAddress>,
    /// The initramfs, as (address, size).
    pub initramfs: Option<(GuestAddress, u64)>,
}

/// The zero page for `info`.
pub fn boot_params_for(info: &LinuxBootInfo<'_>) -> Result<boot_params, ZeroPageError> {
    let mut params = boot_params::default();
    let map = memory_map(&info.layout);
    if map.len() > params.e820_table.len() {
        return Err(ZeroPageError::MemmapTooLarge(map.len()));
    }
    for (slot, entry) in params.e820_table.iter_mut().zip(&map) {
        *slot = boot_e820_entry {
            addr: entry.addr,
            size: entry.size,
            r#type: entry.kind as u32,
        };
    }
    params.e820_entries = map.len() as u8;
    params.acpi_rsdp_addr = info.rsdp_addr.map_or(0, |a| a.0);
    params.hdr = info.header;
    params.hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
    // cmdline_size is the kernel's to state; the VMM checks it beforehand.
    params.hdr.cmd_line_ptr = CMDLINE_ADDR as u32;
    if let Some((addr, size)) = info.initramfs {
        // The caller places the initramfs below 4 GiB (initrd_addr_max).
        params.hdr.ramdisk_image = addr.0 as u32;
        params.hdr.ramdisk_size = size as u32;
    }
    Ok(params)
}

/// Writes the command line and the zero page; returns the zero page's
/// address, which the vCPU gets in ESI.
pub fn write_linux_boot<M: GuestMemoryBackend>(
    mem: &M,
    info: &LinuxBootInfo<'_>,
) -> Result<GuestAddress, ZeroPageError> {
    linux_loader::loader::load_cmdline(mem, GuestAddress(CMDLINE_ADDR), info.cmdline)
        .map_err(ZeroPageError::Cmdline)?;
    let params = boot_params_for(info)?;
    let addr = GuestAddress(BOOT_PARAMS_ADDR);
    LinuxBootConfigurator::write_bootparams::<M>(&BootParams::new(&params, addr), mem)
        .map_err(ZeroPageError::BootParams)?;
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::{Bytes, GuestMemoryMmap};

    #[test]
    fn test_zero_page_has_header_cmdline_e820_initramfs_and_rsdp() {
        let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 64 << 20)]).unwrap();
        let mut cmdline = Cmdline::new(64).unwrap();
        cmdline.insert_str("console=ttyS0").unwrap();
        let header = setup_header {
            header: 0x5372_6448,
            version: 0x20f,
            ..Default::default()
        };
        let info = LinuxBootInfo {
            layout: GuestLayout::new(64 << 20),
            header,
            cmdline: &cmdline,
            rsdp_addr: Some(GuestAddress(0xe0000)),
            initramfs: Some((GuestAddress(0x300_0000), 0x1234)),
        };
        let addr = write_linux_boot(&mem, &info).unwrap();
        let p: boot_params = mem.read_obj(addr).unwrap();
        let hdr = p.hdr;
        assert_eq!(
            (hdr.header, hdr.type_of_loader, hdr.cmd_line_ptr),
            (0x5372_6448, 0xff, 0x20000)
        );
        assert_eq!((hdr.ramdisk_image, hdr.ramdisk_size), (0x300_0000, 0x1234));
        assert_eq!({ p.acpi_rsdp_addr }, 0xe0000);
        assert_eq!(p.e820_entries, 4, "low RAM, BIOS area, RAM, ECAM");
        let last = p.e820_table[2];
        assert_eq!(
            ({ last.addr }, { last.size }, { last.r#type }),
            (0x10_0000, (64 << 20) - 0x10_0000, 1)
        );
        let mut text = [0u8; 14];
        mem.read_slice(&mut text, GuestAddress(0x20000)).unwrap();
        assert_eq!(&text, b"console=ttyS0\0");
    }
}
