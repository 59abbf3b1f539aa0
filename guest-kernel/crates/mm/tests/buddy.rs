//! The buddy allocator on a heap arena: splitting, coalescing, counts,
//! alignment, errors, and randomized alloc/free sequences.

mod common;

use common::Arena;
use guest_mm::buddy::{AllocError, BuddyAllocator, FreeError};
use guest_mm::{MAX_PAGE_ORDER, NR_PAGE_ORDERS, PAGE_SIZE};
use proptest::prelude::*;

const MIB: usize = 1 << 20;

fn buddy_over(arena: &Arena, ranges: &[(usize, usize)]) -> BuddyAllocator {
    let ranges: Vec<_> = ranges.iter().map(|&(s, e)| arena.range(s, e)).collect();
    // SAFETY: the ranges are disjoint parts of an arena that outlives the allocator.
    unsafe { BuddyAllocator::new(&ranges, true) }.unwrap()
}

fn pages_in_lists(buddy: &BuddyAllocator) -> usize {
    buddy
        .nr_free()
        .iter()
        .enumerate()
        .map(|(order, n)| n << order)
        .sum()
}

#[test]
fn test_buddy_max_order_block_is_4mib_aligned_and_order_11_fails() {
    let arena = Arena::new(16 * MIB);
    let mut buddy = buddy_over(&arena, &[(0, 16 * MIB)]);
    let block = buddy.alloc(MAX_PAGE_ORDER).unwrap();
    assert_eq!(block % (4 * MIB), 0);
    assert_eq!(
        buddy.alloc(MAX_PAGE_ORDER + 1),
        Err(AllocError::OrderTooLarge { order: 11 })
    );
    assert_eq!(buddy.nr_free().len(), NR_PAGE_ORDERS);
}

#[test]
fn test_buddy_two_order9_buddies_merge_into_one_order10() {
    let arena = Arena::new(16 * MIB);
    // The bitmap goes to the small second range, so the first 8 MiB stay whole.
    let mut buddy = buddy_over(&arena, &[(0, 8 * MIB), (12 * MIB, 12 * MIB + 64 * 1024)]);
    assert_eq!(buddy.nr_free()[10], 2);
    let before = buddy.nr_free();
    let a = buddy.alloc(9).unwrap();
    let b = buddy.alloc(9).unwrap();
    assert_eq!(a ^ b, 2 * MIB, "buddies");
    assert_eq!(buddy.nr_free()[10], 1);
    // SAFETY: both came from `alloc(9)` and are unused.
    unsafe {
        buddy.free(a, 9).unwrap();
        buddy.free(b, 9).unwrap();
    }
    assert_eq!(buddy.nr_free(), before);
}

#[test]
fn test_buddy_unaligned_ranges_give_whole_aligned_blocks() {
    let arena = Arena::new(8 * MIB);
    let mut buddy = buddy_over(
        &arena,
        &[(123, 3 * MIB + 77), (5 * MIB + 4096 * 3, 7 * MIB)],
    );
    let managed = buddy.managed_pages();
    assert_eq!(pages_in_lists(&buddy), managed);
    assert_eq!(buddy.free_pages(), managed);
    let all = arena.all();
    for order in 0..=MAX_PAGE_ORDER {
        if let Ok(a) = buddy.alloc(order) {
            assert_eq!(a % (PAGE_SIZE << order), 0, "order {order}");
            assert!(all.contains(&a) && a + (PAGE_SIZE << order) <= all.end);
        }
    }
}

#[test]
fn test_buddy_refuses_double_free_and_foreign_blocks() {
    let arena = Arena::new(8 * MIB);
    let mut buddy = buddy_over(&arena, &[(0, 4 * MIB)]);
    let a = buddy.alloc(2).unwrap();
    // SAFETY: `a` came from `alloc(2)`; the later frees are refused.
    unsafe {
        buddy.free(a, 2).unwrap();
        assert_eq!(buddy.free(a, 2), Err(FreeError::DoubleFree { addr: a }));
        assert_eq!(
            buddy.free_checked(a + PAGE_SIZE, 0),
            Err(FreeError::DoubleFree {
                addr: a + PAGE_SIZE
            })
        );
        assert_eq!(
            buddy.free(a + PAGE_SIZE, 2),
            Err(FreeError::Misaligned {
                addr: a + PAGE_SIZE,
                order: 2
            })
        );
        let outside = arena.all().end + 4 * MIB;
        assert_eq!(
            buddy.free(outside, 0),
            Err(FreeError::NotManaged { addr: outside })
        );
    }
}

