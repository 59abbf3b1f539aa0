//! The VMA tree: insert/find/split/merge for mmap, munmap, mprotect and
//! madvise, gap search, and a randomized model check.

use guest_mm::vma::{VmFlags, Vma, VmaError, VmaTree};
use proptest::prelude::*;

const PAGE: u64 = 4096;
const R: VmFlags = VmFlags::READ;
const RW: VmFlags = VmFlags(VmFlags::READ.0 | VmFlags::WRITE.0);

fn anon(start: u64, end: u64, flags: VmFlags) -> Vma<u32> {
    Vma {
        start,
        end,
        flags,
        pgoff: start / PAGE,
        data: 0,
    }
}

fn spans(tree: &VmaTree<u32>) -> Vec<(u64, u64, u64)> {
    tree.iter().map(|v| (v.start, v.end, v.flags.0)).collect()
}

#[test]
fn test_vma_insert_merges_adjacent_compatible_areas() {
    let mut t = VmaTree::new();
    t.insert(anon(0x1000, 0x3000, RW)).unwrap();
    t.insert(anon(0x3000, 0x5000, RW)).unwrap();
    t.insert(anon(0x6000, 0x7000, RW)).unwrap();
    t.insert(anon(0x5000, 0x6000, R)).unwrap();
    assert_eq!(
        spans(&t),
        vec![
            (0x1000, 0x5000, 3),
            (0x5000, 0x6000, 1),
            (0x6000, 0x7000, 3)
        ]
    );
    assert_eq!(t.insert(anon(0x2000, 0x4000, RW)), Err(VmaError::Overlap));
    assert_eq!(t.insert(anon(0x8000, 0x8001, RW)), Err(VmaError::Invalid));
    let file = Vma {
        start: 0x7000,
        end: 0x8000,
        flags: RW,
        pgoff: 0,
        data: 7,
    };
    t.insert(file).unwrap();
    assert_eq!(t.len(), 4, "different backing never merges");
}

#[test]
fn test_vma_find_and_intersecting() {
    let mut t = VmaTree::new();
    t.insert(anon(0x1000, 0x3000, RW)).unwrap();
    t.insert(anon(0x5000, 0x6000, R)).unwrap();
    assert_eq!(t.find(0x2fff).map(|v| v.start), Some(0x1000));
    assert!(t.find(0x3000).is_none());
    assert_eq!(t.find_from(0x3000).map(|v| v.start), Some(0x5000));
    assert_eq!(t.intersecting(0x2000, 0x5001).count(), 2);
    assert!(!t.is_fully_mapped(0x1000, 0x6000));
    assert!(t.is_fully_mapped(0x1000, 0x3000));
}

#[test]
fn test_vma_munmap_splits_and_keeps_file_offsets() {
    let mut t = VmaTree::new();
    t.insert(Vma {
        start: 0x10000,
        end: 0x20000,
        flags: RW,
        pgoff: 100,
        data: 1u32,
    })
    .unwrap();
    let removed = t.unmap(0x14000, 0x16000).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        (removed[0].start, removed[0].end, removed[0].pgoff),
        (0x14000, 0x16000, 104)
    );
    let rest: Vec<_> = t.iter().map(|v| (v.start, v.end, v.pgoff)).collect();
    assert_eq!(rest, vec![(0x10000, 0x14000, 100), (0x16000, 0x20000, 106)]);
    assert!(t.unmap(0x30000, 0x31000).unwrap().is_empty());
}

#[test]
fn test_vma_mprotect_splits_then_merges_back() {
    let mut t = VmaTree::new();
    t.insert(anon(0x10000, 0x20000, RW)).unwrap();
    t.update(0x12000, 0x13000, |v| v.flags = R).unwrap();
    assert_eq!(
        spans(&t),
        vec![
            (0x10000, 0x12000, 3),
            (0x12000, 0x13000, 1),
            (0x13000, 0x20000, 3)
        ]
    );
    t.update(0x12000, 0x13000, |v| v.flags = RW).unwrap();
    assert_eq!(spans(&t), vec![(0x10000, 0x20000, 3)]);
}

