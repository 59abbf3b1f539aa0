//! MSI-X: the capability's registers, the vector table (16 bytes per
//! vector: address low/high, data, vector control) and the pending-bit
//! array, as the PCI Local Bus specification (6.8.2) lays them out. A
//! vector fires only when MSI-X is enabled and neither the function nor the
//! vector is masked; otherwise its pending bit is set and the message goes
//! out when the mask is lifted.

/// The MSI-X capability ID.
pub const MSIX_CAP_ID: u8 = 0x11;
/// Bytes per table entry.
pub const ENTRY_SIZE: u64 = 16;
/// Message control: MSI-X enable.
const CONTROL_ENABLE: u16 = 1 << 15;
/// Message control: function mask.
const CONTROL_FUNCTION_MASK: u16 = 1 << 14;
/// Vector control: masked.
const VECTOR_MASKED: u32 = 1;

/// An interrupt message: write `data` to `address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiMessage {
    /// Message address (LAPIC range on x86).
    pub address: u64,
    /// Message data (vector and delivery mode on x86).
    pub data: u32,
}

/// A function's INTx pin as the interrupt controller sees it: asserted
/// (level high) until the function deasserts it. The VMM drives an IOAPIC
/// input (level-triggered, as the DSDT's `_PRT` routes the pin).
pub trait IntxLine: Send + Sync {
    /// Asserts (`true`) or deasserts the pin.
    fn set_level(&self, asserted: bool);
}

/// Where a function's MSI-X messages go: the VMM turns them into
/// interrupts (KVM GSI routes and irqfds); tests record them.
pub trait MsiSink: Send + Sync {
    /// Delivers `message`, which the function's `vector` produced (the
    /// function has already applied masking and pending bits).
    fn send(&self, vector: u16, message: MsiMessage);
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    address_low: u32,
    address_high: u32,
    data: u32,
    control: u32,
}

/// A function's MSI-X state.
#[derive(Debug, Clone)]
pub struct Msix {
    entries: Vec<Entry>,
    pending: Vec<u64>,
    enabled: bool,
    function_masked: bool,
}

impl Msix {
    /// `vectors` vectors (1 to 2048), all masked, none pending.
    pub fn new(vectors: u16) -> Self {
        let count = usize::from(vectors.clamp(1, 2048));
        let entry = Entry {
            address_low: 0,
            address_high: 0,
            data: 0,
            control: VECTOR_MASKED,
        };
        Self {
            entries: vec![entry; count],
            pending: vec![0; count.div_ceil(64)],
            enabled: false,
            function_masked: false,
        }
    }

    /// The capability body after its ID/next header: message control
    /// (table size - 1), table offset/BIR, PBA offset/BIR; and its write
    /// mask (enable and function mask only).
    pub fn capability(
        &self,
        table_bir: u8,
        table_offset: u32,
        pba_bir: u8,
        pba_offset: u32,
    ) -> ([u8; 10], [u8; 2]) {
        let control = (self.entries.len() as u16 - 1).to_le_bytes();
        let table = ((table_offset & !7) | u32::from(table_bir & 7)).to_le_bytes();
        let pba = ((pba_offset & !7) | u32::from(pba_bir & 7)).to_le_bytes();
        let mut body = [0u8; 10];
        body[..2].copy_from_slice(&control);
        body[2..6].copy_from_slice(&table);
        body[6..].copy_from_slice(&pba);
        (body, [0, 0xc0])
    }

    /// Whether MSI-X is enabled (while it is not, the function uses INTx).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Bytes the vector table occupies in its BAR.
    pub fn table_size(&self) -> u64 {
        self.entries.len() as u64 * ENTRY_SIZE
    }

    /// Bytes the pending-bit array occupies in its BAR.
    pub fn pba_size(&self) -> u64 {
        self.pending.len() as u64 * 8
    }

