//! The app's commands that work from anywhere, their keys and what the help says of them: the
//! key handling, the help, the status line and the README's key table all read this table.
//! `config.toml`'s `[keys]` section binds a command to other keys (`submit = "ctrl-s"`, or a
//! list: `help = ["f1", "?"]`).

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keys_panes::{Act, Context, default_panes};

/// A command of the app's, as `[keys]` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Submit,
    NextPane,
    PrevPane,
    Help,
    History,
    Account,
    Refresh,
    Redraw,
    Quit,
    Stage,
    StartQueue,
}

/// One row of the table: the command, its name in `[keys]`, its default keys, and the help's
/// words for it.
pub struct Entry {
    pub command: Command,
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub what: &'static str,
}

const fn e(
    command: Command,
    name: &'static str,
    keys: &'static [&'static str],
    what: &'static str,
) -> Entry {
    Entry {
        command,
        name,
        keys,
        what,
    }
}

/// Every command, in the order the help lists them.
pub const COMMANDS: &[Entry] = &[
    e(
        Command::Submit,
        "submit",
        &["ctrl-s"],
        "submit the prompt, references and options: from any pane, the help, full screen or the history (not while typing in a dialog or the history's search)",
    ),
    e(
        Command::NextPane,
        "next-pane",
        &["tab"],
        "focus the next pane",
    ),
    e(
        Command::PrevPane,
        "prev-pane",
        &["shift-tab"],
        "focus the previous pane",
    ),
    e(
        Command::Help,
        "help",
        &["f1", "?"],
        "this help (a plain key outside the prompt, or in an empty prompt)",
    ),
    e(
        Command::History,
        "history",
        &["f3", "H"],
        "the history of every generation (a plain key outside the prompt); the same key comes back",
    ),
    e(
        Command::Account,
        "account",
        &["f4", "A"],
        "the account: balance, usage, API keys and profiles (a plain key outside the prompt); the same key comes back",
    ),
    e(
        Command::Refresh,
        "refresh",
        &["f5", "c"],
        "refresh the credit balance (a plain key outside the prompt)",
    ),
    e(Command::Redraw, "redraw", &["ctrl-l"], "redraw the screen"),
    e(
        Command::Quit,
        "quit",
        &["q", "ctrl-c"],
        "quit (a plain key outside the prompt); asks first while tasks generate",
    ),
    e(
        Command::Stage,
        "stage",
        &["alt-s", "f2"],
        "stage the draft in the queue instead of submitting it: tick aspects and variant counts for one entry each; the estimate of them all is shown; staging spends nothing",
    ),
    e(
        Command::StartQueue,
        "start-queue",
        &["P", "f6"],
        "start the queue (its estimate shown, the balance read first) or pause it; tasks already sent go on (a plain key outside the prompt)",
    ),
];

/// A key with its Ctrl and Alt. Shift is in the key itself (`H`, `shift-tab`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
    /// Only for keys that type nothing (`shift-up`): a character has Shift in itself.
    shift: bool,
}

const NAMED: &[(&str, KeyCode, &str)] = &[
    ("tab", KeyCode::Tab, "Tab"),
    ("shift-tab", KeyCode::BackTab, "Shift-Tab"),
    ("backtab", KeyCode::BackTab, "Shift-Tab"),
    ("esc", KeyCode::Esc, "Esc"),
    ("enter", KeyCode::Enter, "Enter"),
    ("space", KeyCode::Char(' '), "Space"),
    ("backspace", KeyCode::Backspace, "Backspace"),
    ("delete", KeyCode::Delete, "Delete"),
    ("insert", KeyCode::Insert, "Insert"),
    ("home", KeyCode::Home, "Home"),
    ("end", KeyCode::End, "End"),
    ("pageup", KeyCode::PageUp, "PgUp"),
    ("pagedown", KeyCode::PageDown, "PgDn"),
    ("pgup", KeyCode::PageUp, "PgUp"),
    ("pgdn", KeyCode::PageDown, "PgDn"),
    ("up", KeyCode::Up, "↑"),
    ("down", KeyCode::Down, "↓"),
    ("left", KeyCode::Left, "←"),
    ("right", KeyCode::Right, "→"),
];

