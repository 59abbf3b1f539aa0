//! Builders for the standard capabilities every PCIe function of ours
//! carries: the PCI Express capability (PCIe base spec 7.5.3, version 2)
//! and power management (PCI PM 1.2). Each returns the body after the
//! 2-byte ID/next header and the write mask for its leading bytes, ready
//! for [`ConfigSpace::add_capability`](super::ConfigSpace::add_capability).

/// The PCI Express capability ID.
pub const PCIE_CAP_ID: u8 = 0x10;
/// The power management capability ID.
pub const PM_CAP_ID: u8 = 0x01;

/// The device/port type field of the PCI Express capabilities register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciePortType {
    /// A PCI Express endpoint.
    Endpoint = 0x0,
    /// A root complex integrated endpoint (no link).
    IntegratedEndpoint = 0x9,
    /// A root port of the root complex.
    RootPort = 0x4,
}

/// Body bytes of the version-2 PCI Express capability after its header.
const PCIE_BODY_LEN: usize = 0x3c - 2;

/// The PCI Express capability of a function linked at 2.5 GT/s x1 (or of
/// an integrated endpoint, with no link registers in use). Root ports
/// report the link as up (Data Link Layer Link Active) and have the root
/// control/status registers; nothing advertises ASPM, hot-plug or FLR.
pub fn pcie_capability(port_type: PciePortType, port_number: u8) -> (Vec<u8>, Vec<u8>) {
    let mut body = vec![0u8; PCIE_BODY_LEN];
    let mut mask = vec![0u8; 0x30];
    let at = |cap_offset: usize| cap_offset - 2;
    // PCI Express capabilities: version 2, device/port type.
    let capabilities: u16 = 2 | ((port_type as u16) << 4);
    body[at(0x02)..at(0x04)].copy_from_slice(&capabilities.to_le_bytes());
    // Device capabilities: 128-byte max payload, role-based error reporting.
    let device_caps: u32 = 1 << 15;
    body[at(0x04)..at(0x08)].copy_from_slice(&device_caps.to_le_bytes());
    // Device control: error reporting enables, relaxed ordering, max
    // payload, extended tags, no snoop, max read request are writable;
    // the top bit (FLR / bridge retry) is not implemented.
    mask[at(0x08)..at(0x0a)].copy_from_slice(&0x7fffu16.to_le_bytes());
    if port_type != PciePortType::IntegratedEndpoint {
        // Link capabilities: 2.5 GT/s, x1, no ASPM; root ports report
        // Data Link Layer Link Active.
        let dll_active_reporting = u32::from(port_type == PciePortType::RootPort) << 20;
        let link_caps: u32 = 1 | (1 << 4) | dll_active_reporting | (u32::from(port_number) << 24);
        body[at(0x0c)..at(0x10)].copy_from_slice(&link_caps.to_le_bytes());
        // Link control: ASPM control, RCB, common clock, extended sync,
        // and the bandwidth interrupt enables are writable.
        mask[at(0x10)..at(0x12)].copy_from_slice(&0x0ccbu16.to_le_bytes());
        // Link status: 2.5 GT/s x1, slot clock; link active on root ports.
        let link_active = u16::from(port_type == PciePortType::RootPort) << 13;
        let link_status: u16 = 1 | (1 << 4) | (1 << 12) | link_active;
        body[at(0x12)..at(0x14)].copy_from_slice(&link_status.to_le_bytes());
        // Link capabilities 2: 2.5 GT/s supported; link control 2: target 2.5 GT/s.
        body[at(0x2c)..at(0x30)].copy_from_slice(&0x2u32.to_le_bytes());
        body[at(0x30)..at(0x32)].copy_from_slice(&0x1u16.to_le_bytes());
    }
    if port_type == PciePortType::RootPort {
        // Root control: the system-error and PME interrupt enables.
        mask[at(0x1c)..at(0x1e)].copy_from_slice(&0x001fu16.to_le_bytes());
    }
    // Device control 2: completion timeout value/disable, ARI, LTR, 10-bit tags.
    mask[at(0x28)..at(0x2a)].copy_from_slice(&0x043fu16.to_le_bytes());
    (body, mask)
}

/// The power management capability: version 3 (PCI PM 1.2), D0 and
/// D3hot, no soft reset on D3hot to D0 (state survives), with the power
/// state field writable.
pub fn power_management_capability() -> (Vec<u8>, Vec<u8>) {
    let pmc: u16 = 0x0003;
    let pmcsr: u16 = 1 << 3;
    let mut body = vec![0u8; 6];
    body[0..2].copy_from_slice(&pmc.to_le_bytes());
    body[2..4].copy_from_slice(&pmcsr.to_le_bytes());
    let mask = vec![0, 0, 0x03, 0];
    (body, mask)
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigSpace, HeaderType};
    use super::*;

    fn read16(s: &ConfigSpace, offset: usize) -> u16 {
        let mut b = [0u8; 2];
        s.read(offset as u64, &mut b);
        u16::from_le_bytes(b)
    }

    #[test]
    fn test_root_port_capability_reports_type_and_active_link() {
        let mut s = ConfigSpace::new(0x1b36, 0x000c, 0x06_04_00, 0, HeaderType::Bridge);
        let (body, mask) = pcie_capability(PciePortType::RootPort, 3);
        let at = s.add_capability(PCIE_CAP_ID, &body, &mask).unwrap();
        assert_eq!(read16(&s, at + 2), 0x0042, "version 2, root port");
        assert_eq!(read16(&s, at + 0x12) & (1 << 13), 1 << 13, "link active");
        assert_eq!(read16(&s, at + 0x12) & 0x3ff, 0x11, "2.5 GT/s x1");
        let mut b = [0u8; 4];
        s.read(at as u64 + 0x0c, &mut b);
        assert_eq!(b[3], 3, "port number");
        s.write(at as u64 + 2, &[0xff, 0xff]);
        assert_eq!(read16(&s, at + 2), 0x0042, "capabilities are read-only");
        s.write(at as u64 + 0x1c, &[0xff, 0xff]);
        assert_eq!(read16(&s, at + 0x1c), 0x1f);
    }

    #[test]
    fn test_power_state_is_writable_and_rest_read_only() {
        let mut s = ConfigSpace::new(1, 2, 0, 0, HeaderType::Endpoint);
        let (body, mask) = power_management_capability();
        let at = s.add_capability(PM_CAP_ID, &body, &mask).unwrap();
        s.write(at as u64 + 4, &[0xff, 0xff]);
        assert_eq!(read16(&s, at + 4), 0x000b, "D3hot, no soft reset");
        assert_eq!(read16(&s, at + 2), 0x0003);
    }
}
