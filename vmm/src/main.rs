//! `vmm`: boots a kernel in a KVM virtual machine.
//!
//! Errors before the guest runs are one line on stderr and a non-zero exit
//! code (see `exit_code`); the guest's own end maps to the codes there too.

mod boot;
mod cli;
mod console;
mod emulation_failure;
mod error;
mod exit_code;
mod host;
mod machine;
mod memory;
mod platform;
mod size;
mod stop;
mod timings;
mod vcpu;
mod vm;

use std::io::Write;
use std::sync::Arc;

use clap::Parser;

use crate::cli::Cli;
use crate::timings::Timings;

fn main() {
    let timings = Arc::new(Timings::start_now());
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit_code::USAGE } else { 0 };
            // clap formats help, version and usage errors itself.
            let _ = e.print();
            std::process::exit(code.into());
        }
    };
    let code = match machine::run(&cli, timings.clone()) {
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
    }
    let _ = std::io::stdout().flush();
    // vCPU threads may still be inside KVM_RUN; exiting the process ends them.
    std::process::exit(code.into());
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
