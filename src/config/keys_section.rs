//! `config.toml`'s `[keys]`: each line binds a command to a key or a list of keys; a table in
//! it (`[keys.history]`) binds that pane's or dialog's commands. An unknown command or pane,
//! a key that is not one, or a key two commands would share is refused with its line.

use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::ConfigError;
use super::file::{at, describe};
use super::keys::{Chord, Keymap, command_named};
use super::keys_panes::{CONTEXTS, Context, act_named, context_named};

/// A line that was read, for the checks once every line is in.
enum Given {
    Anywhere(super::keys::Command),
    Pane(Context, super::keys_panes::Act),
}

/// The keymap `text` asks for; `path` only names the file in messages.
pub(super) fn read(text: &str, path: &Path) -> Result<Keymap, ConfigError> {
    let refuse = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let document = DeTable::parse(text).map_err(|e| refuse(describe(&e, text)))?;
    let mut keymap = Keymap::default();
    let Some(section) = document.get_ref().get("keys") else {
        return Ok(keymap);
    };
    let DeValue::Table(section) = section.get_ref() else {
        let why = "[keys] is a table: `submit = \"ctrl-s\"` lines, and `[keys.history]` tables";
        return Err(refuse(at(text, section.span().start, why)));
    };
    let mut given = Vec::new();
    for (name, value) in in_order(section) {
        if let DeValue::Table(table) = value.get_ref() {
            let context = context_named(name.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = CONTEXTS.iter().map(|(_, n)| *n).collect();
                let why = format!(
                    "[keys.{}] is not a pane or a dialog: they are {}",
                    name.get_ref(),
                    known.join(", ")
                );
                refuse(at(text, name.span().start, &why))
            })?;
            for (name, value) in in_order(table) {
                let act = act_named(context, name.get_ref())
                    .map_err(|why| refuse(at(text, name.span().start, &why)))?;
                let chords =
                    chords(value).map_err(|why| refuse(at(text, value.span().start, &why)))?;
                keymap.rebind_act(context, act, chords);
                given.push((Given::Pane(context, act), value.span().start));
            }
            continue;
        }
        let command = command_named(name.get_ref())
            .map_err(|why| refuse(at(text, name.span().start, &why)))?;
        let chords = chords(value).map_err(|why| refuse(at(text, value.span().start, &why)))?;
        keymap.rebind(command, chords);
        given.push((Given::Anywhere(command), value.span().start));
    }
    // Checked once every line is in: two commands may trade keys.
    given.sort_by_key(|(_, start)| *start);
    for (line, start) in given {
        let conflict = match line {
            Given::Anywhere(command) => keymap.conflict(command),
            Given::Pane(context, act) => keymap.pane_conflict(context, act),
        };
        if let Some(why) = conflict {
            return Err(refuse(at(text, start, &why)));
        }
    }
    Ok(keymap)
}

type Line<'a, 'i> = (
    &'a Spanned<std::borrow::Cow<'i, str>>,
    &'a Spanned<DeValue<'i>>,
);

/// A table's lines in the file's order, so that a conflict names the later line.
fn in_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Line<'a, 'i>> {
    let mut lines: Vec<_> = table.iter().collect();
    lines.sort_by_key(|(name, _)| name.span().start);
    lines
}

/// A key (`"ctrl-s"`) or a list of keys (`["f1", "?"]`).
fn chords(value: &Spanned<DeValue<'_>>) -> Result<Vec<Chord>, String> {
    const EXPECTED: &str = "expected a key (\"ctrl-s\") or a list of keys ([\"f1\", \"?\"])";
    match value.get_ref() {
        DeValue::String(one) => Ok(vec![Chord::parse(one)?]),
        DeValue::Array(many) => many
            .iter()
            .map(|v| match v.get_ref() {
                DeValue::String(one) => Chord::parse(one),
                _ => Err(EXPECTED.to_owned()),
            })
            .collect(),
        _ => Err(EXPECTED.to_owned()),
    }
}