#[test]
fn test_vma_madvise_over_a_hole_changes_the_mapped_parts_and_reports() {
    let mut t = VmaTree::new();
    t.insert(anon(0x10000, 0x12000, RW)).unwrap();
    t.insert(anon(0x13000, 0x15000, RW)).unwrap();
    let res = t.update(0x11000, 0x14000, |v| v.flags |= VmFlags::HUGEPAGE);
    assert_eq!(res, Err(VmaError::NotMapped));
    let huge = (RW | VmFlags::HUGEPAGE).0;
    assert_eq!(
        spans(&t),
        vec![
            (0x10000, 0x11000, 3),
            (0x11000, 0x12000, huge),
            (0x13000, 0x14000, huge),
            (0x14000, 0x15000, 3)
        ]
    );
}

#[test]
fn test_vma_find_gap_is_top_down_and_aligned() {
    let mut t = VmaTree::new();
    t.insert(anon(0x7000_0000, 0x8000_0000, RW)).unwrap();
    assert_eq!(
        t.find_gap(0x1000, PAGE, 0x1000, 0x8000_0000),
        Some(0x6fff_f000)
    );
    assert_eq!(
        t.find_gap(0x20_0000, 0x20_0000, 0x1000, 0x7000_0000),
        Some(0x6fe0_0000)
    );
    assert_eq!(t.find_gap(0x1000, PAGE, 0x7000_0000, 0x8000_0000), None);
    assert_eq!(
        t.find_gap(0x1000, PAGE, 0x7000_0000, 0x9000_0000),
        Some(0x8fff_f000)
    );
}

#[derive(Debug, Clone)]
enum Op {
    Map(u64, u64, bool),
    Unmap(u64, u64),
    Protect(u64, u64, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let range = (0u64..64, 1u64..16).prop_map(|(s, l)| (s, (s + l).min(64)));
    prop_oneof![
        (range.clone(), any::<bool>()).prop_map(|((s, e), w)| Op::Map(s, e, w)),
        range.clone().prop_map(|(s, e)| Op::Unmap(s, e)),
        (range, any::<bool>()).prop_map(|((s, e), w)| Op::Protect(s, e, w)),
    ]
}

proptest! {
    /// The tree agrees page by page with a plain array model, stays sorted
    /// and non-overlapping, and never leaves two mergeable neighbours.
    #[test]
    fn prop_vma_tree_matches_a_page_model(ops in prop::collection::vec(op(), 1..60)) {
        let mut t: VmaTree<u32> = VmaTree::new();
        let mut model: [Option<u64>; 64] = [None; 64];
        for op in ops {
            match op {
                Op::Map(s, e, w) => {
                    let flags = if w { RW } else { R };
                    let free = (s..e).all(|p| model[p as usize].is_none());
                    let res = t.insert(anon(s * PAGE, e * PAGE, flags));
                    prop_assert_eq!(res.is_ok(), free);
                    if free {
                        (s..e).for_each(|p| model[p as usize] = Some(flags.0));
                    }
                }
                Op::Unmap(s, e) => {
                    t.unmap(s * PAGE, e * PAGE).unwrap();
                    (s..e).for_each(|p| model[p as usize] = None);
                }
                Op::Protect(s, e, w) => {
                    let flags = if w { RW } else { R };
                    let _ = t.update(s * PAGE, e * PAGE, |v| v.flags = flags);
                    (s..e).for_each(|p| {
                        if model[p as usize].is_some() {
                            model[p as usize] = Some(flags.0);
                        }
                    });
                }
            }
            for p in 0..64u64 {
                prop_assert_eq!(t.find(p * PAGE).map(|v| v.flags.0), model[p as usize]);
            }
            let areas: Vec<_> = t.iter().cloned().collect();
            for w in areas.windows(2) {
                prop_assert!(w[0].end <= w[1].start);
                prop_assert!(!(w[0].end == w[1].start && w[0].flags == w[1].flags), "unmerged");
            }
        }
    }
}
