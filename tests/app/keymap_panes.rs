//! Each pane's and dialog's keys as data: `[keys.CONTEXT]` in `config.toml` moves a pane
//! command to other keys (what the key does, what the help and the status line say), a wrong
//! line is refused with its number, and the help opens at the keys of the focused pane.

use std::time::Instant;

use crossterm::event::KeyCode;
use fouro::config::Keymap;
use fouro::tui::app::{App, Focus, Overlay, Screen};
use fouro::tui::keys_table;
use fouro::tui::testing::{app_with_keys, key, screen};

use crate::common::run::{Fouro, code, stderr};
use crate::keymap::{keymap, refusal, refused_at, started};

fn focus(app: &mut App, pane: Focus) {
    while app.focus != pane {
        app.update(key(KeyCode::Tab));
    }
}

/// The status line: the screen's last row.
fn status_line(app: &App) -> String {
    screen(app).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn a_rebound_references_key_does_the_command_and_the_old_one_nothing() {
    let mut app = started(keymap("[keys.references]\nadd-url = \"U\"\n"));
    focus(&mut app, Focus::References);
    let shown = screen(&app);
    assert!(
        shown.contains("none yet: a adds a file, U a URL"),
        "the empty pane names the rebound key:\n{shown}"
    );
    app.update(key(KeyCode::Char('u')));
    assert!(app.overlay.is_none(), "u still asks for a URL");
    app.update(key(KeyCode::Char('U')));
    assert!(
        matches!(app.overlay, Some(Overlay::Url { .. })),
        "U does not ask for a URL"
    );
}

#[test]
fn a_rebound_pane_key_is_what_the_help_and_the_status_line_name() {
    let keys = keymap("[keys.references]\nadd-url = \"U\"\n");
    let mut app = started(keys.clone());
    focus(&mut app, Focus::References);
    let line = status_line(&app);
    assert!(line.contains(" U  URL"), "the status line: {line}");
    assert!(!line.contains(" u  URL"), "the old key still shown: {line}");

    let help = keys_table::sections(&keys);
    let references = help
        .iter()
        .find(|s| s.title == "References")
        .expect("a section");
    let row = references
        .rows
        .iter()
        .find(|r| r.name.as_deref() == Some("references.add-url"))
        .expect("the add-url row");
    assert_eq!(row.keys, "U");
    app.update(key(KeyCode::F(1)));
    let text = screen(&app);
    assert!(
        text.lines()
            .any(|l| l.contains("  U  ") && l.contains("add a URL")),
        "the help:\n{text}"
    );
}

#[test]
fn a_rebound_history_key_goes_back_and_the_status_line_says_so() {
    let keys = keymap("[keys.history]\nback = [\"x\", \"esc\"]\nremix = \"m\"\n");
    // Wide enough for the status line to reach the remix hint.
    let mut app = app_with_keys(240, 30, Instant::now(), keys);
    app.take_effects();
    focus(&mut app, Focus::References);
    app.update(key(KeyCode::F(3)));
    assert_eq!(app.screen, Screen::History);
    let line = status_line(&app);
    assert!(line.contains(" m  remix"), "the status line: {line}");
    let shown = screen(&app);
    assert!(
        shown.contains(" i details · m remix · R re-run "),
        "the selected entry's pane names the keys too:\n{shown}"
    );
    app.update(key(KeyCode::Char('x')));
    assert_eq!(app.screen, Screen::Main, "x does not go back");
    app.update(key(KeyCode::F(3)));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Main, "Esc, kept, does not go back");
}

#[test]
fn an_options_key_moves_to_another_and_the_old_one_is_free() {
    let mut app = started(keymap("[keys.options]\nvariants = \"n\"\n"));
    focus(&mut app, Focus::Options);
    let before = app.options.variants;
    app.update(key(KeyCode::Char('v')));
    assert_eq!(app.options.variants, before, "v still changes the variants");
    app.update(key(KeyCode::Char('n')));
    assert_ne!(app.options.variants, before, "n does not change them");
}

