//! Hex text to bytes: whitespace ignored, two digits per byte.

use anyhow::{bail, Result};

/// Parse hex digits (whitespace and an optional `0x` per token ignored).
pub fn parse(text: &str) -> Result<Vec<u8>> {
    let digits: String = text
        .split_whitespace()
        .map(|t| t.strip_prefix("0x").unwrap_or(t))
        .collect();
    if !digits.len().is_multiple_of(2) {
        bail!("odd number of hex digits ({})", digits.len());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| anyhow::anyhow!("invalid hex {:?} at digit {i}", &digits[i..i + 2]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn test_parse_ignores_whitespace_and_prefixes() {
        assert_eq!(
            parse("b7 00 00 00\n0x0100 0000").unwrap(),
            vec![0xb7, 0, 0, 0, 1, 0, 0, 0]
        );
        assert!(parse("abc").is_err());
        assert!(parse("zz").is_err());
    }
}
