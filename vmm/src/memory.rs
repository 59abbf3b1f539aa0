//! Guest RAM: validated against the host, allocated with vm-memory, and
//! registered with KVM.

use anyhow::{Context, Result};
use firmware::layout::HIGH_RAM_START;
use firmware::GuestLayout;
use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::VmFd;
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use crate::error::config_error;
use crate::host;
use crate::size::format_size;

/// The guest's RAM.
pub type GuestMemory = GuestMemoryMmap<()>;

/// Smallest RAM we accept: the legacy first MiB plus one MiB for a kernel.
pub const MIN_RAM: u64 = 2 * HIGH_RAM_START;

/// Checks a `--memory` value against our minimum and the host's RAM.
pub fn validate_ram_size(bytes: u64, host_ram: Option<u64>) -> Result<()> {
    if bytes < MIN_RAM {
        return Err(config_error(format!(
            "--memory {} is too small: at least {} is needed",
            format_size(bytes),
            format_size(MIN_RAM)
        )));
    }
    if !bytes.is_multiple_of(4096) {
        return Err(config_error(format!(
            "--memory {bytes} bytes is not a multiple of the 4 KiB page size"
        )));
    }
    if let Some(host) = host_ram.filter(|h| bytes > *h) {
        return Err(config_error(format!(
            "--memory {} is more than the host's RAM ({})",
            format_size(bytes),
            format_size(host)
        )));
    }
    Ok(())
}

/// Allocates guest RAM for `layout`.
pub fn create_guest_memory(layout: &GuestLayout) -> Result<GuestMemory> {
    validate_ram_size(layout.ram_size(), host::total_ram())?;
    let ranges: Vec<(GuestAddress, usize)> = layout
        .ram_regions()
        .into_iter()
        .map(|(start, len)| usize::try_from(len).map(|len| (start, len)))
        .collect::<Result<_, _>>()
        .context("guest RAM size does not fit this host's address space")?;
    GuestMemoryMmap::from_ranges(&ranges).with_context(|| {
        format!(
            "cannot allocate {} of guest RAM",
            format_size(layout.ram_size())
        )
    })
}

/// Registers every RAM region with KVM as a memory slot.
pub fn register_with_kvm(vm: &VmFd, mem: &GuestMemory) -> Result<()> {
    for (slot, region) in mem.iter().enumerate() {
        let host_addr = mem
            .get_host_address(region.start_addr())
            .context("guest RAM region has no host mapping")?;
        let kvm_region = kvm_userspace_memory_region {
            slot: u32::try_from(slot).context("too many memory slots")?,
            guest_phys_addr: region.start_addr().0,
            memory_size: region.len(),
            userspace_addr: host_addr as u64,
            flags: 0,
        };
        // SAFETY: the region's host mapping is owned by `mem`, which the VMM
        // keeps alive (and never unmaps) for as long as the VM exists.
        unsafe { vm.set_user_memory_region(kvm_region) }
            .with_context(|| format!("KVM_SET_USER_MEMORY_REGION for slot {slot}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code_for;
    use crate::exit_code;

    #[test]
    fn test_validate_ram_rejects_too_small() {
        let err = validate_ram_size(1 << 20, None).unwrap_err();
        assert!(err.to_string().contains("too small"), "{err}");
        assert_eq!(exit_code_for(&err), exit_code::USAGE);
    }

    #[test]
    fn test_validate_ram_rejects_more_than_host() {
        let err = validate_ram_size(8 << 30, Some(4 << 30)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "--memory 8 GiB is more than the host's RAM (4 GiB)"
        );
    }

    #[test]
    fn test_validate_ram_rejects_unaligned() {
        assert!(validate_ram_size((4 << 20) + 1, None).is_err());
    }

    #[test]
    fn test_validate_ram_accepts_normal_sizes() {
        validate_ram_size(256 << 20, Some(24 << 30)).unwrap();
        validate_ram_size(MIN_RAM, None).unwrap();
    }

    #[test]
    fn test_create_guest_memory_spans_layout() {
        let mem = create_guest_memory(&GuestLayout::new(8 << 20)).unwrap();
        assert_eq!(mem.num_regions(), 1);
        assert!(mem.address_in_range(GuestAddress((8 << 20) - 1)));
        assert!(!mem.address_in_range(GuestAddress(8 << 20)));
    }
}
