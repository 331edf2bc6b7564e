//! What the credits pane and the message line show.

use std::time::Instant;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credits {
    pub value: Option<f64>,
    /// When `value` was read.
    pub updated: Option<Instant>,
    /// Why the last refresh failed; with a value shown, the value is stale.
    pub error: Option<String>,
    pub loading: bool,
    pub req: u64,
}

impl Credits {
    pub fn is_stale(&self) -> bool {
        self.value.is_some() && self.error.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
    Error,
}

/// A message shown until dismissed (Esc).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}
