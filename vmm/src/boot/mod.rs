//! Loading a kernel and what it is handed at entry.

mod image;
mod initramfs;
mod pvh;

pub use pvh::{load_pvh, preflight, BootRequest, PvhEntry};
