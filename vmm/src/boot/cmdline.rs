//! The kernel command line, checked against the platform's limit.

use anyhow::{Context, Result};
use firmware::layout::CMDLINE_MAX_SIZE;
use linux_loader::cmdline::Cmdline;

use crate::error::config_error;

/// A command line holding `text`, or a user-facing error.
pub fn build(text: &str) -> Result<Cmdline> {
    if text.len() >= CMDLINE_MAX_SIZE {
        return Err(config_error(format!(
            "--cmdline is {} bytes; at most {} fit",
            text.len(),
            CMDLINE_MAX_SIZE - 1
        )));
    }
    let mut cmdline = Cmdline::new(CMDLINE_MAX_SIZE).context("command line buffer")?;
    if !text.trim().is_empty() {
        cmdline
            .insert_str(text)
            .map_err(|e| config_error(format!("--cmdline {text:?} is not usable: {e}")))?;
    }
    Ok(cmdline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_build_limits_length_and_keeps_text() {
        assert!(build(&"a".repeat(CMDLINE_MAX_SIZE)).is_err());
        assert_eq!(
            build("quiet")
                .unwrap()
                .as_cstring()
                .unwrap()
                .to_str()
                .unwrap(),
            "quiet"
        );
        assert_eq!(
            build("").unwrap().as_cstring().unwrap().to_str().unwrap(),
            ""
        );
    }
}
