//! A tiny pseudo file system for the files user programs tune and read,
//! shaped like Linux's:
//!
//! ```text
//! /sys/kernel/mm/transparent_hugepage/enabled                       rw
//! /sys/kernel/mm/transparent_hugepage/hugepages-<kB>kB/enabled       rw
//! /sys/kernel/mm/transparent_hugepage/hugepages-<kB>kB/stats/anon_fault_alloc     r
//! /sys/kernel/mm/transparent_hugepage/hugepages-<kB>kB/stats/anon_fault_fallback  r
//! ```
//!
//! for `<kB>` in 16..2048. A file's text is taken when it is opened;
//! a write applies at once (`EINVAL` for a value the file does not take).

use alloc::string::String;

use guest_abi::errno::EINVAL;

use crate::uvm::thp;

const THP_DIR: &str = "sys/kernel/mm/transparent_hugepage/";

/// A pseudo file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Node {
    /// `transparent_hugepage/enabled`.
    ThpEnabled,
    /// `hugepages-<size>kB/enabled` of an order.
    OrderEnabled(usize),
    /// `hugepages-<size>kB/stats/anon_fault_alloc` of an order.
    FaultAlloc(usize),
    /// `hugepages-<size>kB/stats/anon_fault_fallback` of an order.
    FaultFallback(usize),
}

/// The node at `path` (absolute or relative to `/`), if any.
pub fn lookup(path: &str) -> Option<Node> {
    let rest = guest_abi::cpio::normalize(path).strip_prefix(THP_DIR)?;
    if rest == "enabled" {
        return Some(Node::ThpEnabled);
    }
    let (dir, file) = rest.split_once('/')?;
    let kb = dir.strip_prefix("hugepages-")?.strip_suffix("kB")?;
    let order = thp::order_of_kb(kb.parse().ok()?)?;
    match file {
        "enabled" => Some(Node::OrderEnabled(order)),
        "stats/anon_fault_alloc" => Some(Node::FaultAlloc(order)),
        "stats/anon_fault_fallback" => Some(Node::FaultFallback(order)),
        _ => None,
    }
}

/// Whether the file may be opened for writing.
pub fn writable(node: Node) -> bool {
    matches!(node, Node::ThpEnabled | Node::OrderEnabled(_))
}

/// The file's text now.
pub fn read(node: Node) -> String {
    match node {
        Node::ThpEnabled => alloc::format!("{}\n", thp::settings().top),
        Node::OrderEnabled(order) => match thp::settings().order_policy(order) {
            Ok(policy) => alloc::format!("{policy}\n"),
            Err(_) => String::new(),
        },
        Node::FaultAlloc(order) => alloc::format!("{}\n", thp::stats(order).0),
        Node::FaultFallback(order) => alloc::format!("{}\n", thp::stats(order).1),
    }
}

/// Applies a write of `bytes`; `Err(errno)` if the value is not taken.
pub fn write(node: Node, bytes: &[u8]) -> Result<(), i64> {
    let text = core::str::from_utf8(bytes).map_err(|_| EINVAL)?;
    let result = match node {
        Node::ThpEnabled => thp::update(|s| s.store_top(text)),
        Node::OrderEnabled(order) => thp::update(|s| s.store_order(order, text)),
        _ => return Err(EINVAL),
    };
    result.map_err(|_| EINVAL)
}
