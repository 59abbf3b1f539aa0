//! Tests that play the Linux driver against the model (no KVM).

mod build;
mod dc;
mod errors;
mod harness;
mod la;
mod probe;
