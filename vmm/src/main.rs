//! `vmm`: boots a kernel in a KVM virtual machine.
//!
//! Errors before the guest runs are one line on stderr and a non-zero exit
//! code (see `exit_code`); the guest's own end maps to the codes there too.

mod boot;
mod cli;
mod console;
mod device_args;
mod emulation_failure;
mod error;
mod exit_code;
mod fallback;
mod host;
mod ioeventfd;
mod irq;
mod machine;
mod memory;
mod pci;
mod platform;
mod size;
mod stop;
mod tap;
mod timings;
mod trace;
mod vcpu;
mod virtio;
mod vm;

use std::sync::Arc;

use clap::Parser;

use crate::cli::Cli;
use crate::fallback::FallbackStats;
use crate::timings::Timings;
use crate::vcpu::ExitStats;

fn main() {
    install_panic_hook();
    let timings = Arc::new(Timings::start_now());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("vmm: error: {} (see --help)", first_line_of_clap_error(&e));
            std::process::exit(exit_code::USAGE.into());
        }
    };
    let fallback = Arc::new(FallbackStats::default());
    let exits = Arc::new(ExitStats::default());
    let code = match machine::run(&cli, timings.clone(), fallback.clone(), exits.clone()) {
        Ok(outcome) => {
            if let Some(message) = outcome.message() {
                eprintln!("{message}");
            }
            outcome.exit_code()
        }
        Err(e) => {
            eprintln!("vmm: error: {}", error_chain(&e));
            error::exit_code_for(&e)
        }
    };
    if cli.timings {
        eprintln!("{}", timings.report());
        eprintln!("{}", exits.report());
        if let Some(report) = fallback.report() {
            eprintln!("{report}");
        }
    }
    // Guest output is already flushed byte by byte (`ConsoleOut`); taking the
    // stdout lock here could wait forever on a vCPU blocked writing to it.
    // vCPU threads may still be inside KVM_RUN; exiting the process ends them.
    std::process::exit(code.into());
}

/// A bug in the VMM ends it with one line and the internal-error code,
/// from any thread, instead of a backtrace, an abort or a hung VM.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed");
        eprintln!("vmm: error: internal error in thread {name}: {info}");
        std::process::exit(exit_code::INTERNAL.into());
    }));
}

/// clap's message on one line: its first paragraph, without usage and tips.
fn first_line_of_clap_error(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let paragraph: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .collect();
    let line = paragraph.join(" ");
    let line = line.trim_start_matches("error: ");
    if line.is_empty() {
        "invalid arguments".into()
    } else {
        line.to_string()
    }
}

/// `outer: inner: innermost`, skipping repeats of the same text.
fn error_chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}
