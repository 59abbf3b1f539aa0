//! Where a request's data is: like Linux's scatterlists, a list of
//! segments, either shared by input and output (in place) or two lists
//! (out of place) whose segmentation may differ.

use alloc::vec::Vec;

use crate::error::CryptoError;

/// A request's input and output.
#[derive(Debug)]
pub enum Data<'a, 'b> {
    /// The output overwrites the input in the same segments.
    InPlace(&'a mut [&'b mut [u8]]),
    /// Input from `src`, output into `dst`.
    OutOfPlace {
        /// Input segments.
        src: &'a [&'b [u8]],
        /// Output segments.
        dst: &'a mut [&'b mut [u8]],
    },
}

impl Data<'_, '_> {
    /// Bytes the input segments hold.
    pub fn input_len(&self) -> usize {
        match self {
            Self::InPlace(segs) => segs.iter().map(|s| s.len()).sum(),
            Self::OutOfPlace { src, .. } => src.iter().map(|s| s.len()).sum(),
        }
    }

    /// Bytes the output segments hold.
    pub fn output_len(&self) -> usize {
        match self {
            Self::InPlace(segs) => segs.iter().map(|s| s.len()).sum(),
            Self::OutOfPlace { dst, .. } => dst.iter().map(|s| s.len()).sum(),
        }
    }

    /// Whether input and output share segments.
    pub fn in_place(&self) -> bool {
        matches!(self, Self::InPlace(_))
    }

    /// The first `len` input bytes, gathered.
    pub fn gather(&self, len: usize) -> Result<Vec<u8>, CryptoError> {
        let mut out = Vec::with_capacity(len);
        let mut take = |seg: &[u8]| {
            let n = (len - out.len()).min(seg.len());
            out.extend_from_slice(&seg[..n]);
        };
        match self {
            Self::InPlace(segs) => segs.iter().for_each(|s| take(s)),
            Self::OutOfPlace { src, .. } => src.iter().for_each(|s| take(s)),
        }
        if out.len() == len {
            Ok(out)
        } else {
            Err(CryptoError::BadLength)
        }
    }

    /// Writes `bytes` over the start of the output segments.
    pub fn scatter(&mut self, bytes: &[u8]) -> Result<(), CryptoError> {
        if bytes.len() > self.output_len() {
            return Err(CryptoError::Overflow);
        }
        let segs: &mut [&mut [u8]] = match self {
            Self::InPlace(segs) => segs,
            Self::OutOfPlace { dst, .. } => dst,
        };
        let mut rest = bytes;
        for seg in segs.iter_mut() {
            let n = rest.len().min(seg.len());
            seg[..n].copy_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
        Ok(())
    }

    /// Input segment lengths, in order.
    pub fn input_segments(&self) -> Vec<usize> {
        match self {
            Self::InPlace(segs) => segs.iter().map(|s| s.len()).collect(),
            Self::OutOfPlace { src, .. } => src.iter().map(|s| s.len()).collect(),
        }
    }

    /// Output segment lengths, in order.
    pub fn output_segments(&self) -> Vec<usize> {
        match self {
            Self::InPlace(segs) => segs.iter().map(|s| s.len()).collect(),
            Self::OutOfPlace { dst, .. } => dst.iter().map(|s| s.len()).collect(),
        }
    }

    /// Input segment `i`.
    pub fn input_segment(&self, i: usize) -> &[u8] {
        match self {
            Self::InPlace(segs) => &segs[i][..],
            Self::OutOfPlace { src, .. } => src[i],
        }
    }

    /// Output segment `i`.
    pub fn output_segment(&mut self, i: usize) -> &mut [u8] {
        match self {
            Self::InPlace(segs) => &mut segs[i][..],
            Self::OutOfPlace { dst, .. } => &mut dst[i][..],
        }
    }
}

/// Splits `buf` into consecutive segments of the `sizes` given (the last
/// one takes whatever remains; zero sizes are skipped).
pub fn split_mut<'b>(mut buf: &'b mut [u8], sizes: &[usize]) -> Vec<&'b mut [u8]> {
    let mut segs = Vec::new();
    for &size in sizes {
        if size == 0 || buf.is_empty() {
            continue;
        }
        let (head, tail) = buf.split_at_mut(size.min(buf.len()));
        segs.push(head);
        buf = tail;
    }
    if !buf.is_empty() {
        segs.push(buf);
    }
    segs
}

/// Like [`split_mut`], for input.
pub fn split<'b>(mut buf: &'b [u8], sizes: &[usize]) -> Vec<&'b [u8]> {
    let mut segs = Vec::new();
    for &size in sizes {
        if size == 0 || buf.is_empty() {
            continue;
        }
        let (head, tail) = buf.split_at(size.min(buf.len()));
        segs.push(head);
        buf = tail;
    }
    if !buf.is_empty() {
        segs.push(buf);
    }
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_in_place_gathers_and_scatters_across_segments() {
        let mut buf = *b"abcdefgh";
        let mut segs = split_mut(&mut buf, &[3, 0, 2]);
        assert_eq!(segs.len(), 3);
        let mut data = Data::InPlace(&mut segs);
        assert_eq!(data.gather(5).unwrap(), b"abcde");
        assert!(data.gather(9).is_err());
        data.scatter(b"ABCDEFG").unwrap();
        assert_eq!(data.scatter(b"123456789"), Err(CryptoError::Overflow));
        assert_eq!(&buf, b"ABCDEFGh");
    }

    #[test]
    fn test_out_of_place_keeps_the_source() {
        let src = b"hello world";
        let srcs = split(src, &[4]);
        let mut out = [0u8; 12];
        let mut dsts = split_mut(&mut out, &[1, 1]);
        let mut data = Data::OutOfPlace {
            src: &srcs,
            dst: &mut dsts,
        };
        assert_eq!(data.input_segments(), [4, 7]);
        assert_eq!(data.output_segments(), [1, 1, 10]);
        let input = data.gather(11).unwrap();
        data.scatter(&input).unwrap();
        assert_eq!(&out[..11], src);
    }
}
