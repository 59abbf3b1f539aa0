//! Intel QuickAssist Technology 420xx (GEN4) physical function.
//!
//! [`Qat420xx`] is the PCIe endpoint Linux's `qat_420xx` driver binds to
//! (8086:4946): the fuses in extended configuration space, three 64-bit
//! BARs (SRAM with our MSI-X table, PMISC, ETR rings), the power-up
//! handshake, the engine and firmware loader CSRs (firmware accepted
//! structurally, never executed), the admin mailbox, error registers, and
//! 64 ring banks whose requests are computed on the host: symmetric
//! crypto (AES-CBC/CTR/XTS/GCM, SHA-1/2, HMAC from the driver's
//! precomputed states, cipher+hash chains), deflate with compress and
//! verify, and asymmetric requests answered with the PKE error status.
//!
//! Threads: register accesses come from vCPU threads; a ring doorbell
//! only signals an eventfd. The VMM's event thread polls
//! [`Qat420xx::events`] and calls the [`Qat420xx::handler`]'s
//! `handle_event`, which serves the rings and raises MSI-X vectors.

mod admin;
mod bank;
mod buffers;
mod dc;
mod device;
mod irq;
pub mod la;
mod loader;
pub mod msg;
mod pmisc;
pub mod regs;
mod service;
mod sparse;
mod transport;

#[cfg(test)]
mod tests;

pub use device::{Qat420xx, QatError};
pub use transport::DOORBELL_TOKEN;
