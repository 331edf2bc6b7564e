//! The keymap: `[keys]` in `config.toml` moves a command to other keys (what the key does, and
//! what the help and the status line say), a wrong line is refused with its number, and the
//! README's key table is the one the help shows.

use std::path::Path;
use std::time::Instant;

use crossterm::event::KeyCode;
use fouro::config::{Config, ConfigError, Keymap};
use fouro::tui::action::Effect;
use fouro::tui::app::{App, Overlay, Screen};
use fouro::tui::keys_table;
use fouro::tui::testing::{app_with_keys, ctrl, key, screen, set_prompt};

pub(crate) fn keymap(toml: &str) -> Keymap {
    match Config::from_toml(toml, Path::new("config.toml")) {
        Ok(loaded) => loaded.config.keys,
        Err(e) => panic!("refused: {e}"),
    }
}

pub(crate) fn refusal(toml: &str) -> String {
    match Config::from_toml(toml, Path::new("config.toml")) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e @ ConfigError::Parse { .. }) => e.to_string(),
        Err(e) => panic!("refused for another reason: {e}"),
    }
}

/// `toml` is refused, naming line `line` and saying `says`.
pub(crate) fn refused_at(toml: &str, line: usize, says: &str) {
    let e = refusal(toml);
    assert!(e.contains(&format!("line {line}")), "{e}");
    assert!(e.contains(says), "{e}");
}

fn submitted(app: &mut App) -> bool {
    app.take_effects()
        .iter()
        .any(|e| matches!(e, Effect::Submit { .. }))
}

pub(crate) fn started(keys: Keymap) -> App {
    let mut app = app_with_keys(100, 30, Instant::now(), keys);
    app.take_effects();
    app
}

#[test]
fn a_rebound_submit_key_submits_and_the_old_one_does_not() {
    let keys = keymap("[keys]\nsubmit = \"ctrl-g\"\n");
    let mut app = started(keys);
    set_prompt(&mut app, "a red fox");
    app.update(ctrl('s'));
    assert!(!submitted(&mut app), "Ctrl-S still submits");
    app.update(ctrl('g'));
    assert!(submitted(&mut app), "Ctrl-G does not submit");
}

#[test]
fn a_rebound_key_is_what_the_help_and_the_status_line_name() {
    let keys = keymap("[keys]\nsubmit = \"ctrl-g\"\nhistory = [\"f7\", \"Z\"]\n");
    let mut app = started(keys.clone());
    let text = screen(&app);
    assert!(text.contains("Ctrl-G"), "the status line:\n{text}");
    assert!(!text.contains("Ctrl-S"), "the old key still shown:\n{text}");

    app.update(key(KeyCode::F(1)));
    assert!(matches!(app.overlay, Some(Overlay::Help { .. })));
    let help = keys_table::sections(&keys);
    let anywhere = &help[0].rows;
    assert!(anywhere.iter().any(|r| r.keys == "Ctrl-G"), "{anywhere:?}");
    assert!(anywhere.iter().any(|r| r.keys == "F7, Z"), "{anywhere:?}");
    app.update(key(KeyCode::Home)); // the help opens at the prompt's keys
    let text = screen(&app);
    assert!(text.contains("F7, Z"), "the help:\n{text}");
}

#[test]
fn a_rebound_history_key_opens_the_history_and_the_old_one_is_free() {
    let mut app = started(keymap("[keys]\nhistory = [\"f7\", \"Z\"]\n"));
    app.update(key(KeyCode::Tab)); // to the references: plain keys are not text there
    app.update(key(KeyCode::F(3)));
    assert_eq!(app.screen, Screen::Main, "F3 still opens the history");
    app.update(key(KeyCode::Char('Z')));
    assert_eq!(app.screen, Screen::History);
    app.update(key(KeyCode::F(7)));
    assert_eq!(app.screen, Screen::Main, "F7 does not come back");
    app.update(key(KeyCode::F(7)));
    assert_eq!(app.screen, Screen::History, "F7 does not open the history");
}

#[test]
fn a_plain_key_types_in_the_prompt_and_runs_the_command_elsewhere() {
    let mut app = started(keymap("[keys]\nrefresh = [\"f5\", \"z\"]\n"));
    set_prompt(&mut app, "a");
    app.update(key(KeyCode::Char('z')));
    assert_eq!(app.prompt.lines().join("\n"), "az");
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Char('z')));
    assert!(
        app.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::RefreshCredits { .. })),
        "r outside the prompt does not refresh"
    );
}

#[test]
fn two_commands_may_trade_keys() {
    let keys = keymap("[keys]\nhelp = \"f3\"\nhistory = \"f1\"\n");
    let mut app = started(keys);
    app.update(key(KeyCode::F(1)));
    assert_eq!(app.screen, Screen::History);
    assert!(app.overlay.is_none());
}

#[test]
fn a_key_two_commands_would_share_is_refused_with_its_line() {
    refused_at(
        "low_balance = 5\n\n[keys]\nsubmit = \"ctrl-s\"\nquit = \"f1\"\n",
        5,
        "F1 is help's key too",
    );
}

#[test]
fn an_unknown_command_is_refused_with_its_line() {
    refused_at(
        "[keys]\nsubmit = \"ctrl-s\"\nlaunch = \"f9\"\n",
        3,
        "\"launch\" is not a command",
    );
}

#[test]
fn an_unknown_key_is_refused_with_its_line() {
    refused_at("[keys]\n\nsubmit = \"ctrl-enterr\"\n", 3, "is not a key");
    let e = refusal("[keys]\nhelp = []\n");
    assert!(
        e.contains("line 2") && e.contains("at least one key"),
        "{e}"
    );
}

#[test]
fn keys_are_written_back_as_given() {
    let toml = "[keys]\nsubmit = \"ctrl-g\"\n";
    let loaded = match Config::from_toml(toml, Path::new("config.toml")) {
        Ok(loaded) => loaded,
        Err(e) => panic!("{e}"),
    };
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let dir = tempfile::tempdir().expect("a temporary directory");
    loaded.config.save(dir.path()).expect("saved");
    let again = Config::load(dir.path()).expect("read back");
    assert_eq!(again.config.keys, loaded.config.keys);
}

/// The README's table under "### Keys" is the help's, made from the same data.
#[test]
fn the_readme_key_table_is_the_help() {
    let readme = include_str!("../../README.md");
    let expected = keys_table::markdown(&Keymap::default());
    let table: String = readme
        .split("### Keys\n\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|l| l.starts_with('|'))
                .map(|l| format!("{l}\n"))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        table == expected,
        "README.md's key table (under \"### Keys\") differs from the keys the app has; \
         replace it with:\n\n{expected}"
    );
}

#[test]
fn the_default_keys_have_no_conflict() {
    let keys = Keymap::default();
    for entry in fouro::config::keys::COMMANDS {
        assert_eq!(keys.conflict(entry.command), None, "{}", entry.name);
    }
}