    /// Takes the message control register's value (after a config write);
    /// returns the messages that become deliverable.
    pub fn set_control(&mut self, control: u16) -> Vec<MsiMessage> {
        self.enabled = control & CONTROL_ENABLE != 0;
        self.function_masked = control & CONTROL_FUNCTION_MASK != 0;
        self.drain_pending()
    }

    /// The device raises `vector`: the message to send now, or None (masked:
    /// now pending; disabled or out of range: dropped).
    pub fn notify(&mut self, vector: u16) -> Option<MsiMessage> {
        let index = usize::from(vector);
        let entry = *self.entries.get(index)?;
        if !self.enabled {
            return None;
        }
        if self.function_masked || entry.control & VECTOR_MASKED != 0 {
            self.set_pending(index, true);
            return None;
        }
        Some(message(&entry))
    }

    fn set_pending(&mut self, index: usize, on: bool) {
        if let Some(word) = self.pending.get_mut(index / 64) {
            let bit = 1u64 << (index % 64);
            *word = if on { *word | bit } else { *word & !bit };
        }
    }

    fn is_pending(&self, index: usize) -> bool {
        self.pending
            .get(index / 64)
            .is_some_and(|w| w & (1 << (index % 64)) != 0)
    }

    /// Messages for pending vectors that are no longer masked.
    fn drain_pending(&mut self) -> Vec<MsiMessage> {
        if !self.enabled || self.function_masked {
            return Vec::new();
        }
        let mut out = Vec::new();
        for index in 0..self.entries.len() {
            if self.is_pending(index) && self.entries[index].control & VECTOR_MASKED == 0 {
                self.set_pending(index, false);
                out.push(message(&self.entries[index]));
            }
        }
        out
    }

    /// A read of the vector table at `offset` (bytes beyond it read as 0).
    pub fn read_table(&self, offset: u64, data: &mut [u8]) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = offset
                .checked_add(i as u64)
                .and_then(|o| self.table_byte(o))
                .unwrap_or(0);
        }
    }

    fn table_byte(&self, offset: u64) -> Option<u8> {
        let entry = self
            .entries
            .get(usize::try_from(offset / ENTRY_SIZE).ok()?)?;
        let word = match offset % ENTRY_SIZE / 4 {
            0 => entry.address_low,
            1 => entry.address_high,
            2 => entry.data,
            _ => entry.control,
        };
        Some(word.to_le_bytes()[(offset % 4) as usize])
    }

    /// A write to the vector table; returns messages an unmask releases.
    pub fn write_table(&mut self, offset: u64, data: &[u8]) -> Vec<MsiMessage> {
        for (i, value) in data.iter().enumerate() {
            let Some(at) = offset.checked_add(i as u64) else {
                continue;
            };
            let Some(entry) = usize::try_from(at / ENTRY_SIZE)
                .ok()
                .and_then(|e| self.entries.get_mut(e))
            else {
                continue;
            };
            let word = match at % ENTRY_SIZE / 4 {
                0 => &mut entry.address_low,
                1 => &mut entry.address_high,
                2 => &mut entry.data,
                _ => &mut entry.control,
            };
            let shift = 8 * (at % 4);
            *word = (*word & !(0xff << shift)) | (u32::from(*value) << shift);
            // Only the mask bit of vector control is defined.
            entry.control &= VECTOR_MASKED;
        }
        self.drain_pending()
    }

    /// A read of the pending-bit array (read-only) at `offset`.
    pub fn read_pba(&self, offset: u64, data: &mut [u8]) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte = offset
                .checked_add(i as u64)
                .and_then(|o| {
                    let word = self.pending.get(usize::try_from(o / 8).ok()?)?;
                    Some(word.to_le_bytes()[(o % 8) as usize])
                })
                .unwrap_or(0);
        }
    }
}

