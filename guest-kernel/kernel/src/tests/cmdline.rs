//! The command-line parser on literal strings: pairs, flags, quotes, edge cases.

use super::{TestResult, ensure};
use crate::cmdline::{self, Param};

fn p<'a>(key: &'a str, value: Option<&'a str>) -> Param<'a> {
    Param { key, value }
}

pub fn run() -> TestResult {
    let line = "  selftest=run quiet name=\"a b  c\" empty= x=1=2 \"q=quoted flag\" last";
    let expected = [
        p("selftest", Some("run")),
        p("quiet", None),
        p("name", Some("a b  c")),
        p("empty", Some("")),
        p("x", Some("1=2")),
        p("q", Some("quoted flag")),
        p("last", None),
    ];
    let mut count = 0;
    for (i, param) in cmdline::parse(line).enumerate() {
        ensure!(i < expected.len(), "extra parameter {param:?}");
        ensure!(
            param == expected[i],
            "param {i}: {param:?} != {:?}",
            expected[i]
        );
        count += 1;
    }
    ensure!(
        count == expected.len(),
        "{count} parameters, expected {}",
        expected.len()
    );
    ensure!(
        cmdline::parse("   ").next().is_none(),
        "blank line has parameters"
    );
    ensure!(
        cmdline::get("a=1 a=2", "a") == Some(Some("2")),
        "last value should win"
    );
    ensure!(
        cmdline::get("quiet", "quiet") == Some(None),
        "bare flag lookup"
    );
    ensure!(cmdline::get("quiet", "loud").is_none(), "absent key found");
    ensure!(
        cmdline::get("k=\"unterminated value", "k") == Some(Some("unterminated value")),
        "unterminated quote"
    );
    Ok(())
}
