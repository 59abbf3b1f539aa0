//! mTHP settings, sysfs text, allowed orders and fault-time order choice.

use std::cell::RefCell;
use std::collections::BTreeSet;

use guest_mm::thp::{
    alloc_anon_folio, allowable_orders, dir_name, order_of_dir, suitable_orders, AnonFault,
    MthpStat, OrderPolicy, ThpError, ThpSettings, ThpStats, TopLevel,
};
use guest_mm::vma::VmFlags;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const RW: VmFlags = VmFlags(VmFlags::READ.0 | VmFlags::WRITE.0);

/// Faults every page of `[start, start + len)` in address order on an
/// address space with `populated` pages; returns the orders chosen.
fn fault_all(
    settings: &ThpSettings,
    stats: &ThpStats,
    start: u64,
    len: u64,
    flags: VmFlags,
) -> Vec<usize> {
    let populated = RefCell::new(BTreeSet::new());
    let mut orders = Vec::new();
    let mut addr = start;
    while addr < start + len {
        if populated.borrow().contains(&addr) {
            addr += 4096;
            continue;
        }
        let fault = AnonFault {
            vma_start: start,
            vma_end: start + len,
            flags,
            addr,
            write: true,
            thp_disabled: false,
            pmd_none: true,
        };
        let none = |s: u64, pages: usize| {
            let p = populated.borrow();
            (0..pages as u64).all(|i| !p.contains(&(s + i * 4096)))
        };
        let folio = alloc_anon_folio(settings, stats, &fault, none, |_| Some(())).unwrap();
        for i in 0..1u64 << folio.order {
            populated.borrow_mut().insert(folio.addr + i * 4096);
        }
        orders.push(folio.order);
        addr += 4096;
    }
    orders
}

#[test]
fn test_thp_defaults_are_never_with_2m_inherit() {
    let s = ThpSettings::default();
    assert_eq!(s.top, TopLevel::Never);
    assert_eq!(s.top.to_string(), "always madvise [never]");
    assert_eq!(
        s.order_policy(9).unwrap().to_string(),
        "always [inherit] madvise never"
    );
    for order in 2..9 {
        assert_eq!(s.order_policy(order).unwrap(), OrderPolicy::Never);
    }
}

#[test]
fn test_thp_sysfs_writes_parse_like_sysfs() {
    let mut s = ThpSettings::default();
    s.store_order(4, "always\n").unwrap();
    assert_eq!(
        s.order_policy(4).unwrap().to_string(),
        "[always] inherit madvise never"
    );
    assert_eq!(s.store_order(2, "foo"), Err(ThpError::Invalid));
    assert_eq!(
        s.store_order(1, "always"),
        Err(ThpError::NoSuchOrder { order: 1 })
    );
    assert_eq!(
        s.store_order(10, "always"),
        Err(ThpError::NoSuchOrder { order: 10 })
    );
    s.store_order(4, "madvise").unwrap();
    assert_eq!((s.always, s.madvise), (0, 1 << 4), "one bitmap per order");
    s.store_top("madvise").unwrap();
    assert_eq!(s.top.to_string(), "always [madvise] never");
    assert_eq!(s.store_top("inherit"), Err(ThpError::Invalid));
    let dirs: Vec<_> = (2..=9).map(dir_name).collect();
    assert_eq!(dirs[0], "hugepages-16kB");
    assert_eq!(dirs[7], "hugepages-2048kB");
    assert_eq!(order_of_dir("hugepages-64kB"), Some(4));
    assert_eq!(order_of_dir("hugepages-8kB"), None);
}

#[test]
fn test_thp_64k_enabled_others_never_chooses_64k_on_a_2m_region() {
    let mut settings = ThpSettings::default();
    settings.store_order(4, "always").unwrap();
    let stats = ThpStats::new();
    let orders = fault_all(&settings, &stats, 4 * MIB, 2 * MIB, RW);
    assert_eq!(orders, vec![4; 32], "thirty-two 64 KiB folios");
    assert_eq!(stats.get(4, MthpStat::AnonFaultAlloc), 32);
    assert_eq!(stats.get(9, MthpStat::AnonFaultAlloc), 0);
}

#[test]
fn test_thp_all_never_gives_order_0() {
    let mut settings = ThpSettings::default();
    settings.set_order(9, OrderPolicy::Never).unwrap();
    let stats = ThpStats::new();
    let orders = fault_all(&settings, &stats, 4 * MIB, 256 * KIB, RW);
    assert!(orders.iter().all(|&o| o == 0));
    assert_eq!(orders.len(), 64);
}

