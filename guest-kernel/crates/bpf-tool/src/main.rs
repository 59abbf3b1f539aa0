//! `bpf-tool`: verify and run BPF programs with the guest kernel's
//! verifier and interpreter.
//!
//! ```text
//! bpf-tool verify [--prog-type TYPE] [--ctx-size N] < prog.hex
//! bpf-tool run [--mem HEX] [--no-verify] < prog.hex
//! bpf-tool verify --elf prog.o --section xdp
//! ```
//! Programs are hex bytes on stdin (8 per instruction, little endian,
//! whitespace ignored) or a section of a clang BPF ELF object. `verify`
//! prints the verifier log and exits 0 (accepted) or 1 (rejected); `run`
//! prints r0 as `0x...`. Usage and input errors exit 2.

mod elf;
mod hex;
mod run;

use std::io::Read;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use guest_bpf::isa::{decode_program, slots_from_bytes, Insn};
use guest_bpf::maps::{MapDef, MapSet, MapType};
use guest_bpf::verifier::{verify, Caps, Config, ProgType};

#[derive(Parser, Debug)]
#[command(
    name = "bpf-tool",
    about = "Verify and run BPF programs with the guest kernel's verifier"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Verify a program; print the log; exit 0 if accepted, 1 if rejected.
    Verify(Common),
    /// Verify (unless --no-verify) and run a program; print r0.
    Run(RunArgs),
}

#[derive(Args, Debug)]
struct Common {
    /// Program type: mem, socket_filter, kprobe, xdp, cgroup_skb.
    #[arg(long, default_value = "mem")]
    prog_type: String,
    /// Context size in bytes (mem programs).
    #[arg(long, default_value_t = 0)]
    ctx_size: u32,
    /// Load without CAP_BPF/CAP_PERFMON (no loops, no pointer leaks).
    #[arg(long)]
    unpriv: bool,
    /// Read the program from this ELF object instead of stdin.
    #[arg(long, requires = "section")]
    elf: Option<String>,
    /// ELF section holding the program.
    #[arg(long, requires = "elf")]
    section: Option<String>,
    /// Create a map: TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES (TYPE hash,
    /// array, percpu_array); descriptors count from 3.
    #[arg(long = "map")]
    maps: Vec<String>,
}

#[derive(Args, Debug)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Memory handed to the program (hex): r1 points to a copy, r2 holds
    /// its length.
    #[arg(long, default_value = "")]
    mem: String,
    /// Run without verifying.
    #[arg(long)]
    no_verify: bool,
}

fn parse_map(spec: &str) -> Result<MapDef> {
    let parts: Vec<&str> = spec.split(':').collect();
    let [ty, k, v, n] = parts.as_slice() else {
        bail!("--map wants TYPE:KEY:VALUE:ENTRIES, got {spec:?}")
    };
    let map_type = match *ty {
        "hash" => MapType::Hash,
        "array" => MapType::Array,
        "percpu_array" => MapType::PercpuArray,
        _ => bail!("unknown map type {ty:?}"),
    };
    Ok(MapDef {
        map_type,
        key_size: k.parse()?,
        value_size: v.parse()?,
        max_entries: n.parse()?,
    })
}

/// The program and its maps.
fn load(c: &Common) -> Result<(Vec<Insn>, MapSet)> {
    let mut maps = MapSet::new();
    for spec in &c.maps {
        maps.create(parse_map(spec)?, 1)
            .map_err(|e| anyhow::anyhow!("--map {spec}: {e}"))?;
    }
    let slots = match (&c.elf, &c.section) {
        (Some(path), Some(section)) => {
            let data = std::fs::read(path).with_context(|| format!("reading {path}"))?;
            elf::load(&data, section, &mut maps)?
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading stdin")?;
            let bytes = hex::parse(&text)?;
            slots_from_bytes(&bytes).with_context(|| {
                format!(
                    "{} bytes is not a whole number of 8-byte instructions",
                    bytes.len()
                )
            })?
        }
    };
    let prog = decode_program(&slots).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((prog, maps))
}

fn config(c: &Common, ctx_size: u32) -> Result<Config> {
    let prog_type = ProgType::from_name(&c.prog_type)
        .with_context(|| format!("unknown program type {:?}", c.prog_type))?;
    let caps = if c.unpriv { Caps::UNPRIV } else { Caps::ROOT };
    Ok(Config::new(prog_type)
        .with_caps(caps)
        .with_ctx_size(ctx_size))
}

fn main_inner(cli: Cli) -> Result<ExitCode> {
    match cli.cmd {
        Cmd::Verify(c) => {
            let (prog, maps) = load(&c)?;
            let cfg = config(&c, c.ctx_size)?;
            match verify(&prog, &maps, &cfg) {
                Ok(v) => {
                    print!("{}", v.log);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    print!("{}", e.log);
                    Ok(ExitCode::from(1))
                }
            }
        }
        Cmd::Run(r) => {
            let (prog, mut maps) = load(&r.common)?;
            let mem = hex::parse(&r.mem).context("--mem")?;
            let cfg = config(&r.common, mem.len() as u32)?;
            if !r.no_verify {
                if let Err(e) = verify(&prog, &maps, &cfg) {
                    print!("{}", e.log);
                    return Ok(ExitCode::from(1));
                }
            }
            match run::execute(&prog, cfg.prog_type, mem, &mut maps) {
                Ok(r0) => {
                    println!("{r0:#x}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(trap) => {
                    eprintln!("bpf-tool: {trap}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match main_inner(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bpf-tool: {e:#}");
            ExitCode::from(2)
        }
    }
}
