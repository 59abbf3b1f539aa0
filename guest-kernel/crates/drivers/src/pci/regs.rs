//! Configuration-space register offsets and bits (PCI Local Bus 3.0 and
//! PCI Express Base 4.0, the type 0 and type 1 headers).

/// Vendor ID (16 bits); all ones when no function answers.
pub const VENDOR_ID: u16 = 0x00;
/// Device ID (16 bits).
pub const DEVICE_ID: u16 = 0x02;
/// Command register (16 bits).
pub const COMMAND: u16 = 0x04;
/// Status register (16 bits).
pub const STATUS: u16 = 0x06;
/// Revision ID (8 bits), then the class code (24 bits) in the same dword.
pub const REVISION_CLASS: u16 = 0x08;
/// Header type (8 bits): layout in bits 6:0, multi-function in bit 7.
pub const HEADER_TYPE: u16 = 0x0e;
/// First base address register.
pub const BAR0: u16 = 0x10;
/// Type 1: primary, secondary and subordinate bus numbers.
pub const BRIDGE_BUSES: u16 = 0x18;
/// Capabilities pointer (8 bits).
pub const CAPABILITIES_POINTER: u16 = 0x34;
/// Where extended capabilities start.
pub const EXT_CAPS_START: u16 = 0x100;

/// Command: I/O space decode.
pub const COMMAND_IO: u16 = 1 << 0;
/// Command: memory space decode.
pub const COMMAND_MEMORY: u16 = 1 << 1;
/// Command: bus master (the function may do DMA and send MSI-X).
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// Command: INTx emulation disabled.
pub const COMMAND_INTX_DISABLE: u16 = 1 << 10;
/// Status: the function has a capability list.
pub const STATUS_CAP_LIST: u16 = 1 << 4;
/// Header type: the device has more than one function.
pub const HEADER_MULTI_FUNCTION: u8 = 0x80;

/// BAR bit 0: I/O space.
pub const BAR_IO: u32 = 1 << 0;
/// BAR bits 2:1 = 0b10: a 64-bit memory BAR (takes the next register too).
pub const BAR_MEM_TYPE_64: u32 = 0b10 << 1;
/// Mask of the memory type bits.
pub const BAR_MEM_TYPE_MASK: u32 = 0b11 << 1;
/// BAR bit 3: prefetchable memory.
pub const BAR_PREFETCHABLE: u32 = 1 << 3;
/// Address bits of a memory BAR.
pub const BAR_MEM_ADDRESS_MASK: u32 = !0xf;
/// Address bits of an I/O BAR.
pub const BAR_IO_ADDRESS_MASK: u32 = !0x3;

/// Capability ID: PCI Express.
pub const CAP_ID_PCIE: u8 = 0x10;
/// Capability ID: MSI-X.
pub const CAP_ID_MSIX: u8 = 0x11;
/// Capability ID: vendor specific (virtio uses these).
pub const CAP_ID_VENDOR: u8 = 0x09;
/// PCI Express capability: the capabilities register (16 bits), whose
/// bits 7:4 give the device/port type.
pub const PCIE_CAPABILITIES: u16 = 0x02;
/// Port type: root port of a root complex.
pub const PCIE_TYPE_ROOT_PORT: u16 = 0x4;
/// Port type: downstream port of a switch.
pub const PCIE_TYPE_DOWNSTREAM: u16 = 0x6;
