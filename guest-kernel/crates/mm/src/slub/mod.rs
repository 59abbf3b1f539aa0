//! SLUB, the object allocator (the only slab allocator since Linux 6.8).
//!
//! - [`KmemCache`]: objects of one size, alignment and optional
//!   constructor, on slabs (page blocks from a [`SlabBackend`]) whose free
//!   objects are linked through a free pointer stored inside each free
//!   object (hardened: XORed with a secret and the slot address). Each CPU
//!   owns a current slab and allocates from and frees to it without a lock;
//!   other slabs sit on the cache's partial list or, when full, on no list.
//! - [`Kmalloc`]: Linux's kmalloc size classes (8 … 8192 and 96, 192) and
//!   `kmalloc_large` (straight to the page allocator) above 8192 bytes.
//! - [`GlobalSlub`]: a [`core::alloc::GlobalAlloc`] on [`Kmalloc`].
//! - `slub_debug` ([`SlubConfig::debug`]): red zones around every object
//!   and poison in free ones; frees find overflows and double frees,
//!   allocations find writes to freed objects.

mod backend;
mod cache;
pub mod debug;
mod global;
mod kmalloc;
mod layout;
mod partial;
mod slab;

pub use backend::SlabBackend;
pub use cache::{Ctor, KmemCache, SlabInfo, MAX_CPUS};
pub use global::GlobalSlub;
pub use kmalloc::{
    kmalloc_index, Kmalloc, KMALLOC_MAX_CACHE_SIZE, KMALLOC_MAX_SIZE, KMALLOC_SIZES, ZERO_SIZE_PTR,
};
pub use layout::{Layout, LayoutError, SLUB_MAX_ORDER};

/// Settings shared by every cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlubConfig {
    /// Red zones and poisoning (`slub_debug` on the command line). Debug
    /// caches take the lock on every operation, as Linux's do.
    pub debug: bool,
    /// The freelist-hardening secret (any value; a boot-time random one
    /// is best).
    pub random: usize,
    /// CPUs that allocate (sets the objects-per-slab target).
    pub nr_cpus: usize,
}

impl SlubConfig {
    /// No debugging, a fixed secret, one CPU.
    pub const DEFAULT: Self = Self {
        debug: false,
        random: 0x5bd1_e995_9e37_79b9,
        nr_cpus: 1,
    };
}

impl Default for SlubConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a cache found wrong (the object is left alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlabError {
    /// The page allocator has no block for a new slab.
    OutOfMemory,
    /// The object is already free.
    DoubleFree {
        /// The object.
        obj: usize,
    },
    /// A red-zone byte changed: an overflow (or underflow) of the object.
    RedzoneOverwritten {
        /// The object.
        obj: usize,
        /// Address of the first wrong byte.
        at: usize,
        /// The byte found there.
        found: u8,
    },
    /// A freed object was written to (its poison changed).
    PoisonOverwritten {
        /// The object.
        obj: usize,
        /// Address of the first wrong byte.
        at: usize,
        /// The byte found there.
        found: u8,
    },
    /// The next free pointer leads outside the slab's objects.
    FreelistCorrupt {
        /// The object whose successor is wrong.
        obj: usize,
    },
    /// The address is not an object of this cache.
    NotFromCache {
        /// The address freed.
        obj: usize,
    },
    /// The size is above [`KMALLOC_MAX_SIZE`] (or the layout is unusable).
    TooLarge {
        /// The bytes asked for.
        size: usize,
    },
}

impl core::fmt::Display for SlabError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::OutOfMemory => write!(f, "out of memory for a new slab"),
            Self::DoubleFree { obj } => write!(f, "object {obj:#x}: already free (double free)"),
            Self::RedzoneOverwritten { obj, at, found } => write!(
                f,
                "object {obj:#x}: redzone overwritten at {at:#x} (found {found:#04x})"
            ),
            Self::PoisonOverwritten { obj, at, found } => write!(
                f,
                "object {obj:#x}: poison overwritten at {at:#x} (found {found:#04x}): use after free"
            ),
            Self::FreelistCorrupt { obj } => write!(f, "object {obj:#x}: freelist corrupt"),
            Self::NotFromCache { obj } => write!(f, "{obj:#x} is not an object of this cache"),
            Self::TooLarge { size } => write!(f, "{size} bytes is above KMALLOC_MAX_SIZE"),
        }
    }
}
