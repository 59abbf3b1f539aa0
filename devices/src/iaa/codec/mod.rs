//! The data engines behind the descriptors: the compress AECS, the
//! fixed-table deflate encoder, the raw-deflate decoder and the checksums.

pub mod aecs;
mod bits;
pub mod checksum;
pub mod encode;
pub mod inflate;

pub use aecs::{linux_fixed_aecs, Aecs, AecsError, AECS_ALIGN, AECS_SIZE};
pub use encode::{EncodeError, Encoded, Encoder, EndProcessing};
pub use inflate::{InflateError, Inflater};
