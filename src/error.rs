//! Error kinds whose exit codes differ, and the mapping from an error chain to an exit code.

use std::fmt;

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    /// An operation failed (API error, Kafka error, ...).
    pub const FAILURE: u8 = 1;
    /// Invalid input: flags, config file, files they point at. Nothing was changed.
    pub const USAGE: u8 = 2;
    /// A verification ran and found a problem (missing records, lag above the limit, ...).
    pub const CHECK_FAILED: u8 = 3;
    /// A wait did not finish within `--timeout`.
    pub const TIMEOUT: u8 = 4;
}

/// Bad input found before any cluster call; exit code 2.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.text())]
pub struct UsageError {
    pub message: String,
    pub hint: Option<String>,
    /// The settings path the error is about, when there is one.
    pub field: Option<String>,
}

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError { message: message.into(), hint: None, field: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

impl UsageError {
    /// The message, prefixed with the settings path it is about, then the fix.
    fn text(&self) -> String {
        let mut out = match &self.field {
            Some(field) if !field.is_empty() && !self.message.starts_with(field.as_str()) => format!("{field}: {}", self.message),
            _ => self.message.clone(),
        };
        if let Some(hint) = &self.hint {
            out.push_str(&format!("\n  fix: {hint}"));
        }
        out
    }
}

/// Several validation problems reported together.
#[derive(Debug, Clone, thiserror::Error)]
pub struct InvalidSettings(pub Vec<UsageError>);

impl fmt::Display for InvalidSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid settings ({} problem{}):", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for (i, e) in self.0.iter().enumerate() {
            let text = e.to_string().replace('\n', "\n     ");
            write!(f, "  {}. {text}", i + 1)?;
            if i + 1 < self.0.len() {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// A check that ran and failed (exit code 3), as opposed to one that could not run.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct CheckFailed(pub String);

/// A wait that ran out of time (exit code 4).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TimedOut(pub String);

/// The exit code for an error chain: the first typed error found decides.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>() || cause.is::<InvalidSettings>() {
            return exit::USAGE;
        }
        if cause.is::<CheckFailed>() {
            return exit::CHECK_FAILED;
        }
        if cause.is::<TimedOut>() {
            return exit::TIMEOUT;
        }
    }
    exit::FAILURE
}

/// The error chain as a message: the outermost context, then each cause on its own line.
pub fn report(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(&format!("\n  caused by: {}", text.replace('\n', "\n  ")));
        }
    }
    out
}
