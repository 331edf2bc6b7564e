//! `[theme]` in `config.toml` reaches the frame: the built-in `light` draws in other colours
//! than `dark`, a role set by hex is the colour of what that role draws, and a colour or a role
//! fouro cannot use is refused with its line.

use std::path::Path;
use std::time::Instant;

use fouro::config::{Config, Theme};
use fouro::tui::app::App;
use fouro::tui::testing::{app_with_theme, buffer};
use ratatui::style::Color;

fn theme(text: &str) -> Result<Theme, String> {
    Config::from_toml(text, Path::new("/home/ana/.config/fouro/config.toml"))
        .map(|l| l.config.theme)
        .map_err(|e| e.to_string())
}

/// The colour of the focused pane's frame (its thick corner) and of an unfocused pane's.
fn frames(app: &App) -> (Color, Color) {
    let buf = buffer(app);
    let corner = |symbol: &str| {
        buf.content
            .iter()
            .find(|c| c.symbol() == symbol)
            .map(|c| c.fg)
            .unwrap()
    };
    (corner("┏"), corner("┌"))
}

#[test]
fn light_is_not_dark_and_a_hex_role_takes_effect() {
    let now = Instant::now();
    let dark = app_with_theme(80, 24, now, theme("").unwrap());
    let light = app_with_theme(80, 24, now, theme("[theme]\nbase = \"light\"\n").unwrap());
    assert_eq!(frames(&dark), (Color::Cyan, Color::DarkGray));
    assert_eq!(
        frames(&light),
        (Theme::LIGHT.focused_border, Theme::LIGHT.border)
    );
    assert_ne!(frames(&light), frames(&dark));
    // Every cell that is coloured in one is coloured differently in the other.
    let (d, l) = (buffer(&dark), buffer(&light));
    let shared: Vec<_> = d
        .content
        .iter()
        .zip(&l.content)
        .enumerate()
        .filter(|(_, (a, b))| a.fg != Color::Reset && a.fg == b.fg)
        .map(|(i, (a, _))| (i % 80, i / 80, a.symbol().to_owned(), a.fg))
        .collect();
    assert!(
        shared.is_empty(),
        "colours dark and light share: {shared:?}"
    );

    let text = "[theme]\nbase = \"light\"\nfocused_border = \"#ff8800\"\nborder = \"dark gray\"\n";
    let custom = app_with_theme(80, 24, now, theme(text).unwrap());
    assert_eq!(
        frames(&custom),
        (Color::Rgb(0xff, 0x88, 0x00), Color::DarkGray)
    );
}

#[test]
fn a_bad_colour_or_an_unknown_role_is_refused_with_its_line() {
    let err =
        theme("queue_parallel = 2\n[theme]\nbase = \"dark\"\nwarning = \"#ffaa\"\n").unwrap_err();
    assert!(err.contains("config.toml is not valid"), "{err}");
    assert!(err.contains("line 4, column 11"), "{err}");
    assert!(err.contains("\"#ffaa\" is not a colour"), "{err}");
    let err = theme("[theme]\nselected = \"red\"\n").unwrap_err();
    assert!(err.contains("line 2, column 1"), "{err}");
    assert!(err.contains("no role \"selected\""), "{err}");
    assert!(
        err.contains("focused_border"),
        "the roles are listed: {err}"
    );
}
