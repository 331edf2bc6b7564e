//! The whole key table, as the help shows it and the README lists it: the keymap's commands
//! (with the keys `[keys]` gave them) under "Anywhere", then every pane's and dialog's keys.

use crate::config::Keymap;
use crate::config::keys::{COMMANDS, Chord, Command};
use crate::config::keys_panes::{PANE_COMMANDS, context_name};
use crate::tui::keys::{GLOBAL_FIXED, Part, Place, SECTIONS, context_of};

/// One line of the help: the keys, and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub keys: String,
    pub what: &'static str,
    /// What `config.toml` calls the command (`submit`, `history.rerun`); none for fixed keys.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: &'static str,
    pub rows: Vec<Row>,
}

/// Every section of the help, the keymap's commands first.
pub fn sections(keys: &Keymap) -> Vec<Section> {
    let commands = COMMANDS.iter().map(|e| Row {
        keys: keys.label(e.command),
        what: e.what,
        name: Some(e.name.to_owned()),
    });
    let fixed = GLOBAL_FIXED.iter().map(|b| Row {
        keys: b.keys.to_owned(),
        what: b.what,
        name: None,
    });
    let mut all = vec![Section {
        title: "Anywhere",
        rows: commands.chain(fixed).collect(),
    }];
    all.extend(SECTIONS.iter().map(|(title, parts)| Section {
        title,
        rows: parts.iter().flat_map(|part| rows(keys, *part)).collect(),
    }));
    all
}

fn rows(keys: &Keymap, part: Part) -> Vec<Row> {
    match part {
        Part::Fixed(bindings) => bindings
            .iter()
            .map(|b| Row {
                keys: b.keys.to_owned(),
                what: b.what,
                name: None,
            })
            .collect(),
        Part::Keys(context) => PANE_COMMANDS
            .iter()
            .filter(|e| e.context == context)
            .map(|e| Row {
                keys: keys.pane_label(context, e.act),
                what: e.what,
                name: Some(format!("{}.{}", context_name(context), e.name)),
            })
            .collect(),
    }
}

/// The README's key table (under "### Keys"), one row per section; each command with the
/// name `[keys]` knows it by.
pub fn markdown(keys: &Keymap) -> String {
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("| where | keys |\n|---|---|\n");
    for section in sections(keys) {
        let cells: Vec<String> = section
            .rows
            .iter()
            .map(|r| match &r.name {
                Some(name) => format!("**{}** {} (`{name}`)", escape(&r.keys), escape(r.what)),
                None => format!("**{}** {}", escape(&r.keys), escape(r.what)),
            })
            .collect();
        out.push_str(&format!("| {} | {} |\n", section.title, cells.join(" · ")));
    }
    out
}

/// The commands the status line's hints name, by the default key they show and their words.
const HINTED: &[(&str, &str, Command)] = &[
    ("Ctrl-S", "submit", Command::Submit),
    ("Ctrl-S", "off while typing", Command::Submit),
    ("Ctrl-S", "stay and submit", Command::Submit),
    ("Ctrl-S", "submit it", Command::Submit),
    ("Tab", "next pane", Command::NextPane),
    ("F1", "help", Command::Help),
    ("?", "help", Command::Help),
    ("F3", "history", Command::History),
    ("H", "history", Command::History),
    ("F4", "account", Command::Account),
    ("A", "account", Command::Account),
    ("Ctrl-C", "quit", Command::Quit),
    ("q", "quit", Command::Quit),
    ("Alt-S", "stage", Command::Stage),
    ("F6", "start the queue", Command::StartQueue),
    ("F6", "pause the queue", Command::StartQueue),
    ("P", "start/pause", Command::StartQueue),
];

/// The key a status-line hint should show: its default, unless `[keys]` moved that command
/// to other keys (then the first of those of the same kind, a plain character or not). A
/// hint may name several keys (`K/J`, `↑↓`): each is relabelled.
pub fn relabel(keys: &Keymap, place: Place, key: &str, what: &str) -> String {
    if let Some(command) = hinted(key, what) {
        return relabel_command(keys, key, command);
    }
    let Some(context) = context_of(place) else {
        return key.to_owned();
    };
    let mut out = String::new();
    for token in tokens(key) {
        let moved = Chord::parse(arrow_name(&token)).ok().and_then(|default| {
            let entry = PANE_COMMANDS.iter().find(|e| {
                e.context == context && e.keys.iter().any(|k| Chord::parse(k).ok() == Some(default))
            })?;
            let bound = keys.pane_keys(context, entry.act);
            if bound.contains(&default) {
                return None;
            }
            bound
                .iter()
                .find(|c| c.is_plain() == default.is_plain())
                .or(bound.first())
                .map(Chord::to_string)
        });
        out.push_str(&moved.unwrap_or(token));
    }
    out
}

fn hinted(key: &str, what: &str) -> Option<Command> {
    HINTED
        .iter()
        .find(|(k, w, _)| *k == key && (what == *w || what.starts_with("submit")))
        .map(|(_, _, command)| *command)
}

fn relabel_command(keys: &Keymap, key: &str, command: Command) -> String {
    let Ok(default) = Chord::parse(key) else {
        return key.to_owned();
    };
    let bound = keys.keys(command);
    if bound.contains(&default) {
        return key.to_owned();
    }
    bound
        .iter()
        .find(|c| c.is_plain() == default.is_plain())
        .or(bound.first())
        .map_or_else(|| key.to_owned(), Chord::to_string)
}

/// The name `Chord::parse` reads for an arrow as the screen shows it.
fn arrow_name(token: &str) -> &str {
    match token {
        "↑" => "up",
        "↓" => "down",
        "←" => "left",
        "→" => "right",
        other => other,
    }
}

/// A hint's keys and what lies between them: `K/J` is `K`, `/`, `J`; `↑↓` is `↑`, `↓`.
fn tokens(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in key.chars() {
        let arrow = matches!(c, '↑' | '↓' | '←' | '→');
        // `/` alone is a key (`/` searches the history); between keys it separates them.
        let separator = (c == '/' && !word.is_empty()) || c == ' ';
        if arrow || separator {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            out.push(c.to_string());
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A scrolling box's title (help, details) with the keys bound in `place` now.
pub fn scroll_title(keys: &Keymap, place: Place, name: &str, scrolls: bool) -> String {
    let close = relabel(keys, place, "Esc", "close");
    if scrolls {
        let scroll = relabel(keys, place, "↑/↓ PgUp/PgDn", "scroll");
        format!(" {name} ({scroll} scroll, {close} closes) ")
    } else {
        format!(" {name} ({close} closes) ")
    }
}

/// The key bound now, in `place`, to the command whose default key is `default` (for the
/// hints that panes write into their own text).
pub fn key_in(keys: &Keymap, place: Place, default: &str) -> String {
    relabel(keys, place, default, "")
}