impl Chord {
    /// `ctrl-s`, `alt-x`, `f5`, `tab`, `shift-tab`, `?`, `H`; the modifiers in any case.
    pub fn parse(text: &str) -> Result<Chord, String> {
        let mut rest = text.trim();
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.starts_with("ctrl-") && rest.len() > 5 {
                ctrl = true;
                rest = &rest[5..];
            } else if lower.starts_with("alt-") && rest.len() > 4 {
                alt = true;
                rest = &rest[4..];
            } else if lower.starts_with("shift-") && lower != "shift-tab" && rest.len() > 6 {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = if let Some((_, code, _)) = NAMED.iter().find(|(n, _, _)| *n == lower) {
            *code
        } else if let Some(n) = lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            if !(1..=12).contains(&n) {
                return Err(format!(
                    "{text:?} is not a key: function keys are f1 to f12"
                ));
            }
            KeyCode::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => {
                    // Ctrl and a letter arrive as the lower-case letter.
                    KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
                }
                _ => {
                    return Err(format!(
                        "{text:?} is not a key: write one character, f1 to f12, or a name such as \
                         tab, esc, enter, space, up, pageup, with ctrl- or alt- before it"
                    ));
                }
            }
        };
        if shift && matches!(code, KeyCode::Char(_)) {
            return Err(format!(
                "{text:?} is not a key: write a shifted character as itself (\"K\", not \"shift-k\")"
            ));
        }
        Ok(Chord {
            code,
            ctrl,
            alt,
            shift,
        })
    }

    /// Whether `key` is this chord with the same Shift and Alt (see [`Chord::matches`]).
    pub fn matches_exactly(&self, key: &KeyEvent) -> bool {
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        self.matches(key) && alt == self.alt && self.shift == self.shifted(key)
    }

    /// Whether `key` has a Shift this chord could tell: on a key that types nothing.
    fn shifted(&self, key: &KeyEvent) -> bool {
        key.modifiers.contains(KeyModifiers::SHIFT)
            && !matches!(key.code, KeyCode::Char(_) | KeyCode::BackTab)
    }

    /// Whether `key` is this chord (Shift is part of the character or the key's name). A
    /// chord that types nothing also takes the key with Alt: Esc and a key sent at once
    /// arrive as Alt and the key.
    pub fn matches(&self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let code = match key.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            code => code,
        };
        let alt_ok = alt == self.alt || (alt && !self.alt && !self.is_plain());
        // A chord with Shift wants it; one without takes the key with or without.
        let shift_ok = !self.shift || self.shifted(key);
        code == self.code && ctrl == self.ctrl && alt_ok && shift_ok
    }

    /// A key that types text in the prompt: a character with neither Ctrl nor Alt.
    pub fn is_plain(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && !self.ctrl && !self.alt
    }
}

impl fmt::Display for Chord {
    /// As the help shows it: `Ctrl-S`, `F1`, `Shift-Tab`, `?`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        if self.shift {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.ctrl || self.alt => write!(f, "{}", c.to_ascii_uppercase()),
            KeyCode::Char(c) => write!(f, "{c}"),
            code => {
                let name = NAMED.iter().find(|(_, k, _)| *k == code);
                f.write_str(name.map_or("?", |(_, _, shown)| shown))
            }
        }
    }
}

/// Which keys run which command: the table's defaults, with `[keys]` over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bound: Vec<(Command, Vec<Chord>)>,
    /// Each pane's and dialog's commands (`keys_panes.rs`).
    pub(super) panes: Vec<(Context, Act, Vec<Chord>)>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let bound = COMMANDS
            .iter()
            .map(|e| {
                let chords = e.keys.iter().filter_map(|k| Chord::parse(k).ok()).collect();
                (e.command, chords)
            })
            .collect();
        Keymap {
            bound,
            panes: default_panes(),
        }
    }
}

impl Keymap {
    /// The command `key` runs, if any, with the chord that matched: one with the key's own
    /// Alt first.
    pub fn command(&self, key: &KeyEvent) -> Option<(Command, Chord)> {
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let found = |exact: bool| {
            self.bound.iter().find_map(|(command, chords)| {
                chords
                    .iter()
                    .find(|c| c.matches(key) && (!exact || c.alt == alt))
                    .map(|chord| (*command, *chord))
            })
        };
        found(true).or_else(|| found(false))
    }

    /// The keys of `command`, in the order they were given.
    pub fn keys(&self, command: Command) -> &[Chord] {
        self.bound
            .iter()
            .find(|(c, _)| *c == command)
            .map_or(&[], |(_, chords)| chords.as_slice())
    }

    /// The first key of `command`, as the screen names it: `Ctrl-S`.
    pub fn first(&self, command: Command) -> String {
        self.keys(command)
            .first()
            .map_or_else(String::new, Chord::to_string)
    }

    /// The keys of `command` as the help lists them: `F1, ?`.
    pub fn label(&self, command: Command) -> String {
        let keys: Vec<String> = self.keys(command).iter().map(Chord::to_string).collect();
        keys.join(", ")
    }

    /// Binds `command` to `chords` instead of its defaults.
    pub fn rebind(&mut self, command: Command, chords: Vec<Chord>) {
        if let Some(slot) = self.bound.iter_mut().find(|(c, _)| *c == command) {
            slot.1 = chords;
        }
    }

    /// Why `command`'s keys cannot stay as they are: none, one another command has too, or
    /// one a pane command it reaches has.
    pub fn conflict(&self, command: Command) -> Option<String> {
        let keys = self.keys(command);
        if keys.is_empty() {
            return Some(format!("{} needs at least one key", name(command)));
        }
        keys.iter().find_map(|chord| {
            self.bound
                .iter()
                .find(|(c, others)| *c != command && others.contains(chord))
                .map(|(other, _)| {
                    let other = name(*other);
                    format!("{chord} is {other}'s key too: bind {other} to another key as well")
                })
                .or_else(|| self.shadowed_by(command))
        })
    }
}

/// The name `[keys]` knows `command` by.
pub fn name(command: Command) -> &'static str {
    COMMANDS
        .iter()
        .find(|e| e.command == command)
        .map_or("?", |e| e.name)
}

/// The command `[keys]` calls `name`, or what it could have been.
pub fn command_named(name: &str) -> Result<Command, String> {
    COMMANDS
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.command)
        .ok_or_else(|| {
            let known: Vec<&str> = COMMANDS.iter().map(|e| e.name).collect();
            format!(
                "{name:?} is not a command: the commands are {}",
                known.join(", ")
            )
        })
}
