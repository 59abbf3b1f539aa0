//! The `/proc/buddyinfo` line of a zone.

use core::fmt;

use crate::NR_PAGE_ORDERS;

/// Free block counts per order of one zone, printed as Linux prints a
/// `/proc/buddyinfo` line: `Node 0, zone    DMA32      3      1 ...` with
/// one `%6lu ` column per order `0..=MAX_PAGE_ORDER` and a newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuddyInfo {
    /// The zone's name (`DMA`, `DMA32`, `Normal`).
    pub zone: &'static str,
    /// Free blocks of each order.
    pub nr_free: [usize; NR_PAGE_ORDERS],
}

impl fmt::Display for BuddyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Node 0, zone {:>8} ", self.zone)?;
        for count in self.nr_free {
            write!(f, "{count:>6} ")?;
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn test_buddyinfo_line_has_eleven_columns() {
        let mut nr_free = [0; NR_PAGE_ORDERS];
        nr_free[0] = 3;
        nr_free[10] = 62;
        let line = BuddyInfo {
            zone: "DMA32",
            nr_free,
        }
        .to_string();
        assert_eq!(
            line,
            "Node 0, zone    DMA32      3      0      0      0      0      0      0      0      0      0     62 \n"
        );
    }
}
