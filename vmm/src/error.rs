//! Start-up error classes. Each maps to one exit code; the message is the
//! one line a user sees.

use thiserror::Error;

use crate::exit_code;

/// The user's input cannot be used: a flag, a file, a size.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// KVM cannot be used on this host.
#[derive(Debug, Error)]
#[error("{0}")]
pub struct KvmUnavailable(pub String);

/// The exit code for a start-up failure, by the class found in its chain.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.is::<ConfigError>()) {
        exit_code::USAGE
    } else if err.chain().any(|e| e.is::<KvmUnavailable>()) {
        exit_code::KVM_UNAVAILABLE
    } else {
        exit_code::INTERNAL
    }
}

/// Shorthand for a [`ConfigError`] wrapped in `anyhow`.
pub fn config_error(msg: impl Into<String>) -> anyhow::Error {
    ConfigError(msg.into()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn test_exit_code_config_error_is_usage() {
        let e = config_error("bad");
        assert_eq!(exit_code_for(&e), exit_code::USAGE);
    }

    #[test]
    fn test_exit_code_class_found_under_context() {
        let e = Err::<(), _>(KvmUnavailable("no kvm".into()))
            .context("starting")
            .unwrap_err();
        assert_eq!(exit_code_for(&e), exit_code::KVM_UNAVAILABLE);
    }

    #[test]
    fn test_exit_code_unclassified_is_internal() {
        assert_eq!(exit_code_for(&anyhow::anyhow!("x")), exit_code::INTERNAL);
    }
}