fn message(entry: &Entry) -> MsiMessage {
    MsiMessage {
        address: (u64::from(entry.address_high) << 32) | u64::from(entry.address_low),
        data: entry.data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Programs vector `v` with an address and data, unmasked.
    fn program(m: &mut Msix, v: u64, address: u64, data: u32) {
        let base = v * ENTRY_SIZE;
        m.write_table(base, &(address as u32).to_le_bytes());
        m.write_table(base + 4, &((address >> 32) as u32).to_le_bytes());
        m.write_table(base + 8, &data.to_le_bytes());
        m.write_table(base + 12, &0u32.to_le_bytes());
    }

    #[test]
    fn test_vectors_start_masked_and_disabled() {
        let mut m = Msix::new(4);
        let mut ctl = [0u8; 4];
        m.read_table(12, &mut ctl);
        assert_eq!(u32::from_le_bytes(ctl), 1);
        assert_eq!(m.notify(0), None);
        let mut pba = [0u8; 8];
        m.read_pba(0, &mut pba);
        assert_eq!(pba, [0; 8], "disabled: dropped, not pending");
    }

    #[test]
    fn test_enabled_unmasked_vector_fires_its_message() {
        let mut m = Msix::new(4);
        program(&mut m, 2, 0xfee0_1000, 0x4041);
        m.set_control(CONTROL_ENABLE);
        assert_eq!(
            m.notify(2),
            Some(MsiMessage {
                address: 0xfee0_1000,
                data: 0x4041
            })
        );
        assert_eq!(m.notify(9), None, "no such vector");
    }

    #[test]
    fn test_masked_vector_pends_and_fires_on_unmask() {
        let mut m = Msix::new(70);
        m.set_control(CONTROL_ENABLE);
        program(&mut m, 65, 0xfee0_0000, 0x31);
        m.write_table(65 * ENTRY_SIZE + 12, &1u32.to_le_bytes());
        assert_eq!(m.notify(65), None);
        let mut pba = [0u8; 16];
        m.read_pba(0, &mut pba);
        assert_eq!(pba[8], 0b10, "bit 65 pending");
        let released = m.write_table(65 * ENTRY_SIZE + 12, &0u32.to_le_bytes());
        assert_eq!(
            released,
            vec![MsiMessage {
                address: 0xfee0_0000,
                data: 0x31
            }]
        );
        m.read_pba(0, &mut pba);
        assert_eq!(pba[8], 0);
    }

    #[test]
    fn test_function_mask_holds_every_vector() {
        let mut m = Msix::new(2);
        program(&mut m, 0, 0xfee0_0000, 0x20);
        m.set_control(CONTROL_ENABLE | CONTROL_FUNCTION_MASK);
        assert_eq!(m.notify(0), None);
        assert_eq!(
            m.set_control(CONTROL_ENABLE),
            vec![MsiMessage {
                address: 0xfee0_0000,
                data: 0x20
            }]
        );
    }

    #[test]
    fn test_capability_registers_describe_table_and_pba() {
        let m = Msix::new(8);
        let (body, mask) = m.capability(0, 0x2000, 0, 0x3000);
        assert_eq!(u16::from_le_bytes([body[0], body[1]]), 7);
        assert_eq!(u32::from_le_bytes(body[2..6].try_into().unwrap()), 0x2000);
        assert_eq!(u32::from_le_bytes(body[6..10].try_into().unwrap()), 0x3000);
        assert_eq!(mask, [0, 0xc0]);
        assert_eq!((m.table_size(), m.pba_size()), (128, 8));
    }

    #[test]
    fn test_garbage_accesses_stay_in_bounds() {
        let mut m = Msix::new(3);
        m.set_control(CONTROL_ENABLE);
        for offset in [0, 15, 47, 48, 4096, u64::MAX - 2] {
            m.write_table(offset, &[0xff; 8]);
            let mut buf = [0u8; 8];
            m.read_table(offset, &mut buf);
            m.read_pba(offset, &mut buf);
        }
        let mut ctl = [0u8; 4];
        m.read_table(ENTRY_SIZE * 2 + 12, &mut ctl);
        assert_eq!(
            u32::from_le_bytes(ctl),
            1,
            "reserved vector-control bits read as 0"
        );
    }
}
