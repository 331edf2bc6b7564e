//! Telling the person that a task ended while they looked elsewhere: the bell, and a desktop
//! notification in an escape sequence the terminal shows (OSC 9 or OSC 777). The app decides
//! when (`App` emits `Effect::Notify`); the runner writes the bytes made here, between frames.
//! The prompt is the person's text and the service's echo of it: it is stripped of every
//! control character, so nothing in it can end the sequence early or start another.

use std::time::Duration;

use crate::config::{Config, Notify};
use crate::tui::action::Notification;

/// The settings from `config.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotifySettings {
    pub mode: Notify,
    /// Tell of every task that ran at least this long, focused or not.
    pub after: Option<Duration>,
}

impl NotifySettings {
    pub fn from_config(config: &Config) -> NotifySettings {
        NotifySettings {
            mode: config.notify.unwrap_or_default(),
            after: config.notify_after_secs.map(Duration::from_secs),
        }
    }
}

/// The bytes a notification takes, decided once from the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Bell,
    Osc9,
    Osc777,
}

impl Form {
    /// The form for `mode`, on the terminal the environment describes (`env` reads a
    /// variable); `None` when notifications are off.
    pub fn choose(mode: Notify, env: impl Fn(&str) -> Option<String>) -> Option<Form> {
        Some(match mode {
            Notify::Off => return None,
            Notify::Bell => Form::Bell,
            Notify::Osc9 => Form::Osc9,
            Notify::Osc777 => Form::Osc777,
            Notify::Auto => {
                let term = env("TERM").unwrap_or_default().to_ascii_lowercase();
                let program = env("TERM_PROGRAM").unwrap_or_default().to_ascii_lowercase();
                let osc777 = term.starts_with("foot")
                    || term.starts_with("rxvt")
                    || program.starts_with("foot")
                    || env("KONSOLE_VERSION").is_some();
                if osc777 { Form::Osc777 } else { Form::Osc9 }
            }
        })
    }

    /// The bytes to write: the bell, then the notification (inside tmux's passthrough when
    /// `tmux`, which hands it to the outer terminal if `allow-passthrough` is on).
    pub fn bytes(self, n: &Notification, tmux: bool) -> String {
        let sequence = match self {
            Form::Bell => return "\x07".to_owned(),
            Form::Osc9 => format!(
                "\x1b]9;{}: {}\x07",
                plain(&n.title, false),
                plain(&n.body, false)
            ),
            Form::Osc777 => format!(
                "\x1b]777;notify;{};{}\x07",
                plain(&n.title, true),
                plain(&n.body, false)
            ),
        };
        if tmux {
            format!(
                "\x07\x1bPtmux;{}\x1b\\",
                sequence.replace('\x1b', "\x1b\x1b")
            )
        } else {
            format!("\x07{sequence}")
        }
    }
}

/// At most this many characters of a title or body.
const MAX_CHARS: usize = 120;

/// `text` on one line, without control characters (C0, DEL, C1: no ESC, BEL or ST can end
/// the sequence), at most [`MAX_CHARS`]; `field` also turns `;` (OSC 777's separator) to `,`.
fn plain(text: &str, field: bool) -> String {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().filter(|c| !c.is_control()).collect())
        .collect();
    let line = words.join(" ");
    let line = if field { line.replace(';', ",") } else { line };
    if line.chars().count() > MAX_CHARS {
        let cut: String = line.chars().take(MAX_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(title: &str, body: &str) -> Notification {
        Notification {
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn user_text_cannot_end_or_start_a_sequence() {
        let hostile = note(
            "fouro;x",
            "a cat\x07\x1b]52;c;ZXZpbA==\x1b\\\u{9c}\u{9d}0;title\u{9b}31m\nsecond line",
        );
        for form in [Form::Osc9, Form::Osc777] {
            let bytes = form.bytes(&hostile, false);
            // One bell, one ESC (the introducer), one BEL terminator: nothing else.
            assert!(bytes.starts_with("\x07\x1b]"), "{bytes:?}");
            assert!(bytes.ends_with('\x07'));
            assert_eq!(bytes.matches('\x1b').count(), 1, "{bytes:?}");
            assert_eq!(bytes.matches('\x07').count(), 2, "{bytes:?}");
            assert!(!bytes.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)));
            assert!(!bytes.contains('\n'));
        }
        assert_eq!(
            Form::Osc777.bytes(&hostile, false),
            "\x07\x1b]777;notify;fouro,x;a cat ]52;c;ZXZpbA== \\ 0;title 31m second line\x07"
        );
        assert_eq!(
            Form::Osc9.bytes(&note("fouro", "done: a cat"), false),
            "\x07\x1b]9;fouro: done: a cat\x07"
        );
    }

    #[test]
    fn tmux_passes_the_sequence_through_with_escapes_doubled() {
        let bytes = Form::Osc9.bytes(&note("fouro", "done"), true);
        assert_eq!(bytes, "\x07\x1bPtmux;\x1b\x1b]9;fouro: done\x07\x1b\\");
    }

    #[test]
    fn long_text_is_cut() {
        let body = "x".repeat(500);
        let bytes = Form::Osc9.bytes(&note("fouro", &body), false);
        assert!(bytes.chars().count() < 140, "{}", bytes.len());
        assert!(bytes.contains('…'));
    }

    #[test]
    fn auto_picks_the_form_the_terminal_shows() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            Form::choose(Notify::Auto, env(&[("TERM", "foot")])),
            Some(Form::Osc777)
        );
        assert_eq!(
            Form::choose(Notify::Auto, env(&[("KONSOLE_VERSION", "230802")])),
            Some(Form::Osc777)
        );
        assert_eq!(
            Form::choose(Notify::Auto, env(&[("TERM", "xterm-kitty")])),
            Some(Form::Osc9)
        );
        assert_eq!(Form::choose(Notify::Off, env(&[])), None);
        assert_eq!(Form::choose(Notify::Bell, env(&[])), Some(Form::Bell));
    }
}