#[test]
fn test_buddy_alloc_exact_returns_the_tail() {
    let arena = Arena::new(8 * MIB);
    let mut buddy = buddy_over(&arena, &[(0, 8 * MIB)]);
    let free = buddy.free_pages();
    let run = buddy.alloc_exact(384, false).unwrap();
    assert_eq!(run % (2 * MIB), 0);
    assert_eq!(buddy.free_pages(), free - 384);
    // SAFETY: the run came from `alloc_exact(384)`.
    unsafe { buddy.free_exact(run, 384).unwrap() };
    assert_eq!(buddy.free_pages(), free);
}

#[test]
fn test_buddy_out_of_memory_then_everything_back() {
    let arena = Arena::new(4 * MIB);
    let mut buddy = buddy_over(&arena, &[(0, 4 * MIB)]);
    let initial = buddy.nr_free();
    let mut pages = Vec::new();
    while let Ok(p) = buddy.alloc(0) {
        pages.push(p);
    }
    assert_eq!(pages.len(), buddy.managed_pages());
    assert_eq!(buddy.alloc(0), Err(AllocError::OutOfMemory { order: 0 }));
    for p in pages {
        // SAFETY: each page came from `alloc(0)`.
        unsafe { buddy.free(p, 0).unwrap() };
    }
    assert_eq!(buddy.nr_free(), initial);
}

#[test]
fn test_buddy_info_line_for_a_fresh_16mib_zone() {
    let arena = Arena::new(16 * MIB);
    let buddy = buddy_over(&arena, &[(0, 16 * MIB)]);
    let line = buddy.info("DMA32").to_string();
    assert!(line.starts_with("Node 0, zone    DMA32 "), "{line}");
    assert_eq!(line.split_whitespace().count(), 4 + NR_PAGE_ORDERS);
    assert!(line.ends_with(" \n"));
}

#[derive(Debug, Clone)]
enum Op {
    Alloc(usize),
    Free(usize),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0usize..=MAX_PAGE_ORDER).prop_map(|o| Op::Alloc(o.saturating_sub(4))),
            1 => (0usize..=MAX_PAGE_ORDER).prop_map(Op::Alloc),
            3 => any::<usize>().prop_map(Op::Free),
        ],
        1..300,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_buddy_blocks_never_overlap_and_everything_coalesces(
        ops in ops(),
        cut in 0usize..PAGE_SIZE * 3,
    ) {
        let arena = Arena::new(16 * MIB);
        let mut buddy = buddy_over(&arena, &[(cut, 6 * MIB + cut), (7 * MIB, 16 * MIB - cut)]);
        let initial = buddy.nr_free();
        let meta = buddy.metadata();
        let mut live: Vec<(usize, usize)> = Vec::new();
        for op in ops {
            match op {
                Op::Alloc(order) => {
                    let zeroed = live.len().is_multiple_of(2);
                    let got = if zeroed { buddy.alloc_zeroed(order) } else { buddy.alloc(order) };
                    if let Ok(a) = got {
                        let end = a + (PAGE_SIZE << order);
                        if zeroed {
                            prop_assert!(all_zero(a, PAGE_SIZE << order), "zeroed block not zero");
                        }
                        // Dirty the whole block, as a user would.
                        // SAFETY: the block is ours.
                        unsafe { std::ptr::write_bytes(a as *mut u8, 0xab, PAGE_SIZE << order) };
                        prop_assert_eq!(a % (PAGE_SIZE << order), 0);
                        prop_assert!(end <= meta.start || a >= meta.end, "overlaps the bitmap");
                        for &(b, o) in &live {
                            prop_assert!(end <= b || b + (PAGE_SIZE << o) <= a, "overlap");
                        }
                        live.push((a, order));
                    }
                }
                Op::Free(pick) if !live.is_empty() => {
                    let (a, order) = live.swap_remove(pick % live.len());
                    // SAFETY: a live block from `alloc(order)`.
                    unsafe { buddy.free(a, order).unwrap() };
                }
                Op::Free(_) => {}
            }
            let used: usize = live.iter().map(|&(_, o)| 1 << o).sum();
            prop_assert_eq!(buddy.free_pages() + used, buddy.managed_pages());
            prop_assert_eq!(pages_in_lists(&buddy), buddy.free_pages());
        }
        for (a, order) in live {
            // SAFETY: a live block from `alloc(order)`.
            unsafe { buddy.free(a, order).unwrap() };
        }
        prop_assert_eq!(buddy.nr_free(), initial);
    }
}

