//! The app's colours as data: `config.toml`'s `[theme]` picks a built-in palette (`base =
//! "dark"` or `"light"`) and sets any role over it, by name (`"red"`, `"light blue"`,
//! `"dark gray"`), by number (`"208"`, of the terminal's 256) or as `"#rrggbb"`. A role fouro
//! does not know, or a colour it cannot read, is refused at start with its line.
//!
//! Colour is never the only mark: the app draws every selection and focus by shape too
//! (thick frames, reverse video, `▶`), so a theme only changes how it looks.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::Color;
use serde::Deserialize;
use toml::Spanned;

use super::error::ConfigError;
use super::file::{at, describe};

/// One colour per role the app draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Marks and titles that ask for the eye: the cursor, the chosen option, notes, the
    /// balance's sparkline.
    pub accent: Color,
    /// Secondary text: hints, labels, times, "none".
    pub muted: Color,
    /// A pane's frame when it does not have the keys.
    pub border: Color,
    /// The frame of the pane that has the keys.
    pub focused_border: Color,
    /// Success: finished tasks, saved files.
    pub ok: Color,
    /// A task that is generating, and its progress bar.
    pub running: Color,
    /// Things to look at: low balance, stale figures, questions before an action.
    pub warning: Color,
    /// Failures and refusals.
    pub error: Color,
    /// Text written on a coloured badge (a message's title, the low-balance badge).
    pub badge_text: Color,
    /// Folders in the file browser.
    pub directory: Color,
}

/// The roles as `[theme]` names them, in the order the README lists them.
pub const ROLES: [&str; 10] = [
    "accent",
    "muted",
    "border",
    "focused_border",
    "ok",
    "running",
    "warning",
    "error",
    "badge_text",
    "directory",
];

impl Theme {
    /// For a dark terminal background: the app's look when no theme is set.
    pub const DARK: Theme = Theme {
        accent: Color::Cyan,
        muted: Color::DarkGray,
        border: Color::DarkGray,
        focused_border: Color::Cyan,
        ok: Color::Green,
        running: Color::Yellow,
        warning: Color::Yellow,
        error: Color::Red,
        badge_text: Color::Black,
        directory: Color::Blue,
    };

    /// For a light background: darker tones that stay readable on white (yellow and cyan
    /// are not).
    pub const LIGHT: Theme = Theme {
        accent: Color::Rgb(0x00, 0x5f, 0xaf),
        muted: Color::Rgb(0x6c, 0x6c, 0x6c),
        border: Color::Rgb(0x9e, 0x9e, 0x9e),
        focused_border: Color::Rgb(0x00, 0x5f, 0xaf),
        ok: Color::Rgb(0x00, 0x80, 0x3c),
        running: Color::Rgb(0x8a, 0x5a, 0x00),
        warning: Color::Rgb(0xa8, 0x4b, 0x00),
        error: Color::Rgb(0xc0, 0x1c, 0x28),
        badge_text: Color::White,
        directory: Color::Rgb(0x1a, 0x4f, 0xc4),
    };

    /// A built-in theme by name.
    pub fn named(name: &str) -> Option<Theme> {
        match name {
            "dark" => Some(Theme::DARK),
            "light" => Some(Theme::LIGHT),
            _ => None,
        }
    }

    fn role_mut(&mut self, role: &str) -> Option<&mut Color> {
        Some(match role {
            "accent" => &mut self.accent,
            "muted" => &mut self.muted,
            "border" => &mut self.border,
            "focused_border" => &mut self.focused_border,
            "ok" => &mut self.ok,
            "running" => &mut self.running,
            "warning" => &mut self.warning,
            "error" => &mut self.error,
            "badge_text" => &mut self.badge_text,
            "directory" => &mut self.directory,
            _ => return None,
        })
    }
}

impl Default for Theme {
    fn default() -> Theme {
        Theme::DARK
    }
}

/// A colour as `[theme]` takes it: a name, a number from 0 to 255, or `#rrggbb`.
pub fn parse_colour(text: &str) -> Result<Color, String> {
    let refuse = || {
        format!(
            "{text:?} is not a colour: use a name (\"red\", \"light blue\", \"dark gray\"), \
             a number from 0 to 255, or \"#rrggbb\""
        )
    };
    let text = text.trim();
    if let Some(hex) = text.strip_prefix('#')
        && (hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(refuse());
    }
    match Color::from_str(text) {
        // "reset" would let the terminal's own colour through: a role has a colour.
        Ok(Color::Reset) | Err(_) => Err(refuse()),
        Ok(c) => Ok(c),
    }
}

#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    theme: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// The theme `text` asks for; `path` only names the file in messages.
pub(super) fn read(text: &str, path: &Path) -> Result<Theme, ConfigError> {
    let refuse = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let section: Section = toml::from_str(text).map_err(|e| refuse(describe(&e, text)))?;
    let mut theme = Theme::default();
    if let Some((_, base)) = section.theme.iter().find(|(k, _)| k.get_ref() == "base") {
        theme = Theme::named(base.get_ref()).ok_or_else(|| {
            let why = format!(
                "there is no built-in theme {:?}: the base is \"dark\" or \"light\"",
                base.get_ref()
            );
            refuse(at(text, base.span().start, &why))
        })?;
    }
    let mut lines: Vec<_> = section.theme.iter().collect();
    lines.sort_by_key(|(role, _)| role.span().start);
    for (role, value) in lines {
        if role.get_ref() == "base" {
            continue;
        }
        let Some(slot) = theme.role_mut(role.get_ref()) else {
            let why = format!(
                "[theme] has no role {:?}: the roles are base, {}",
                role.get_ref(),
                ROLES.join(", ")
            );
            return Err(refuse(at(text, role.span().start, &why)));
        };
        *slot = parse_colour(value.get_ref())
            .map_err(|why| refuse(at(text, value.span().start, &why)))?;
    }
    Ok(theme)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme(text: &str) -> Result<Theme, String> {
        read(text, Path::new("config.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn no_section_is_the_dark_theme() {
        assert_eq!(theme(""), Ok(Theme::DARK));
        assert_eq!(theme("[theme]\nbase = \"light\"\n"), Ok(Theme::LIGHT));
        assert_ne!(Theme::DARK, Theme::LIGHT);
    }

    #[test]
    fn roles_take_names_numbers_and_hex_over_the_base() {
        let t = theme(
            "[theme]\nbase = \"light\"\naccent = \"#ff8800\"\nerror = \"light red\"\nmuted = \"244\"\n",
        );
        let t = t.unwrap_or_default();
        assert_eq!(t.accent, Color::Rgb(0xff, 0x88, 0x00));
        assert_eq!(t.error, Color::LightRed);
        assert_eq!(t.muted, Color::Indexed(244));
        assert_eq!(t.ok, Theme::LIGHT.ok);
    }

    #[test]
    fn a_bad_colour_or_role_is_refused_with_its_line() {
        let err = theme("low_balance = 5\n\n[theme]\naccent = \"#12345\"\n").unwrap_err();
        assert!(err.contains("line 4, column 10"), "{err}");
        assert!(err.contains("\"#12345\" is not a colour"), "{err}");
        let err = theme("[theme]\nok = \"green\"\naccnet = \"red\"\n").unwrap_err();
        assert!(err.contains("line 3, column 1"), "{err}");
        assert!(err.contains("no role \"accnet\""), "{err}");
        let err = theme("[theme]\nbase = \"solarized\"\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("\"solarized\""),
            "{err}"
        );
        let err = theme("[theme]\nok = 3\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(parse_colour("reset").is_err());
        assert!(parse_colour("#zzzzzz").is_err());
    }
}