#[test]
fn a_key_two_commands_of_a_pane_would_share_is_refused_with_its_line() {
    refused_at(
        "[keys]\nsubmit = \"ctrl-s\"\n\n[keys.history]\nremix = \"R\"\n",
        5,
        "R is history.rerun's key too",
    );
}

#[test]
fn a_pane_key_an_anywhere_command_has_is_refused_with_its_line() {
    refused_at("[keys.tasks]\ncopy-id = \"q\"\n", 2, "q is quit's key too");
    // The other way round: the anywhere line that takes a pane's key is the one named.
    refused_at(
        "[keys]\nrefresh = [\"f5\", \"r\"]\n",
        2,
        "r is history.remix's key too",
    );
}

#[test]
fn an_unknown_pane_command_or_pane_is_refused_with_its_line() {
    refused_at(
        "[keys.history]\nrerun = \"R\"\nlaunch = \"x\"\n",
        3,
        "\"launch\" is not a command of [keys.history]",
    );
    refused_at(
        "[keys]\nsubmit = \"ctrl-s\"\n[keys.histroy]\nrerun = \"x\"\n",
        3,
        "[keys.histroy] is not a pane or a dialog",
    );
}

#[test]
fn an_unknown_pane_key_is_refused_with_its_line() {
    refused_at(
        "[keys.tasks]\n\nretry = \"ctrl-enterr\"\n",
        3,
        "is not a key",
    );
    let e = refusal("[keys.tasks]\nretry = \"shift-p\"\n");
    assert!(e.contains("line 2") && e.contains("is not a key"), "{e}");
}

#[test]
fn the_default_pane_keys_have_no_conflict() {
    let keys = Keymap::default();
    for (context, act) in keys.pane_commands() {
        assert_eq!(
            keys.pane_conflict(context, act),
            None,
            "{context:?} {act:?}"
        );
    }
}

/// The help's first line inside its box (under the border).
fn help_top(app: &App) -> String {
    let text = screen(app);
    let mut lines = text.lines().skip_while(|l| !l.contains("╭ Keys"));
    lines.next();
    lines.next().unwrap_or_default().to_owned()
}

#[test]
fn the_help_opens_at_the_focused_panes_keys() {
    let mut app = started(Keymap::default());
    for (pane, title) in [
        (Focus::References, "References"),
        (Focus::Options, "Aspect & options"),
        (Focus::Tasks, "Tasks"),
        (Focus::Preview, "Preview"),
    ] {
        focus(&mut app, pane);
        app.update(key(KeyCode::F(1)));
        let top = help_top(&app);
        assert!(
            top.contains(title),
            "{pane:?}: the help starts with {top:?}"
        );
        app.update(key(KeyCode::Esc));
    }
    app.update(key(KeyCode::F(3)));
    app.update(key(KeyCode::Char('?')));
    let top = help_top(&app);
    assert!(
        top.contains("History"),
        "the history: the help starts with {top:?}"
    );
    // Home still goes to the top.
    app.update(key(KeyCode::Home));
    assert!(help_top(&app).contains("Anywhere"), "{}", screen(&app));
}

#[test]
fn the_demo_refuses_a_config_with_a_wrong_key_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).expect("the config directory");
    std::fs::write(
        config.join("config.toml"),
        "[keys.history]\nlaunch = \"x\"\n",
    )
    .expect("config.toml written");
    let out = Fouro::new(dir.path()).output(&["demo"]);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 2") && err.contains("\"launch\" is not a command"),
        "{err}"
    );
}

#[test]
fn the_help_box_title_names_the_keys_it_is_closed_and_scrolled_with() {
    let mut app = started(keymap(
        "[keys.help]\nclose = \"x\"\ndown = \"n\"\nup = \"p\"\n",
    ));
    app.update(key(KeyCode::F(1)));
    assert!(matches!(app.overlay, Some(Overlay::Help { .. })));
    let top = screen(&app);
    assert!(
        top.contains("Keys (p/n PgUp/PgDn scroll, x closes)"),
        "the title says the rebound keys:\n{top}"
    );
    app.update(key(KeyCode::Char('x')));
    assert!(app.overlay.is_none(), "x closes the help");
}
