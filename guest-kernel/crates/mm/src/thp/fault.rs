//! Which orders a VMA may use, and the order an anonymous page fault
//! allocates (`thp_vma_allowable_orders`, `thp_vma_suitable_orders`,
//! `do_huge_pmd_anonymous_page` and `alloc_anon_folio`).

use super::policy::{ThpSettings, TopLevel};
use super::stats::{MthpStat, ThpStats};
use super::{highest_order, PMD_ORDER, THP_ORDERS_ALL_ANON};
use crate::vma::VmFlags;
use crate::PAGE_SIZE;

/// The orders of `orders` an anonymous VMA with `flags` may use at fault
/// time: `always` orders, `madvise` ones for `MADV_HUGEPAGE` VMAs,
/// `inherit` ones when the top level is `always` (or `madvise` and the VMA
/// has `MADV_HUGEPAGE`); none for `MADV_NOHUGEPAGE`, special VMAs, or a
/// process with THP disabled (`prctl(PR_SET_THP_DISABLE)`).
pub fn allowable_orders(
    settings: &ThpSettings,
    flags: VmFlags,
    thp_disabled: bool,
    orders: u16,
) -> u16 {
    let hugepage = flags.contains(VmFlags::HUGEPAGE);
    let mut mask = settings.always;
    if hugepage {
        mask |= settings.madvise;
    }
    let inherit = match settings.top {
        TopLevel::Always => true,
        TopLevel::Madvise => hugepage,
        TopLevel::Never => false,
    };
    if inherit {
        mask |= settings.inherit;
    }
    let orders = orders & mask & THP_ORDERS_ALL_ANON;
    if orders == 0
        || thp_disabled
        || flags.intersects(VmFlags::NOHUGEPAGE | VmFlags::SPECIAL | VmFlags::HUGETLB)
    {
        return 0;
    }
    orders
}

/// The orders of `orders` whose naturally aligned block around `addr`
/// lies entirely inside `[start, end)`.
pub fn suitable_orders(start: u64, end: u64, addr: u64, orders: u16) -> u16 {
    let mut result = 0;
    for order in 0..16 {
        if orders & (1 << order) == 0 {
            continue;
        }
        let size = (PAGE_SIZE as u64) << order;
        let aligned = addr & !(size - 1);
        if aligned >= start && aligned.checked_add(size).is_some_and(|e| e <= end) {
            result |= 1 << order;
        }
    }
    result
}

/// An anonymous page fault, as the order choice needs to see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnonFault {
    /// The VMA's start.
    pub vma_start: u64,
    /// The VMA's end.
    pub vma_end: u64,
    /// The VMA's flags.
    pub flags: VmFlags,
    /// The faulting address.
    pub addr: u64,
    /// A write fault (a read fault maps the shared zero page instead).
    pub write: bool,
    /// The process disabled THP (`MMF_DISABLE_THP`).
    pub thp_disabled: bool,
    /// Whether the page table has no PMD-level entry for `addr` yet (a
    /// PMD-size folio can only go into an empty PMD).
    pub pmd_none: bool,
}

/// What [`alloc_anon_folio`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Folio<T> {
    /// The folio's order (0: a single page).
    pub order: usize,
    /// Where it is mapped: the fault address aligned down to the folio size.
    pub addr: u64,
    /// What the allocator returned.
    pub block: T,
}

/// Chooses and allocates the folio for an anonymous write fault, as Linux
/// 6.8 does (`do_huge_pmd_anonymous_page`, then `alloc_anon_folio`):
///
/// 1. PMD order, if allowed, suitable and the PMD is empty.
/// 2. Orders below `PMD_ORDER` that are allowed and suitable, from the
///    highest down to the first whose aligned range `range_none(start,
///    pages)` reports entirely unpopulated (lower ones remain).
/// 3. Each remaining order from the highest: `alloc(order)`; on failure
///    count a fallback and try the next.
/// 4. Order 0.
///
/// Successes count `anon_fault_alloc`, failures `anon_fault_fallback` (not
/// for order 0). `None` only if even the order-0 allocation failed. A read
/// fault or a VMA armed with userfaultfd goes straight to order 0.
pub fn alloc_anon_folio<T>(
    settings: &ThpSettings,
    stats: &ThpStats,
    fault: &AnonFault,
    mut range_none: impl FnMut(u64, usize) -> bool,
    mut alloc: impl FnMut(usize) -> Option<T>,
) -> Option<Folio<T>> {
    let page = PAGE_SIZE as u64;
    let at = |order: usize| fault.addr & !((page << order) - 1);
    let uffd = fault
        .flags
        .intersects(VmFlags::UFFD_MISSING | VmFlags::UFFD_WP);
    if fault.write && !uffd {
        let allowed = allowable_orders(
            settings,
            fault.flags,
            fault.thp_disabled,
            THP_ORDERS_ALL_ANON,
        );
        let mut orders = suitable_orders(fault.vma_start, fault.vma_end, fault.addr, allowed);
        let pmd = 1 << PMD_ORDER;
        if orders & pmd != 0 && fault.pmd_none {
            match alloc(PMD_ORDER) {
                Some(block) => {
                    stats.count(PMD_ORDER, MthpStat::AnonFaultAlloc);
                    return Some(Folio {
                        order: PMD_ORDER,
                        addr: at(PMD_ORDER),
                        block,
                    });
                }
                None => stats.count(PMD_ORDER, MthpStat::AnonFaultFallback),
            }
        }
        orders &= pmd - 1;
        // Drop orders whose range already has a page mapped.
        while orders != 0 {
            let order = highest_order(orders);
            if range_none(at(order), 1 << order) {
                break;
            }
            orders &= !(1 << order);
        }
        while orders != 0 {
            let order = highest_order(orders);
            if let Some(block) = alloc(order) {
                stats.count(order, MthpStat::AnonFaultAlloc);
                return Some(Folio {
                    order,
                    addr: at(order),
                    block,
                });
            }
            stats.count(order, MthpStat::AnonFaultFallback);
            orders &= !(1 << order);
        }
    }
    alloc(0).map(|block| Folio {
        order: 0,
        addr: at(0),
        block,
    })
}
