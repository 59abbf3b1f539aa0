//! An LSB-first bit writer (deflate's bit order) into a bounded buffer.

/// Writes bits LSB-first; fails once the output passes `limit` bytes.
#[derive(Debug)]
pub struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    limit: usize,
    acc: u64,
    pending: u32,
}

/// The output passed its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

impl<'a> BitWriter<'a> {
    /// Appends to `out` (cleared first), at most `limit` bytes.
    pub fn new(out: &'a mut Vec<u8>, limit: usize) -> Self {
        out.clear();
        Self {
            out,
            limit,
            acc: 0,
            pending: 0,
        }
    }

    /// Appends the low `len` bits of `bits` (`len` at most 32).
    #[inline]
    pub fn put(&mut self, bits: u32, len: u8) -> Result<(), Overflow> {
        self.acc |= u64::from(bits) << self.pending;
        self.pending += u32::from(len);
        if self.pending >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.pending -= 32;
            if self.out.len() > self.limit {
                return Err(Overflow);
            }
        }
        Ok(())
    }

    /// Zero bits up to the next byte boundary.
    pub fn align(&mut self) -> Result<(), Overflow> {
        let partial = self.pending % 8;
        if partial != 0 {
            self.put(0, (8 - partial) as u8)?;
        }
        Ok(())
    }

    /// Writes out every pending bit (zero-padding the last byte); returns
    /// the byte count and the valid bits in the last byte (8 when it is
    /// full, 0 when nothing was written).
    pub fn finish(self) -> Result<(usize, u8), Overflow> {
        let last_bits = (self.pending % 8) as u8;
        let bytes = self.pending.div_ceil(8) as usize;
        self.out
            .extend_from_slice(&self.acc.to_le_bytes()[..bytes.min(8)]);
        if self.out.len() > self.limit {
            return Err(Overflow);
        }
        let bits = match (self.out.is_empty(), last_bits) {
            (true, _) => 0,
            (false, 0) => 8,
            (false, n) => n,
        };
        Ok((self.out.len(), bits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_bits_pack_lsb_first_and_pad() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out, 16);
        w.put(0b011, 3).unwrap();
        w.put(0b1, 1).unwrap();
        w.put(0x3ff, 10).unwrap();
        assert_eq!(w.finish(), Ok((2, 6)));
        assert_eq!(out, vec![0xfb, 0x3f]);
    }

    #[test]
    fn test_writer_reports_overflow_past_limit() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out, 3);
        let mut result = Ok(());
        for _ in 0..4 {
            result = result.and(w.put(0xff, 8));
        }
        assert_eq!(result, Err(Overflow));
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out, 3);
        w.put(0xffff, 16).unwrap();
        w.put(0xffff, 16).unwrap_err();
    }
}
