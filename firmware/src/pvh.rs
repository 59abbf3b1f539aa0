//! The PVH boot information (`struct hvm_start_info`, its memory map and
//! module list), written with linux-loader's PVH configurator.

use linux_loader::cmdline::Cmdline;
use linux_loader::configurator::pvh::PvhBootConfigurator;
use linux_loader::configurator::{BootConfigurator, BootParams};
use linux_loader::loader::elf::start_info::{
    hvm_memmap_table_entry, hvm_modlist_entry, hvm_start_info,
};
use thiserror::Error;
use vm_memory::{GuestAddress, GuestMemoryBackend};

use crate::layout::{
    GuestLayout, CMDLINE_ADDR, PVH_MEMMAP_ADDR, PVH_MEMMAP_MAX_ENTRIES, PVH_MODLIST_ADDR,
    PVH_START_INFO_ADDR,
};
use crate::memmap::memory_map;

/// `XEN_HVM_START_MAGIC_VALUE`.
pub const PVH_START_MAGIC: u32 = 0x336e_c578;

/// Errors writing the PVH boot information.
#[derive(Debug, Error)]
pub enum PvhError {
    /// The command line could not be written.
    #[error("cannot write the kernel command line: {0}")]
    Cmdline(linux_loader::loader::Error),
    /// The start info, memory map or module list could not be written.
    #[error("cannot write the PVH start info: {0}")]
    StartInfo(linux_loader::configurator::Error),
    /// The memory map has more entries than its page holds.
    #[error("memory map has {0} entries, more than fit in its page")]
    MemmapTooLarge(usize),
}

/// What the guest is handed at its PVH entry besides its memory.
#[derive(Debug)]
pub struct PvhBootInfo<'a> {
    /// RAM layout, turned into the memory map.
    pub layout: GuestLayout,
    /// The kernel command line.
    pub cmdline: &'a Cmdline,
    /// Where the ACPI RSDP is, if the platform has ACPI tables.
    pub rsdp_addr: Option<GuestAddress>,
    /// The initramfs, as (address, size), handed over as the first module.
    pub initramfs: Option<(GuestAddress, u64)>,
}

/// Writes the command line, memory map, module list and start info; returns
/// the start info's address, which the vCPU gets in EBX.
pub fn write_pvh_boot<M: GuestMemoryBackend>(
    mem: &M,
    info: &PvhBootInfo<'_>,
) -> Result<GuestAddress, PvhError> {
    linux_loader::loader::load_cmdline(mem, GuestAddress(CMDLINE_ADDR), info.cmdline)
        .map_err(PvhError::Cmdline)?;

    let memmap: Vec<hvm_memmap_table_entry> = memory_map(&info.layout)
        .iter()
        .map(|e| hvm_memmap_table_entry {
            addr: e.addr,
            size: e.size,
            type_: e.kind as u32,
            reserved: 0,
        })
        .collect();
    if memmap.len() > PVH_MEMMAP_MAX_ENTRIES {
        return Err(PvhError::MemmapTooLarge(memmap.len()));
    }

    let modules: Vec<hvm_modlist_entry> = info
        .initramfs
        .iter()
        .map(|(addr, size)| hvm_modlist_entry {
            paddr: addr.0,
            size: *size,
            cmdline_paddr: 0,
            reserved: 0,
        })
        .collect();

    let start_info = hvm_start_info {
        magic: PVH_START_MAGIC,
        version: 1,
        flags: 0,
        nr_modules: modules.len() as u32,
        modlist_paddr: if modules.is_empty() {
            0
        } else {
            PVH_MODLIST_ADDR
        },
        cmdline_paddr: CMDLINE_ADDR,
        rsdp_paddr: info.rsdp_addr.map_or(0, |a| a.0),
        memmap_paddr: PVH_MEMMAP_ADDR,
        memmap_entries: memmap.len() as u32,
        reserved: 0,
    };

    let start_addr = GuestAddress(PVH_START_INFO_ADDR);
    let mut params = BootParams::new(&start_info, start_addr);
    params.set_sections(&memmap, GuestAddress(PVH_MEMMAP_ADDR));
    if !modules.is_empty() {
        params.set_modules(&modules, GuestAddress(PVH_MODLIST_ADDR));
    }
    PvhBootConfigurator::write_bootparams::<M>(&params, mem).map_err(PvhError::StartInfo)?;
    Ok(start_addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm_memory::{Bytes, GuestMemoryMmap};

    fn guest(size: u64) -> GuestMemoryMmap<()> {
        GuestMemoryMmap::from_ranges(&[(GuestAddress(0), size as usize)]).unwrap()
    }

    #[test]
    fn test_pvh_start_info_points_at_cmdline_and_memmap() {
        let mem = guest(16 << 20);
        let mut cmdline = Cmdline::new(64).unwrap();
        cmdline.insert_str("console=ttyS0").unwrap();
        let info = PvhBootInfo {
            layout: GuestLayout::new(16 << 20),
            cmdline: &cmdline,
            rsdp_addr: Some(GuestAddress(0xe0000)),
            initramfs: Some((GuestAddress(0x80_0000), 0x1234)),
        };
        let addr = write_pvh_boot(&mem, &info).unwrap();
        let si: hvm_start_info = mem.read_obj(addr).unwrap();
        assert_eq!(si.magic, PVH_START_MAGIC);
        assert_eq!(si.rsdp_paddr, 0xe0000);
        assert_eq!(si.memmap_entries, 4, "low RAM, BIOS area, RAM, ECAM");
        assert_eq!(si.nr_modules, 1);
        let mut text = [0u8; 14];
        mem.read_slice(&mut text, GuestAddress(si.cmdline_paddr))
            .unwrap();
        assert_eq!(&text, b"console=ttyS0\0");
        let last: hvm_memmap_table_entry = mem
            .read_obj(GuestAddress(si.memmap_paddr + 2 * 24))
            .unwrap();
        assert_eq!((last.addr, last.size, last.type_), (0x10_0000, 15 << 20, 1));
        let module: hvm_modlist_entry = mem.read_obj(GuestAddress(si.modlist_paddr)).unwrap();
        assert_eq!((module.paddr, module.size), (0x80_0000, 0x1234));
    }

    #[test]
    fn test_pvh_without_acpi_or_initramfs_leaves_fields_zero() {
        let mem = guest(2 << 20);
        let cmdline = Cmdline::new(16).unwrap();
        let info = PvhBootInfo {
            layout: GuestLayout::new(2 << 20),
            cmdline: &cmdline,
            rsdp_addr: None,
            initramfs: None,
        };
        let si: hvm_start_info = mem.read_obj(write_pvh_boot(&mem, &info).unwrap()).unwrap();
        assert_eq!((si.rsdp_paddr, si.nr_modules, si.modlist_paddr), (0, 0, 0));
    }
}
