//! What the loader asks for and who it is.

use super::prog_type::ProgType;

/// Capabilities of the loading process (Linux's `bpf_capable()`,
/// `perfmon_capable()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// `CAP_BPF`: bounded loops, bpf-to-bpf calls, more helpers.
    pub bpf: bool,
    /// `CAP_PERFMON`: pointer leaks, uninitialised stack reads,
    /// trace_printk, no Spectre v1 restrictions.
    pub perfmon: bool,
}

impl Caps {
    /// Root: everything (how the selftests' "privileged" runs load).
    pub const ROOT: Caps = Caps {
        bpf: true,
        perfmon: true,
    };
    /// `CAP_BPF` alone.
    pub const BPF: Caps = Caps {
        bpf: true,
        perfmon: false,
    };
    /// Nothing (`unprivileged_bpf_disabled=0`).
    pub const UNPRIV: Caps = Caps {
        bpf: false,
        perfmon: false,
    };
}

/// Verification request.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Program type.
    pub prog_type: ProgType,
    /// Context size for [`ProgType::Mem`].
    pub ctx_size: u32,
    /// Loader capabilities.
    pub caps: Caps,
    /// `BPF_F_TEST_REG_INVARIANTS`: an impossible register state is an
    /// error (`EFAULT`) instead of being reset to unknown.
    pub test_reg_invariants: bool,
    /// `BPF_F_STRICT_ALIGNMENT`.
    pub strict_alignment: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            prog_type: ProgType::Mem,
            ctx_size: 0,
            caps: Caps::ROOT,
            test_reg_invariants: false,
            strict_alignment: false,
        }
    }
}

impl Config {
    /// A root config for `prog_type`.
    pub fn new(prog_type: ProgType) -> Config {
        Config {
            prog_type,
            ..Config::default()
        }
    }

    /// With other capabilities.
    pub fn with_caps(mut self, caps: Caps) -> Config {
        self.caps = caps;
        self
    }

    /// With a context size (mem programs).
    pub fn with_ctx_size(mut self, n: u32) -> Config {
        self.ctx_size = n;
        self
    }
}
