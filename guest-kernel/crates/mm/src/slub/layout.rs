//! Where things go inside a slab: object stride, free-pointer offset, red
//! zones, objects per slab and the slab order (Linux's `calculate_sizes`
//! and `calculate_order`).

use crate::page::{get_order, MAX_PAGE_ORDER, PAGE_SIZE};

/// Bytes of a word (the free pointer).
pub(super) const WORD: usize = core::mem::size_of::<usize>();
/// `slub_max_order` (`PAGE_ALLOC_COSTLY_ORDER`).
pub const SLUB_MAX_ORDER: usize = 3;
/// Bytes at the end of every slab for its header.
pub(super) const HEADER_BYTES: usize = 48;

const fn align_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// The layout of one object slot and of a slab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Bytes the user asked for.
    pub object_size: usize,
    /// Bytes from one slot to the next (object plus metadata, aligned).
    pub stride: usize,
    /// Alignment of every object.
    pub align: usize,
    /// Offset of the free pointer from the object's start.
    pub fp_offset: usize,
    /// Red zone before the object (debug only; 0 otherwise).
    pub red_left: usize,
    /// End of the right red zone, from the object's start (debug only;
    /// `object_size` otherwise).
    pub red_end: usize,
    /// The slab's order.
    pub order: usize,
    /// Objects in one slab.
    pub objects: usize,
}

/// Why a cache cannot be laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutError {
    /// Size 0, or alignment not a power of two.
    Invalid,
    /// Not even one object fits a block of `MAX_PAGE_ORDER`.
    TooLarge,
}

impl Layout {
    /// Lays out objects of `size` bytes aligned to `align`; `ctor` and
    /// `debug` move the free pointer after the object (where a constructed
    /// or poisoned object cannot overwrite it). `nr_cpus` sets Linux's
    /// `min_objects`.
    pub const fn new(
        size: usize,
        align: usize,
        ctor: bool,
        debug: bool,
        nr_cpus: usize,
    ) -> Result<Self, LayoutError> {
        if size == 0 || !align.is_power_of_two() {
            return Err(LayoutError::Invalid);
        }
        let align = if align > WORD { align } else { WORD };
        let (red_left, red_end, fp_offset) = if debug {
            // A word of red zone past a word-aligned object; otherwise the
            // padding up to the next word is the red zone.
            let mut end = align_up(size, WORD);
            if end == size {
                end += WORD;
            }
            (align_up(WORD, align), end, end)
        } else if ctor {
            (0, size, align_up(size, WORD))
        } else {
            // The middle of the object, so small overflows miss it.
            (0, size, (size / 2) & !(WORD - 1))
        };
        let body = if fp_offset + WORD > size {
            fp_offset + WORD
        } else {
            size
        };
        let stride = align_up(red_left + body, align);
        let Some(order) = calculate_order(stride, nr_cpus) else {
            return Err(LayoutError::TooLarge);
        };
        Ok(Self {
            object_size: size,
            stride,
            align,
            fp_offset,
            red_left,
            red_end,
            order,
            objects: objects_in(order, stride),
        })
    }

    /// Bytes of one slab.
    pub const fn slab_bytes(&self) -> usize {
        PAGE_SIZE << self.order
    }
}

/// Objects of `stride` bytes in a slab of `order`, its header at the end.
const fn objects_in(order: usize, stride: usize) -> usize {
    ((PAGE_SIZE << order) - HEADER_BYTES) / stride
}

/// The order whose slabs of `stride`-byte objects waste at most a fraction
/// of their bytes (1/16, else 1/8, 1/4, 1/2) and hold at least
/// `4 * (fls(nr_cpus) + 1)` objects where the costly order allows.
const fn calculate_order(stride: usize, nr_cpus: usize) -> Option<usize> {
    let cpus = if nr_cpus > 1 { nr_cpus } else { 1 };
    let fls = (usize::BITS - cpus.leading_zeros()) as usize;
    let mut max_objects = objects_in(SLUB_MAX_ORDER, stride);
    if max_objects == 0 {
        max_objects = 1;
    }
    let mut min_objects = 4 * (fls + 1);
    if min_objects > max_objects {
        min_objects = max_objects;
    }
    let min_order = get_order(min_objects * stride);
    let mut fraction = 16;
    while fraction > 1 {
        let mut order = min_order;
        while order <= SLUB_MAX_ORDER {
            let bytes = PAGE_SIZE << order;
            let objects = objects_in(order, stride);
            if objects > 0 && bytes - objects * stride <= bytes / fraction {
                return Some(order);
            }
            order += 1;
        }
        fraction /= 2;
    }
    let mut order = get_order(stride + HEADER_BYTES);
    while order <= MAX_PAGE_ORDER {
        if objects_in(order, stride) > 0 {
            return Some(order);
        }
        order += 1;
    }
    None
}

/// `min_partial`: empty slabs a cache keeps on its partial list,
/// `clamp(ilog2(size) / 2, 5, 10)`.
pub const fn min_partial(size: usize) -> usize {
    let half_log = if size > 1 {
        size.ilog2() as usize / 2
    } else {
        0
    };
    if half_log < 5 {
        5
    } else if half_log > 10 {
        10
    } else {
        half_log
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_layout_free_pointer_in_the_middle_without_ctor() {
        let l = Layout::new(64, 8, false, false, 1).unwrap();
        assert_eq!((l.stride, l.fp_offset, l.red_left), (64, 32, 0));
        assert_eq!(l.order, 0);
        assert_eq!(l.objects, (4096 - HEADER_BYTES) / 64);
    }

    #[test]
    fn test_layout_free_pointer_after_the_object_with_ctor_or_debug() {
        let l = Layout::new(20, 8, true, false, 1).unwrap();
        assert_eq!((l.fp_offset, l.stride), (24, 32));
        let d = Layout::new(16, 8, false, true, 1).unwrap();
        // [8 left red zone][16 object][8 right red zone][8 free pointer]
        assert_eq!(
            (d.red_left, d.red_end, d.fp_offset, d.stride),
            (8, 24, 24, 40)
        );
    }

    #[test]
    fn test_layout_orders_follow_the_leftover_rule() {
        assert_eq!(Layout::new(4096, 4096, false, false, 1).unwrap().order, 3);
        assert_eq!(Layout::new(8192, 8192, false, false, 1).unwrap().order, 3);
        assert_eq!(Layout::new(8, 8, false, false, 1).unwrap().order, 0);
        assert_eq!(Layout::new(256, 256, false, false, 1).unwrap().order, 0);
        assert_eq!(Layout::new(96, 32, false, false, 1).unwrap().order, 0);
    }

    #[test]
    fn test_min_partial_is_clamped() {
        assert_eq!(min_partial(8), 5);
        assert_eq!(min_partial(1 << 20), 10);
    }
}