fn all_zero(addr: usize, len: usize) -> bool {
    // SAFETY: the test owns the block.
    unsafe { std::slice::from_raw_parts(addr as *const u8, len) }
        .iter()
        .all(|&b| b == 0)
}

#[test]
fn test_buddy_clean_memory_is_zero_and_kept_for_zeroed_requests() {
    let arena = Arena::new(16 * MIB);
    let mut buddy = buddy_over(&arena, &[(0, 16 * MIB)]);
    // Dirty a few blocks and give them back.
    let dirty: Vec<usize> = (0..8).map(|_| buddy.alloc(0).unwrap()).collect();
    for &d in &dirty {
        // SAFETY: our page; written then freed.
        unsafe {
            std::ptr::write_bytes(d as *mut u8, 0xee, PAGE_SIZE);
            buddy.free(d, 0).unwrap();
        }
    }
    // A plain allocation prefers the dirty pages...
    let again = buddy.alloc(0).unwrap();
    assert!(dirty.contains(&again), "recycled memory first");
    // ...a zeroed one never gets them, at any order, and is all zero.
    for order in [0, 0, 3, 9] {
        let z = buddy.alloc_zeroed(order).unwrap();
        assert!(!dirty.contains(&z));
        assert!(all_zero(z, PAGE_SIZE << order), "order {order} at {z:#x}");
    }
    let run = buddy.alloc_exact(5, true).unwrap();
    assert!(all_zero(run, 5 * PAGE_SIZE));
    // SAFETY: our run, then the dirty page.
    unsafe {
        buddy.free_exact(run, 5).unwrap();
        buddy.free(again, 0).unwrap();
    }
}

#[test]
fn test_buddy_dirty_memory_is_not_handed_out_as_zeroed() {
    let arena = Arena::new(4 * MIB);
    let mut buddy = buddy_over(&arena, &[(0, 4 * MIB)]);
    let mut all = Vec::new();
    while let Ok(p) = buddy.alloc(0) {
        all.push(p);
    }
    for p in all {
        // SAFETY: our pages, freed dirty.
        unsafe { buddy.free(p, 0).unwrap() };
    }
    assert_eq!(
        buddy.alloc_zeroed(0),
        Err(AllocError::OutOfMemory { order: 0 })
    );
    assert!(
        buddy.alloc(MAX_PAGE_ORDER - 1).is_ok(),
        "dirty pages coalesced"
    );
}

#[test]
fn test_buddy_joins_memory_lazily_in_address_order() {
    let arena = Arena::new(16 * MIB);
    let mut buddy = buddy_over(&arena, &[(0, 16 * MIB)]);
    let before = buddy.nr_free();
    let managed = buddy.managed_pages();
    assert_eq!(buddy.free_pages(), managed, "pending memory counts as free");
    let first = buddy.alloc(0).unwrap();
    assert_eq!(first, arena.all().start, "the lowest block joins first");
    assert_eq!(buddy.free_pages(), managed - 1);
    // SAFETY: allocated above.
    unsafe { buddy.free(first, 0).unwrap() };
    assert_eq!(buddy.nr_free(), before);
    // A block still pending cannot be freed.
    let last = arena.all().start + 8 * MIB;
    // SAFETY: refused: the block was never handed out.
    let refused = unsafe { buddy.free_checked(last, 0) };
    assert_eq!(refused, Err(FreeError::DoubleFree { addr: last }));
}
