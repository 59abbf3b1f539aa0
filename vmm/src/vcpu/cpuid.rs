//! Per-vCPU CPUID: KVM's supported set with this vCPU's APIC ID.

use kvm_bindings::CpuId;

const HYPERVISOR_BIT: u32 = 1 << 31;

/// `base` (KVM's supported CPUID) adjusted for the vCPU with `apic_id`.
pub fn vcpu_cpuid(base: &CpuId, apic_id: u8) -> CpuId {
    let mut cpuid = base.clone();
    for entry in cpuid.as_mut_slice() {
        match entry.function {
            1 => {
                entry.ebx = (entry.ebx & 0x00ff_ffff) | (u32::from(apic_id) << 24);
                entry.ecx |= HYPERVISOR_BIT;
            }
            // Extended topology: EDX is the x2APIC ID.
            0xb | 0x1f => entry.edx = u32::from(apic_id),
            _ => {}
        }
    }
    cpuid
}

#[cfg(test)]
mod tests {
    use super::*;
    use kvm_bindings::kvm_cpuid_entry2;

    #[test]
    fn test_vcpu_cpuid_sets_apic_id_and_hypervisor_bit() {
        let entries = [
            kvm_cpuid_entry2 {
                function: 1,
                ebx: 0xff00_0800,
                ..Default::default()
            },
            kvm_cpuid_entry2 {
                function: 0xb,
                index: 0,
                edx: 9,
                ..Default::default()
            },
            kvm_cpuid_entry2 {
                function: 7,
                ebx: 5,
                ..Default::default()
            },
        ];
        let base = CpuId::from_entries(&entries).unwrap();
        let c = vcpu_cpuid(&base, 3);
        let e = c.as_slice();
        assert_eq!(e[0].ebx, 0x0300_0800);
        assert_ne!(e[0].ecx & HYPERVISOR_BIT, 0);
        assert_eq!(e[1].edx, 3);
        assert_eq!(e[2].ebx, 5);
    }
}
