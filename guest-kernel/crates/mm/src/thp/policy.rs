//! The THP settings: the top-level `enabled` and one `enabled` per mTHP
//! size, kept as Linux keeps them (three bitmaps of orders), with the
//! sysfs text format (`always [inherit] madvise never`).

use core::fmt;

use super::{PMD_ORDER, THP_ORDERS_ALL_ANON};

/// `/sys/kernel/mm/transparent_hugepage/enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopLevel {
    /// Every anonymous VMA.
    Always,
    /// Only `MADV_HUGEPAGE` VMAs.
    Madvise,
    /// None (`TRANSPARENT_HUGEPAGE_NEVER`, our build-time default).
    Never,
}

/// `hugepages-<size>kB/enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderPolicy {
    /// Every anonymous VMA.
    Always,
    /// Follow the top-level setting.
    Inherit,
    /// Only `MADV_HUGEPAGE` VMAs.
    Madvise,
    /// Never.
    Never,
}

/// Why a settings write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThpError {
    /// Not one of the accepted words (`EINVAL`).
    Invalid,
    /// The order has no `hugepages-<size>kB` directory (only 2..=9 do).
    NoSuchOrder {
        /// The order asked for.
        order: usize,
    },
}

/// Matches sysfs's `sysfs_streq`: equal, ignoring one trailing newline.
fn streq(input: &str, word: &str) -> bool {
    input.strip_suffix('\n').unwrap_or(input) == word
}

impl TopLevel {
    /// Parses a write to `enabled` (or `transparent_hugepage=` at boot).
    pub fn parse(input: &str) -> Result<Self, ThpError> {
        [Self::Always, Self::Madvise, Self::Never]
            .into_iter()
            .find(|v| streq(input, v.word()))
            .ok_or(ThpError::Invalid)
    }

    fn word(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Madvise => "madvise",
            Self::Never => "never",
        }
    }
}

impl fmt::Display for TopLevel {
    /// `always [madvise] never` (no newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = [Self::Always, Self::Madvise, Self::Never];
        show(f, all.iter().map(|v| (v.word(), v == self)))
    }
}

impl OrderPolicy {
    /// Parses a write to `hugepages-<size>kB/enabled`.
    pub fn parse(input: &str) -> Result<Self, ThpError> {
        [Self::Always, Self::Inherit, Self::Madvise, Self::Never]
            .into_iter()
            .find(|v| streq(input, v.word()))
            .ok_or(ThpError::Invalid)
    }

    fn word(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Inherit => "inherit",
            Self::Madvise => "madvise",
            Self::Never => "never",
        }
    }
}

impl fmt::Display for OrderPolicy {
    /// `always [inherit] madvise never` (no newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = [Self::Always, Self::Inherit, Self::Madvise, Self::Never];
        show(f, all.iter().map(|v| (v.word(), v == self)))
    }
}

fn show<'a>(
    f: &mut fmt::Formatter<'_>,
    words: impl Iterator<Item = (&'a str, bool)>,
) -> fmt::Result {
    for (i, (word, selected)) in words.enumerate() {
        let sep = if i == 0 { "" } else { " " };
        if selected {
            write!(f, "{sep}[{word}]")?;
        } else {
            write!(f, "{sep}{word}")?;
        }
    }
    Ok(())
}

/// The settings: top level plus the `always`, `inherit` and `madvise`
/// order bitmaps (`huge_anon_orders_*`; bit n = order n).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThpSettings {
    /// The top-level `enabled`.
    pub top: TopLevel,
    /// Orders set to `always`.
    pub always: u16,
    /// Orders set to `inherit`.
    pub inherit: u16,
    /// Orders set to `madvise`.
    pub madvise: u16,
}

impl Default for ThpSettings {
    /// Boot defaults with `CONFIG_TRANSPARENT_HUGEPAGE_NEVER`: top level
    /// `never`, `hugepages-2048kB` `inherit`, every other size `never`.
    fn default() -> Self {
        Self {
            top: TopLevel::Never,
            always: 0,
            inherit: 1 << PMD_ORDER,
            madvise: 0,
        }
    }
}

impl ThpSettings {
    /// The policy of `order` (2..=9).
    pub fn order_policy(&self, order: usize) -> Result<OrderPolicy, ThpError> {
        let bit = Self::bit(order)?;
        Ok(if self.always & bit != 0 {
            OrderPolicy::Always
        } else if self.inherit & bit != 0 {
            OrderPolicy::Inherit
        } else if self.madvise & bit != 0 {
            OrderPolicy::Madvise
        } else {
            OrderPolicy::Never
        })
    }

    /// Sets `order`'s policy: its bit in one bitmap, cleared in the others.
    pub fn set_order(&mut self, order: usize, policy: OrderPolicy) -> Result<(), ThpError> {
        let bit = Self::bit(order)?;
        self.always &= !bit;
        self.inherit &= !bit;
        self.madvise &= !bit;
        match policy {
            OrderPolicy::Always => self.always |= bit,
            OrderPolicy::Inherit => self.inherit |= bit,
            OrderPolicy::Madvise => self.madvise |= bit,
            OrderPolicy::Never => {}
        }
        Ok(())
    }

    /// A write to `hugepages-<size>kB/enabled` for `order`.
    pub fn store_order(&mut self, order: usize, input: &str) -> Result<(), ThpError> {
        Self::bit(order)?;
        self.set_order(order, OrderPolicy::parse(input)?)
    }

    /// A write to the top-level `enabled`.
    pub fn store_top(&mut self, input: &str) -> Result<(), ThpError> {
        self.top = TopLevel::parse(input)?;
        Ok(())
    }

    fn bit(order: usize) -> Result<u16, ThpError> {
        if order > PMD_ORDER || THP_ORDERS_ALL_ANON & (1 << order) == 0 {
            return Err(ThpError::NoSuchOrder { order });
        }
        Ok(1 << order)
    }
}

/// The directory of `order` under `/sys/kernel/mm/transparent_hugepage/`:
/// `hugepages-64kB` for order 4.
pub fn dir_name(order: usize) -> alloc::string::String {
    alloc::format!("hugepages-{}kB", (crate::PAGE_SIZE << order) / 1024)
}

/// The order a `hugepages-<size>kB` directory name stands for, if it exists.
pub fn order_of_dir(name: &str) -> Option<usize> {
    let kb: usize = name
        .strip_prefix("hugepages-")?
        .strip_suffix("kB")?
        .parse()
        .ok()?;
    (2..=PMD_ORDER).find(|&o| (crate::PAGE_SIZE << o) / 1024 == kb)
}
