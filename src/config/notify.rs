//! How the app says that a task ended: `notify` and `notify_after_secs` in `config.toml`.

use serde::{Deserialize, Serialize};

/// How the app tells of a task that ended while the terminal was not focused (or after
/// `notify_after_secs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Notify {
    /// The bell, and a desktop notification in the form the terminal is known to show
    /// (OSC 777 for foot, konsole and rxvt; OSC 9 for the others).
    #[default]
    Auto,
    /// The bell and OSC 9 (iTerm2, kitty, wezterm, ghostty, Windows Terminal).
    Osc9,
    /// The bell and OSC 777 `notify;title;body` (foot, konsole, rxvt, wezterm, ghostty).
    Osc777,
    /// The bell only.
    Bell,
    /// Nothing.
    Off,
}
