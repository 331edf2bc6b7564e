//! What the credits pane and the message line show.

use std::time::{Duration, Instant};

use super::{App, Screen};

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

impl App {
    /// Whether something on screen counts time (elapsed counters of tasks being polled, the
    /// age of a stale balance, or of the balance the account screen shows).
    pub(super) fn counts_time(&self) -> bool {
        self.tasks.polled() > 0 || self.credits.is_stale() || self.shows_balance_age()
    }

    /// The account screen says how long ago the balance was read.
    fn shows_balance_age(&self) -> bool {
        self.screen == Screen::Account && self.credits.updated.is_some()
    }

    /// When the screen next changes by itself, if it does: once a second while a task is
    /// being polled (a task whose poller stopped shows a frozen time); at the next minute of a
    /// stale balance's age. Otherwise never: idle is free.
    pub fn next_wakeup(&self) -> Option<Instant> {
        if self.tasks.polled() > 0 {
            let second = Duration::from_secs(1);
            return Some(match self.last_tick {
                Some(t) if t + second > self.now => t + second,
                _ => self.now + second,
            });
        }
        if self.credits.is_stale() || self.shows_balance_age() {
            let updated = self.credits.updated?;
            let minutes = self.now.saturating_duration_since(updated).as_secs() / 60;
            return Some(updated + Duration::from_secs((minutes + 1) * 60));
        }
        None
    }
}
