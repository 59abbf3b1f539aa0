//! The report for an instruction KVM could not emulate: one block on stderr
//! with the instruction, its bytes and the control registers a developer
//! needs, built from plain values so it is testable without KVM.

use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};

/// The vCPU state the report shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureState {
    /// The vCPU index.
    pub cpu: u32,
    /// Instruction pointer.
    pub rip: u64,
    /// Stack pointer.
    pub rsp: u64,
    /// Flags.
    pub rflags: u64,
    /// Control register 0.
    pub cr0: u64,
    /// Control register 3 (page-table root).
    pub cr3: u64,
    /// Control register 4.
    pub cr4: u64,
    /// Extended feature enable register.
    pub efer: u64,
    /// Code-segment L bit (64-bit code).
    pub cs_l: bool,
    /// Code-segment D/B bit (32-bit code).
    pub cs_db: bool,
    /// Instruction bytes from RIP on (KVM's fetch window; may be longer than
    /// the instruction, or empty if they could not be read).
    pub bytes: Vec<u8>,
}

const EFER_LMA: u64 = 1 << 10;
const CR0_PE: u64 = 1;

/// The code size a CPU executes with these registers: 64, 32 or 16 bits.
pub fn bitness_of(efer: u64, cr0: u64, cs_l: bool, cs_db: bool) -> u32 {
    if efer & EFER_LMA != 0 && cs_l {
        64
    } else if cr0 & CR0_PE != 0 && cs_db {
        32
    } else {
        16
    }
}

impl FailureState {
    /// The code size the CPU was executing: 64, 32 or 16 bits.
    pub fn bitness(&self) -> u32 {
        bitness_of(self.efer, self.cr0, self.cs_l, self.cs_db)
    }
}

/// A decoded instruction: its text and length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedInstruction {
    /// Intel-syntax text, e.g. `fld st, tbyte ptr [rax]`.
    pub text: String,
    /// Length in bytes.
    pub len: usize,
}

/// Decodes the first instruction in `bytes`; `None` if it is not valid.
pub fn decode(bytes: &[u8], bitness: u32, rip: u64) -> Option<DecodedInstruction> {
    let mut decoder = Decoder::try_with_ip(bitness, bytes, rip, DecoderOptions::NONE).ok()?;
    let instruction = decoder.decode();
    if instruction.is_invalid() {
        return None;
    }
    let mut formatter = IntelFormatter::new();
    let options = formatter.options_mut();
    options.set_hex_prefix("0x");
    options.set_hex_suffix("");
    options.set_uppercase_hex(false);
    options.set_space_after_operand_separator(true);
    let mut text = String::new();
    formatter.format(&instruction, &mut text);
    Some(DecodedInstruction {
        text,
        len: instruction.len(),
    })
}

/// The block printed on stderr.
pub fn report(state: &FailureState) -> String {
    let decoded = decode(&state.bytes, state.bitness(), state.rip);
    let shown_len = decoded.as_ref().map_or(state.bytes.len(), |d| d.len);
    let bytes = hex_bytes(&state.bytes[..shown_len.min(state.bytes.len())]);
    let instruction = match &decoded {
        Some(d) => d.text.clone(),
        None if state.bytes.is_empty() => "(instruction bytes unavailable)".to_string(),
        None => "(not a valid instruction)".to_string(),
    };
    format!(
        "vmm: emulation failure: KVM could not emulate an instruction on vCPU {cpu}\n\
         \x20 rip:         {rip:#018x} ({bits}-bit code)\n\
         \x20 instruction: {instruction}\n\
         \x20 bytes:       {bytes}\n\
         \x20 cr0={cr0:#x} cr3={cr3:#x} cr4={cr4:#x} efer={efer:#x}\n\
         \x20 rsp={rsp:#x} rflags={rflags:#x}",
        cpu = state.cpu,
        rip = state.rip,
        bits = state.bitness(),
        cr0 = state.cr0,
        cr3 = state.cr3,
        cr4 = state.cr4,
        efer = state.efer,
        rsp = state.rsp,
        rflags = state.rflags,
    )
}

fn hex_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(none)".into();
    }
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long_mode(bytes: &[u8]) -> FailureState {
        FailureState {
            rip: 0x10_2000,
            cr0: 0x8000_0011,
            efer: 0xd00,
            cs_l: true,
            bytes: bytes.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn test_report_decodes_x87_load_and_trims_fetch_window() {
        // fld tbyte ptr [rax], then the rest of KVM's 15-byte fetch window.
        let mut window = vec![0xdb, 0x28];
        window.extend_from_slice(&[0xcc; 8]);
        let text = report(&long_mode(&window));
        assert!(
            text.contains("instruction: fld st, tbyte ptr [rax]"),
            "{text}"
        );
        assert!(text.contains("bytes:       db 28\n"), "{text}");
        assert!(text.contains("(64-bit code)"));
        assert!(text.contains("efer=0xd00"));
    }

    #[test]
    fn test_report_decodes_bmi2_shrx() {
        let d = decode(&[0xc4, 0xe2, 0xfb, 0xf7, 0xc1], 64, 0).unwrap();
        assert_eq!(d.text, "shrx rax, rcx, rax");
        assert_eq!(d.len, 5);
    }

    #[test]
    fn test_report_invalid_bytes_are_shown_raw() {
        let text = report(&long_mode(&[0x0f, 0xff]));
        assert!(text.contains("(not a valid instruction)"));
        assert!(text.contains("0f ff"));
    }

    #[test]
    fn test_report_without_bytes_says_so() {
        assert!(report(&long_mode(&[])).contains("(instruction bytes unavailable)"));
    }

    #[test]
    fn test_bitness_follows_mode() {
        let mut s = long_mode(&[]);
        assert_eq!(s.bitness(), 64);
        s.efer = 0;
        s.cs_db = true;
        assert_eq!(s.bitness(), 32);
        s.cr0 = 0;
        assert_eq!(s.bitness(), 16);
    }
}
