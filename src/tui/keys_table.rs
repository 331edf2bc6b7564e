//! The whole key table, as the help shows it and the README lists it: the keymap's commands
//! (with the keys `[keys]` gave them) under "Anywhere", then every pane's and dialog's keys.

use crate::config::Keymap;
use crate::config::keys::{COMMANDS, Chord, Command};
use crate::tui::keys::{GLOBAL_FIXED, SECTIONS};

/// One line of the help: the keys, and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub keys: String,
    pub what: &'static str,
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
    });
    let fixed = GLOBAL_FIXED.iter().map(|b| Row {
        keys: b.keys.to_owned(),
        what: b.what,
    });
    let mut all = vec![Section {
        title: "Anywhere",
        rows: commands.chain(fixed).collect(),
    }];
    all.extend(SECTIONS.iter().map(|(title, bindings)| {
        Section {
            title,
            rows: bindings
                .iter()
                .map(|b| Row {
                    keys: b.keys.to_owned(),
                    what: b.what,
                })
                .collect(),
        }
    }));
    all
}

/// The README's key table (under "### Keys"), one row per section.
pub fn markdown(keys: &Keymap) -> String {
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("| where | keys |\n|---|---|\n");
    for section in sections(keys) {
        let cells: Vec<String> = section
            .rows
            .iter()
            .map(|r| format!("**{}** {}", escape(&r.keys), escape(r.what)))
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
];

/// The key a status-line hint should show: its default, unless `[keys]` moved that command
/// to other keys (then the first of those of the same kind, a plain character or not).
pub fn relabel(keys: &Keymap, key: &str, what: &str) -> String {
    let hinted = HINTED
        .iter()
        .find(|(k, w, _)| *k == key && (what == *w || what.starts_with("submit")));
    let Some((_, _, command)) = hinted else {
        return key.to_owned();
    };
    let Ok(default) = Chord::parse(key) else {
        return key.to_owned();
    };
    let bound = keys.keys(*command);
    if bound.contains(&default) {
        return key.to_owned();
    }
    bound
        .iter()
        .find(|c| c.is_plain() == default.is_plain())
        .or(bound.first())
        .map_or_else(|| key.to_owned(), Chord::to_string)
}
