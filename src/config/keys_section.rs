//! `config.toml`'s `[keys]`: each line binds a command to a key or a list of keys. An unknown
//! command, a key that is not one, or a key two commands would share is refused with its line.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::ConfigError;
use super::file::{at, describe};
use super::keys::{Chord, Keymap, command_named};

#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<Keys>>,
}

#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a key (\"ctrl-s\") or a list of keys ([\"f1\", \"?\"])"
)]
enum Keys {
    One(String),
    Many(Vec<String>),
}

/// The keymap `text` asks for; `path` only names the file in messages.
pub(super) fn read(text: &str, path: &Path) -> Result<Keymap, ConfigError> {
    let refuse = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let section: Section = toml::from_str(text).map_err(|e| refuse(describe(&e, text)))?;
    let mut keymap = Keymap::default();
    // In the file's order, so that a conflict names the later line.
    let mut lines: Vec<_> = section.keys.into_iter().collect();
    lines.sort_by_key(|(name, _)| name.span().start);
    let mut given = Vec::new();
    for (name, keys) in lines {
        let command = command_named(name.get_ref())
            .map_err(|why| refuse(at(text, name.span().start, &why)))?;
        let texts = match keys.get_ref() {
            Keys::One(one) => vec![one.clone()],
            Keys::Many(many) => many.clone(),
        };
        let chords = texts
            .iter()
            .map(|t| Chord::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| refuse(at(text, keys.span().start, &why)))?;
        keymap.rebind(command, chords);
        given.push((command, keys.span().start));
    }
    // Checked once every line is in: two commands may trade keys.
    for (command, start) in given {
        if let Some(why) = keymap.conflict(command) {
            return Err(refuse(at(text, start, &why)));
        }
    }
    Ok(keymap)
}
