//! Transparent huge pages for anonymous memory as Linux 6.8 decides them:
//! the settings ([`ThpSettings`], default `never` as with
//! `CONFIG_TRANSPARENT_HUGEPAGE_NEVER`), which orders a VMA may use
//! ([`allowable_orders`], [`suitable_orders`]), the order a page fault
//! allocates ([`alloc_anon_folio`]), and the per-order counters
//! ([`ThpStats`], the 6.9 `stats/` files).
//!
//! Orders are bitmaps (`u16`, bit n = order n) as in Linux.

mod fault;
mod policy;
mod stats;

pub use fault::{alloc_anon_folio, allowable_orders, suitable_orders, AnonFault, Folio};
pub use policy::{dir_name, order_of_dir, OrderPolicy, ThpError, ThpSettings, TopLevel};
pub use stats::{MthpStat, ThpStats};

/// Order of a PMD mapping (2 MiB of 4 KiB pages).
pub const PMD_ORDER: usize = 9;
/// The orders anonymous memory may use: 2..=PMD_ORDER (order 1 cannot
/// hold a large folio's deferred-split metadata; order 0 is not huge).
pub const THP_ORDERS_ALL_ANON: u16 = ((1 << (PMD_ORDER + 1)) - 1) & !0b11;

/// The highest order in `orders` (which is not empty).
pub(crate) fn highest_order(orders: u16) -> usize {
    15 - orders.leading_zeros() as usize
}
