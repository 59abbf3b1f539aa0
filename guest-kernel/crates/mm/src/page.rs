//! Page-size constants and order arithmetic (x86_64, 4 KiB pages).

/// log2 of the page size.
pub const PAGE_SHIFT: u32 = 12;
/// Bytes in a page.
pub const PAGE_SIZE: usize = 1 << PAGE_SHIFT;
/// The largest buddy order, inclusive (Linux 6.8's `MAX_PAGE_ORDER`, x86
/// default): a block of 2^10 pages = 4 MiB.
pub const MAX_PAGE_ORDER: usize = 10;
/// Number of free lists, one per order `0..=MAX_PAGE_ORDER`
/// (`NR_PAGE_ORDERS`).
pub const NR_PAGE_ORDERS: usize = MAX_PAGE_ORDER + 1;
/// Pages in the largest block (`MAX_ORDER_NR_PAGES`).
pub const MAX_ORDER_NR_PAGES: usize = 1 << MAX_PAGE_ORDER;

/// Bytes in a block of `order`.
pub const fn order_bytes(order: usize) -> usize {
    PAGE_SIZE << order
}

/// The smallest order whose block holds `bytes` (Linux's `get_order`;
/// 0 for 0 bytes).
pub const fn get_order(bytes: usize) -> usize {
    if bytes <= PAGE_SIZE {
        return 0;
    }
    let pages = (bytes - 1) >> PAGE_SHIFT;
    (usize::BITS - pages.leading_zeros()) as usize
}

/// The smallest order whose block holds `pages` pages (0 for 0 or 1).
pub const fn pages_order(pages: usize) -> usize {
    if pages <= 1 {
        return 0;
    }
    (usize::BITS - (pages - 1).leading_zeros()) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_get_order_rounds_up_to_whole_blocks() {
        assert_eq!(get_order(0), 0);
        assert_eq!(get_order(1), 0);
        assert_eq!(get_order(4096), 0);
        assert_eq!(get_order(4097), 1);
        assert_eq!(get_order(8193), 2);
        assert_eq!(get_order(4 << 20), MAX_PAGE_ORDER);
    }

    #[test]
    fn test_pages_order_rounds_up() {
        assert_eq!(pages_order(1), 0);
        assert_eq!(pages_order(2), 1);
        assert_eq!(pages_order(3), 2);
        assert_eq!(pages_order(384), 9);
        assert_eq!(pages_order(1024), 10);
    }
}
