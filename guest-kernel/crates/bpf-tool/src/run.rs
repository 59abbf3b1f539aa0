//! Running a program on a memory buffer, with a context shaped for its
//! program type.

use guest_bpf::helpers::HelperEnv;
use guest_bpf::interp::{run, Input, RunOptions, Trap, PACKET_BASE};
use guest_bpf::isa::Insn;
use guest_bpf::maps::MapSet;
use guest_bpf::verifier::ProgType;

/// Real time and randomness; trace lines to stderr.
struct HostEnv {
    start: std::time::Instant,
    seed: u64,
}

impl HelperEnv for HostEnv {
    fn ktime_get_ns(&mut self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    fn prandom_u32(&mut self) -> u32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 32) as u32
    }

    fn cpu(&self) -> u32 {
        0
    }

    fn trace(&mut self, line: &str) {
        eprintln!("trace: {line}");
    }
}

/// Run with `mem` as the context (mem, kprobe) or as the packet (xdp,
/// socket_filter, cgroup_skb, whose context is built around it).
pub fn execute(
    prog: &[Insn],
    ty: ProgType,
    mut mem: Vec<u8>,
    maps: &mut MapSet,
) -> Result<u64, Trap> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut env = HostEnv {
        start: std::time::Instant::now(),
        seed,
    };
    let opts = RunOptions::default();
    let len = mem.len() as u32;
    let data = PACKET_BASE as u32;
    let (mut ctx, packet): (Vec<u8>, &mut [u8]) = match ty {
        ProgType::Mem => (std::mem::take(&mut mem), &mut []),
        ProgType::Kprobe => {
            let mut regs = std::mem::take(&mut mem);
            regs.resize(168.max(regs.len()), 0);
            (regs, &mut [])
        }
        ProgType::Xdp => {
            let mut md = vec![0u8; 24];
            md[0..4].copy_from_slice(&data.to_le_bytes());
            md[4..8].copy_from_slice(&(data + len).to_le_bytes());
            md[8..12].copy_from_slice(&data.to_le_bytes());
            (md, &mut mem)
        }
        ProgType::SocketFilter | ProgType::CgroupSkb => {
            let mut skb = vec![0u8; 192];
            skb[0..4].copy_from_slice(&len.to_le_bytes());
            skb[76..80].copy_from_slice(&data.to_le_bytes());
            skb[80..84].copy_from_slice(&(data + len).to_le_bytes());
            (skb, &mut mem)
        }
    };
    run(
        prog,
        Input {
            ctx: &mut ctx,
            packet,
        },
        maps,
        &mut env,
        &opts,
    )
    .map(|o| o.r0)
}
