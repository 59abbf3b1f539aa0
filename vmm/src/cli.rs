//! The command line, in Cloud Hypervisor's spirit: one flag per concern,
//! each explained by `--help`.

use std::path::PathBuf;

use clap::Parser;

use crate::device_args::{parse_disk, parse_net, DiskArg, NetArg};
use crate::exit_code::HELP_TABLE;
use crate::size::parse_size;

/// Boots a kernel in a KVM virtual machine with a serial console on stdio.
#[derive(Debug, Parser)]
#[command(name = "vmm", version, after_help = HELP_TABLE)]
pub struct Cli {
    /// Kernel to boot: an ELF with a PVH entry note (e.g. Linux's vmlinux) or a
    /// Linux bzImage (boot protocol 2.06+); recognised by content.
    #[arg(long, value_name = "PATH")]
    pub kernel: PathBuf,

    /// Initial ramdisk: the first PVH module, or the bzImage's ramdisk.
    #[arg(long, value_name = "PATH")]
    pub initramfs: Option<PathBuf>,

    /// Kernel command line.
    #[arg(long, value_name = "STR", default_value = "console=ttyS0")]
    pub cmdline: String,

    /// Guest RAM: 256M, 1G, 512MiB, ... (a bare number is MiB). At most the host's RAM.
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub memory: u64,

    /// Number of vCPUs (1 to 255, and at most what KVM allows).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=255))]
    pub cpus: u8,

    /// Stop the guest after this many seconds (fractions allowed) with exit code 68.
    #[arg(long, value_name = "SECS", value_parser = parse_timeout, allow_negative_numbers = true)]
    pub timeout: Option<f64>,

    /// Print start-up and exit timings and the peak RSS on stderr when the VM ends.
    #[arg(long)]
    pub timings: bool,

    /// A virtio-blk disk on FILE (repeatable; PCI order is flag order):
    /// path=FILE[,readonly=on][,serial=ID]. readonly=on refuses guest writes
    /// with the virtio error status; flushes reach the file with fdatasync.
    #[arg(long, value_name = "path=FILE,...", value_parser = parse_disk)]
    pub disk: Vec<DiskArg>,

    /// A virtio-net interface (repeatable), linked to another VM through
    /// Unix datagram sockets, socket=PATH,peer=PATH (each VM binds its own
    /// socket and sends to its peer's), or to a host tap interface,
    /// tap=NAME (created or attached; needs CAP_NET_ADMIN); either with
    /// [,mac=52:54:00:12:34:56].
    #[arg(long, value_name = "socket=PATH,peer=PATH|tap=NAME", value_parser = parse_net)]
    pub net: Vec<NetArg>,

    /// A virtio-rng device fed from the host's getrandom.
    #[arg(long)]
    pub rng: bool,

    /// An emulated PCIe accelerator (repeatable): iaa (Intel IAA 1.0,
    /// 8086:0cfe, the idxd/iaa_crypto compression device; needs MOVDIR64B
    /// on the host CPU), qat (Intel QAT 420xx, 8086:4946, crypto and
    /// compression; Linux's driver loads qat_420xx*.bin firmware).
    #[arg(long, value_name = "NAME", value_enum)]
    pub device: Vec<DeviceKind>,

    /// Log every device register access on stderr (device, space+offset,
    /// size, value); with FILTER only devices whose name contains it
    /// (repeatable: serial, virtio-blk, 01:00.0, root-port, ...).
    #[arg(long, value_name = "FILTER", num_args = 0..=1, default_missing_value = "")]
    pub trace: Vec<String>,
}

/// The emulated devices `--device` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceKind {
    /// Intel IAA 1.0 (In-Memory Analytics Accelerator).
    Iaa,
    /// Intel QAT 420xx (QuickAssist Technology).
    Qat,
}

fn parse_timeout(text: &str) -> Result<f64, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Ok(secs)
    } else {
        Err(format!("'{text}' must be a positive number of seconds"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("vmm").chain(args.iter().copied()))
    }

    #[test]
    fn test_cli_defaults() {
        let cli = parse(&["--kernel", "k"]).unwrap();
        assert_eq!(cli.memory, 256 << 20);
        assert_eq!(cli.cpus, 1);
        assert_eq!(cli.cmdline, "console=ttyS0");
        assert!(cli.timeout.is_none() && !cli.timings && cli.initramfs.is_none());
        assert!(cli.disk.is_empty() && cli.net.is_empty() && !cli.rng && cli.trace.is_empty());
    }

    #[test]
    fn test_cli_parses_every_flag() {
        let cli = parse(&[
            "--kernel",
            "k",
            "--initramfs",
            "i",
            "--cmdline",
            "a b",
            "--memory",
            "1G",
            "--cpus",
            "4",
            "--timeout",
            "2.5",
            "--timings",
            "--disk",
            "path=a.img",
            "--disk",
            "path=b.img,readonly=on",
            "--net",
            "socket=/tmp/a,peer=/tmp/b",
            "--rng",
            "--device",
            "iaa",
            "--trace",
            "--trace",
            "virtio",
        ])
        .unwrap();
        assert_eq!(cli.disk.len(), 2);
        assert!(cli.disk[1].readonly && cli.rng);
        assert_eq!(cli.net.len(), 1);
        assert_eq!(cli.trace, vec!["", "virtio"]);
        assert_eq!(cli.device, vec![DeviceKind::Iaa]);
        assert_eq!((cli.memory, cli.cpus, cli.timeout), (1 << 30, 4, Some(2.5)));
        assert_eq!(cli.cmdline, "a b");
    }

    #[test]
    fn test_cli_rejects_bad_values() {
        assert!(parse(&[]).is_err(), "kernel is required");
        assert!(parse(&["--kernel", "k", "--cpus", "0"]).is_err());
        assert!(parse(&["--kernel", "k", "--cpus", "256"]).is_err());
        assert!(parse(&["--kernel", "k", "--memory", "lots"]).is_err());
        assert!(parse(&["--kernel", "k", "--timeout", "-1"]).is_err());
        assert!(parse(&["--kernel", "k", "--timeout", "nan"]).is_err());
        assert!(parse(&["--kernel", "k", "--bogus"]).is_err());
        assert!(parse(&["--kernel", "k", "--disk", "x.img"]).is_err());
        assert!(parse(&["--kernel", "k", "--net", "socket=/a"]).is_err());
        assert!(parse(&["--kernel", "k", "--device", "gpu"]).is_err());
    }
}
