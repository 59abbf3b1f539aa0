//! Test helper (not a test): the memory the frame allocator must stay clear
//! of, named, worked out from the start info here rather than taken from
//! `boot::reserved_regions`, so the tests can catch a region it forgets.

use alloc::vec::Vec;

use crate::arch::entry;
use crate::boot;
use crate::memmap::Region;
use crate::pvh::{MemmapEntry, ModlistEntry, START_INFO_SIZE};

/// Every region in use at boot, with a name for failure messages.
pub fn regions() -> Vec<(&'static str, Region)> {
    let info = boot::info();
    let si = &info.start_info;
    let mut out = Vec::with_capacity(8 + 2 * si.modules().len());
    out.push(("first MiB", Region::new(0, 1 << 20)));
    out.push(("kernel image", boot::kernel_image()));
    out.push(("boot stack", entry::boot_stack()));
    out.push(("start info", Region::new(si.paddr, START_INFO_SIZE)));
    if si.cmdline_paddr != 0 {
        let len = info.cmdline.len() as u64 + 1;
        out.push(("command line", Region::new(si.cmdline_paddr, len)));
    }
    let memmap = u64::from(si.memmap_entries) * size_of::<MemmapEntry>() as u64;
    out.push(("memory map", Region::new(si.memmap_paddr, memmap)));
    let modlist = u64::from(si.nr_modules) * size_of::<ModlistEntry>() as u64;
    out.push(("module list", Region::new(si.modlist_paddr, modlist)));
    for m in si.modules() {
        out.push(("module", Region::new(m.paddr, m.size)));
        out.push((
            "module command line",
            Region::new(m.cmdline_paddr, m.cmdline_len()),
        ));
    }
    out.retain(|(_, r)| !r.is_empty());
    out
}

/// `Err` naming the first of `regions` that `range` overlaps.
pub fn check_clear(
    what: &str,
    range: Region,
    regions: &[(&'static str, Region)],
) -> Result<(), alloc::string::String> {
    match regions.iter().find(|(_, r)| r.overlaps(&range)) {
        Some((name, r)) => Err(alloc::format!(
            "{what} {:#x}..{:#x} overlaps the {name} at {:#x}..{:#x}",
            range.start,
            range.end,
            r.start,
            r.end
        )),
        None => Ok(()),
    }
}
