//! Places the initramfs at the top of low RAM, above the kernel.

use std::fs::File;
use std::path::Path;

use anyhow::Result;
use vm_memory::{Bytes, GuestAddress};

use crate::error::config_error;
use crate::memory::GuestMemory;
use crate::size::format_size;

const PAGE: u64 = 4096;

/// Where an initramfs of `size` bytes goes: page-aligned, ending at or
/// below `top`, and entirely above `kernel_end`.
pub fn placement(top: u64, kernel_end: u64, size: u64) -> Option<GuestAddress> {
    let start = top.checked_sub(size)? & !(PAGE - 1);
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

/// Loads the initramfs file below `top` and above `kernel_end`; returns its
/// address and size.
pub fn load(
    mem: &GuestMemory,
    top: u64,
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
    let addr = placement(top, kernel_end, size).ok_or_else(|| {
        config_error(format!(
            "initramfs {shown} ({}) does not fit between the kernel's end ({}) and {}; raise --memory",
            format_size(size),
            format_size(kernel_end),
            format_size(top)
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
    fn test_placement_is_page_aligned_below_top() {
        assert_eq!(
            placement(64 << 20, 0x20_0000, 5000),
            Some(GuestAddress((64 << 20) - 8192))
        );
    }

    #[test]
    fn test_placement_refuses_overlap_with_kernel() {
        assert_eq!(placement(4 << 20, 0x30_0000, 2 << 20), None);
        assert_eq!(placement(4 << 20, 0, 8 << 20), None);
    }
}
