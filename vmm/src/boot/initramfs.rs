//! Places the initramfs at the top of low RAM, above the kernel.

use std::fs::File;
use std::path::Path;

use anyhow::Result;
use firmware::GuestLayout;
use vm_memory::{Bytes, GuestAddress};

use crate::error::config_error;
use crate::memory::GuestMemory;
use crate::size::format_size;

const PAGE: u64 = 4096;

/// Where an initramfs of `size` bytes goes: page-aligned, as high as low RAM
/// allows, and entirely above `kernel_end`.
pub fn placement(layout: &GuestLayout, kernel_end: u64, size: u64) -> Option<GuestAddress> {
    let start = layout.low_ram_end().checked_sub(size)? & !(PAGE - 1);
    (start >= kernel_end).then_some(GuestAddress(start))
}

/// Checks that the initramfs can be opened and is a file.
pub fn check_readable(path: &Path) -> Result<()> {
    let file = File::open(path)
        .map_err(|e| config_error(format!("cannot open initramfs {}: {e}", path.display())))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(config_error(format!(
            "initramfs {} is a directory, not a file",
            path.display()
        )));
    }
    Ok(())
}

/// Loads the initramfs file; returns its address and size.
pub fn load(
    mem: &GuestMemory,
    layout: &GuestLayout,
    kernel_end: u64,
    path: &Path,
) -> Result<(GuestAddress, u64)> {
    let shown = path.display();
    let mut file = File::open(path)
        .map_err(|e| config_error(format!("cannot open initramfs {shown}: {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| config_error(format!("cannot read initramfs {shown}: {e}")))?
        .len();
    let addr = placement(layout, kernel_end, size).ok_or_else(|| {
        config_error(format!(
            "initramfs {shown} ({}) does not fit above the kernel in {} of guest RAM; raise --memory",
            format_size(size),
            format_size(layout.ram_size())
        ))
    })?;
    let len = usize::try_from(size).map_err(|_| config_error("initramfs too large"))?;
    mem.read_exact_volatile_from(addr, &mut file, len)
        .map_err(|e| config_error(format!("cannot read initramfs {shown}: {e}")))?;
    Ok((addr, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_placement_is_page_aligned_at_top_of_low_ram() {
        let layout = GuestLayout::new(64 << 20);
        assert_eq!(
            placement(&layout, 0x20_0000, 5000),
            Some(GuestAddress((64 << 20) - 8192))
        );
    }

    #[test]
    fn test_placement_refuses_overlap_with_kernel() {
        let layout = GuestLayout::new(4 << 20);
        assert_eq!(placement(&layout, 0x30_0000, 2 << 20), None);
        assert_eq!(placement(&layout, 0, 8 << 20), None);
    }
}
