//! Driver-level tests of the transport and the device models.

#![allow(missing_docs)]

mod blk;
mod harness;
mod net;
mod rng;
mod transport;
