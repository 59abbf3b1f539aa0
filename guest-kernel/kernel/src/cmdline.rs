//! Kernel command-line parsing: whitespace-separated `key=value` pairs and
//! bare flags; double quotes group whitespace (`name="a b"`) and are stripped.

/// One command-line parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The part before the first `=` (the whole token for a bare flag).
    pub key: &'a str,
    /// The part after the first `=`, unquoted; `None` for a bare flag.
    pub value: Option<&'a str>,
}

/// Iterator over the parameters of a command line.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    rest: &'a str,
}

/// Splits `cmdline` into parameters.
pub fn parse(cmdline: &str) -> Params<'_> {
    Params { rest: cmdline }
}

/// The value of the last `key` parameter: `Some(None)` for a bare flag,
/// `None` if `key` is absent.
pub fn get<'a>(cmdline: &'a str, key: &str) -> Option<Option<&'a str>> {
    parse(cmdline)
        .filter(|p| p.key == key)
        .last()
        .map(|p| p.value)
}

fn unquote(s: &str) -> &str {
    let s = s.strip_prefix('"').unwrap_or(s);
    s.strip_suffix('"').unwrap_or(s)
}

impl<'a> Iterator for Params<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        let s = self
            .rest
            .trim_start_matches(|c: char| c.is_ascii_whitespace());
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let mut in_quotes = false;
        let end = s
            .bytes()
            .position(|b| {
                in_quotes ^= b == b'"';
                b.is_ascii_whitespace() && !in_quotes
            })
            .unwrap_or(s.len());
        let (token, rest) = s.split_at(end);
        self.rest = rest;
        // A fully quoted token ("key=a b") loses its outer quotes first.
        let token = match token.strip_prefix('"') {
            Some(inner) => inner.strip_suffix('"').unwrap_or(inner),
            None => token,
        };
        Some(match token.split_once('=') {
            Some((key, value)) => Param {
                key,
                value: Some(unquote(value)),
            },
            None => Param {
                key: token,
                value: None,
            },
        })
    }
}
