//! Cutting a page range into the largest naturally aligned blocks.

use crate::MAX_PAGE_ORDER;

/// The naturally aligned blocks that tile `[pfn, end)`, largest first at
/// each position: each block of order `o` starts at a multiple of 2^o pages
/// and `o <= MAX_PAGE_ORDER`.
#[derive(Debug, Clone)]
pub struct AlignedBlocks {
    pfn: usize,
    end: usize,
}

impl AlignedBlocks {
    /// The blocks of page frames `[pfn, end)`.
    pub fn new(pfn: usize, end: usize) -> Self {
        Self { pfn, end }
    }
}

impl Iterator for AlignedBlocks {
    /// `(first page frame, order)`.
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.pfn >= self.end {
            return None;
        }
        let left = self.end - self.pfn;
        let fits = (usize::BITS - 1 - left.leading_zeros()) as usize;
        let aligned = self.pfn.trailing_zeros() as usize;
        let order = fits.min(aligned).min(MAX_PAGE_ORDER);
        let block = (self.pfn, order);
        self.pfn += 1 << order;
        Some(block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_aligned_blocks_tile_an_unaligned_range() {
        let blocks: alloc::vec::Vec<_> = AlignedBlocks::new(3, 20).collect();
        assert_eq!(blocks, [(3, 0), (4, 2), (8, 3), (16, 2)]);
    }

    #[test]
    fn test_aligned_blocks_stop_at_max_order() {
        let mut blocks = AlignedBlocks::new(0, 3 << MAX_PAGE_ORDER);
        assert_eq!(blocks.next(), Some((0, MAX_PAGE_ORDER)));
        assert_eq!(blocks.count(), 2);
    }
}
