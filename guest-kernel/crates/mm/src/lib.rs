//! Our guest kernel's memory management, as libraries the kernel wires up
//! and the host tests.
//!
//! - [`buddy`]: the page allocator. Free blocks of 2^order pages for
//!   `order` in `0..=`[`MAX_PAGE_ORDER`] (Linux 6.8's inclusive meaning),
//!   split on allocation and coalesced with their buddies on free; its only
//!   metadata is a bitmap carved from the memory it manages.
//! - [`slub`]: object caches on slabs from the page allocator, Linux's
//!   kmalloc size classes, optional red-zone/poison debugging, and a
//!   [`core::alloc::GlobalAlloc`] adapter.
//! - [`vma`]: an ordered map of virtual memory areas with the splits and
//!   merges mmap, munmap, mprotect and madvise need.
//! - [`thp`]: multi-size transparent huge page policy (the sysfs files) and
//!   the fault-time choice of a folio order, with per-order counters.
//!
//! Addresses are those of the kernel's direct map: in our kernel physical
//! memory is identity-mapped, so a physical address is also a pointer. On
//! the host the same code runs on an ordinary heap buffer.

#![no_std]

extern crate alloc;

pub mod buddy;
pub mod page;
pub mod slub;
pub mod thp;
pub mod vma;

pub use page::{MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGE_SHIFT, PAGE_SIZE};
