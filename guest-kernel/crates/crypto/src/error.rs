//! Why a crypto operation failed.

use core::fmt;

/// Errors of the crypto API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CryptoError {
    /// The key has a length (or format) the algorithm does not take.
    BadKey,
    /// The IV has the wrong length.
    BadIv,
    /// The data length does not suit the algorithm (CBC: whole blocks).
    BadLength,
    /// The output does not fit the destination.
    Overflow,
    /// Authentication failed (tag or digest mismatch): Linux's -EBADMSG.
    BadMessage,
    /// The input is not a valid stream (decompression).
    Corrupt,
    /// This implementation cannot do this request.
    Unsupported(&'static str),
    /// The device failed the request.
    Device(alloc::string::String),
    /// No implementation of the algorithm is registered (and passed).
    NotFound(alloc::string::String),
    /// The implementation failed its self-test.
    SelfTest(alloc::string::String),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadKey => f.write_str("bad key"),
            Self::BadIv => f.write_str("bad IV"),
            Self::BadLength => f.write_str("bad data length"),
            Self::Overflow => f.write_str("output does not fit"),
            Self::BadMessage => f.write_str("authentication failed"),
            Self::Corrupt => f.write_str("corrupt input"),
            Self::Unsupported(what) => write!(f, "unsupported: {what}"),
            Self::Device(e) => write!(f, "device: {e}"),
            Self::NotFound(name) => write!(f, "no implementation of {name}"),
            Self::SelfTest(why) => write!(f, "self-test failed: {why}"),
        }
    }
}

impl core::error::Error for CryptoError {}
