//! `bpf_trace_printk` formatting: `%d %i %u %x %c %%` with optional `l`/`ll`,
//! at most three arguments, as Linux's `bpf_bprintf_prepare` allows.

use alloc::string::String;
use core::fmt::{self, Write};

/// Why a format string is refused (the helper then returns `-EINVAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Not NUL-terminated within its size, or not UTF-8.
    NotAString,
    /// More than three conversions.
    TooManyArgs,
    /// A conversion we do not support (`%s`, `%p`, widths, ...).
    BadConversion,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            FormatError::NotAString => "format is not a NUL-terminated string",
            FormatError::TooManyArgs => "more than three conversions",
            FormatError::BadConversion => "unsupported conversion",
        };
        f.write_str(s)
    }
}

/// Format `fmt` (the bytes the program passed, ending in NUL) with `args`.
pub fn format_trace(fmt: &[u8], args: [u64; 3]) -> Result<String, FormatError> {
    let end = fmt
        .iter()
        .position(|&b| b == 0)
        .ok_or(FormatError::NotAString)?;
    let text = core::str::from_utf8(&fmt[..end]).map_err(|_| FormatError::NotAString)?;
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut used = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut longs = 0;
        while chars.peek() == Some(&'l') {
            chars.next();
            longs += 1;
        }
        let conv = chars.next().ok_or(FormatError::BadConversion)?;
        if conv == '%' && longs == 0 {
            out.push('%');
            continue;
        }
        if longs > 2 {
            return Err(FormatError::BadConversion);
        }
        let arg = *args.get(used).ok_or(FormatError::TooManyArgs)?;
        used += 1;
        let wide = longs > 0;
        let r = match conv {
            'd' | 'i' if wide => write!(out, "{}", arg as i64),
            'd' | 'i' => write!(out, "{}", arg as u32 as i32),
            'u' if wide => write!(out, "{arg}"),
            'u' => write!(out, "{}", arg as u32),
            'x' if wide => write!(out, "{arg:x}"),
            'x' => write!(out, "{:x}", arg as u32),
            'c' if !wide => {
                out.push(char::from(arg as u8));
                Ok(())
            }
            _ => return Err(FormatError::BadConversion),
        };
        r.map_err(|_| FormatError::BadConversion)?;
    }
    Ok(out)
}
