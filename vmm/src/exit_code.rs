//! The VMM's exit codes: one table, used by `--help`, the README and tests.

/// The guest powered off through ACPI (S5).
pub const POWER_OFF: u8 = 0;
/// Highest exit code a guest can choose through the debug-exit port; larger
/// values are reported as this one.
pub const GUEST_MAX: u8 = 63;
/// Bad command line or configuration: flags, kernel or initramfs file, memory size.
pub const USAGE: u8 = 64;
/// KVM is unusable on this host: /dev/kvm missing, not permitted, or lacking a capability.
pub const KVM_UNAVAILABLE: u8 = 65;
/// The guest asked for a reset (i8042 command 0xfe).
pub const GUEST_RESET: u8 = 66;
/// The guest shut the CPU down (triple fault; KVM_EXIT_SHUTDOWN).
pub const GUEST_SHUTDOWN: u8 = 67;
/// `--timeout` expired before the guest exited.
pub const TIMEOUT: u8 = 68;
/// KVM could not emulate a guest instruction.
pub const EMULATION_FAILURE: u8 = 69;
/// An unexpected failure inside the VMM or KVM while the guest ran.
pub const INTERNAL: u8 = 70;

/// The table printed after `--help`.
pub const HELP_TABLE: &str = "\
Exit codes:
  0     the guest powered off (ACPI S5), or wrote 0 to the debug-exit port
  0-63  the guest wrote this value to the debug-exit port 0xf4 (values above 63 give 63)
  64    bad command line or configuration (flags, kernel or initramfs file, memory size)
  65    KVM unavailable (/dev/kvm missing or not permitted, required capability missing)
  66    guest requested a reset (i8042 0xfe or the ACPI reset register)
  67    guest shut down the CPU (triple fault)
  68    --timeout expired
  69    KVM could not emulate a guest instruction (a report is printed on stderr)
  70    internal VMM error";

/// The exit code for a debug-exit port write of `value`.
pub fn for_debug_exit(value: u32) -> u8 {
    u8::try_from(value).map_or(GUEST_MAX, |v| v.min(GUEST_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_debug_exit_small_values_pass_through() {
        assert_eq!(for_debug_exit(0), 0);
        assert_eq!(for_debug_exit(17), 17);
        assert_eq!(for_debug_exit(63), 63);
    }

    #[test]
    fn test_debug_exit_large_values_saturate_below_vmm_codes() {
        assert_eq!(for_debug_exit(64), GUEST_MAX);
        assert_eq!(for_debug_exit(0x1_0000), GUEST_MAX);
    }
}