#[test]
fn test_thp_nohugepage_beats_always() {
    let mut settings = ThpSettings::default();
    settings.store_top("always").unwrap();
    for order in 2..=9 {
        settings.set_order(order, OrderPolicy::Always).unwrap();
    }
    let flags = RW | VmFlags::NOHUGEPAGE;
    assert_eq!(allowable_orders(&settings, flags, false, u16::MAX), 0);
    let stats = ThpStats::new();
    assert!(fault_all(&settings, &stats, 4 * MIB, 128 * KIB, flags)
        .iter()
        .all(|&o| o == 0));
    assert_eq!(
        allowable_orders(&settings, RW, true, u16::MAX),
        0,
        "PR_SET_THP_DISABLE"
    );
}

#[test]
fn test_thp_inherit_follows_top_level_and_madvise() {
    let mut settings = ThpSettings::default();
    let all = u16::MAX;
    assert_eq!(allowable_orders(&settings, RW, false, all), 0);
    settings.store_top("madvise").unwrap();
    assert_eq!(allowable_orders(&settings, RW, false, all), 0);
    assert_eq!(
        allowable_orders(&settings, RW | VmFlags::HUGEPAGE, false, all),
        1 << 9
    );
    settings.store_top("always").unwrap();
    assert_eq!(allowable_orders(&settings, RW, false, all), 1 << 9);
    settings.store_order(5, "madvise").unwrap();
    assert_eq!(allowable_orders(&settings, RW, false, all), 1 << 9);
    assert_eq!(
        allowable_orders(&settings, RW | VmFlags::HUGEPAGE, false, all),
        (1 << 9) | (1 << 5)
    );
}

#[test]
fn test_thp_2m_inherit_with_madvise_maps_a_pmd() {
    let mut settings = ThpSettings::default();
    settings.store_top("madvise").unwrap();
    let stats = ThpStats::new();
    let orders = fault_all(&settings, &stats, 2 * MIB, 4 * MIB, RW | VmFlags::HUGEPAGE);
    assert_eq!(orders, vec![9, 9]);
    assert_eq!(stats.get(9, MthpStat::AnonFaultAlloc), 2);
    assert!(fault_all(&settings, &stats, 2 * MIB, 4 * MIB, RW)
        .iter()
        .all(|&o| o == 0));
}

#[test]
fn test_thp_suitable_orders_need_the_block_inside_the_vma() {
    // A 48 KiB VMA at 64 KiB: no 64 KiB block fits, 16 and 32 KiB ones may.
    let all = 0b11_1111_1100;
    let start = 64 * KIB;
    let orders = suitable_orders(start, start + 48 * KIB, start + 4 * KIB, all);
    assert_eq!(orders, (1 << 2) | (1 << 3));
    let orders = suitable_orders(start, start + 48 * KIB, start + 40 * KIB, all);
    assert_eq!(orders, 1 << 2);
}

#[test]
fn test_thp_populated_page_drops_the_larger_orders() {
    let mut settings = ThpSettings::default();
    for order in [2, 3, 4] {
        settings.set_order(order, OrderPolicy::Always).unwrap();
    }
    let stats = ThpStats::new();
    // Page 0x10000 is populated; a fault at 0x18000 finds the 64 KiB block
    // busy but its upper 32 KiB half empty.
    let fault = AnonFault {
        vma_start: 0,
        vma_end: MIB,
        flags: RW,
        addr: 0x18000,
        write: true,
        thp_disabled: false,
        pmd_none: false,
    };
    let none = |s: u64, pages: usize| !(s..s + pages as u64 * 4096).contains(&0x10000);
    let folio = alloc_anon_folio(&settings, &stats, &fault, none, |_| Some(())).unwrap();
    assert_eq!((folio.order, folio.addr), (3, 0x18000));
}

#[test]
fn test_thp_allocation_failure_falls_back_and_counts() {
    let mut settings = ThpSettings::default();
    for order in [2, 4] {
        settings.set_order(order, OrderPolicy::Always).unwrap();
    }
    let stats = ThpStats::new();
    let fault = AnonFault {
        vma_start: 0,
        vma_end: MIB,
        flags: RW,
        addr: 0x23000,
        write: true,
        thp_disabled: false,
        pmd_none: true,
    };
    let folio = alloc_anon_folio(
        &settings,
        &stats,
        &fault,
        |_, _| true,
        |o| (o < 4).then_some(o),
    )
    .unwrap();
    assert_eq!((folio.order, folio.addr), (2, 0x20000));
    assert_eq!(stats.get(4, MthpStat::AnonFaultFallback), 1);
    assert_eq!(stats.get(2, MthpStat::AnonFaultAlloc), 1);
    let read = AnonFault {
        write: false,
        ..fault
    };
    let folio = alloc_anon_folio(&settings, &stats, &read, |_, _| true, Some).unwrap();
    assert_eq!(folio.order, 0, "read faults map the zero page");
    let uffd = AnonFault {
        flags: RW | VmFlags::UFFD_MISSING,
        ..fault
    };
    assert_eq!(
        alloc_anon_folio(&settings, &stats, &uffd, |_, _| true, Some)
            .unwrap()
            .order,
        0
    );
}
