//! The prompt's keys as a person types them, in the real binary: `fouro demo` in tmux (its
//! own data and config directories), keys sent the way tmux encodes them (Ctrl-_ arrives as
//! 0x1F, Alt-_ as Esc `_`), the screen read with capture-pane and what the app writes to the
//! terminal with pipe-pane (the notification's bytes). Every wait polls until a condition
//! holds or a deadline passes.

use std::path::Path;
use std::time::Duration;

use super::*;

/// How long one step of the keys may take to show.
const STEP: Duration = Duration::from_secs(30);

/// The prompt's first line of text.
fn prompt_line(tmux: &Tmux) -> String {
    tmux.screen(false)
        .lines()
        .nth(1)
        .and_then(|l| l.split('┃').nth(1))
        .unwrap_or("")
        .trim()
        .to_owned()
}

#[test]
fn prompt_keys_recall_and_a_notification_in_tmux() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    private_config(&config, "notify = \"osc9\"\n");
    let bytes = dir.path().join("pane.bytes");
    let command = format!(
        "env FOURO_DATA_DIR='{}' FOURO_CONFIG_DIR='{}' TERM=xterm-256color '{}' demo --duration 1",
        data.display(),
        config.display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmux = Tmux::start_command(&repo, &command, (100, 30));
    // Focus reports reach the app (tmux sends them only when asked to).
    tmux.run(&["set", "-g", "focus-events", "on"]);
    tmux.wait_text("100 credits", STEP);
    // No client is attached, so tmux reports the pane unfocused: say it has the focus, as
    // a terminal does when the window is in front.
    tmux.type_text("\u{1b}[I");
    tmux.pipe_to(&bytes);

    // The estimate is under the prompt before anything is sent.
    tmux.type_text("a red fox");
    tmux.wait_text("9 chars", STEP);
    tmux.wait_text("Ctrl-S: 1 image, cost not known yet", STEP);
    tmux.keys(&["C-s"]);
    tmux.wait_text("SUCCESS", STEP);

    // Alt-K clears, Ctrl-_ (0x1F on the wire) brings it back, Alt-_ clears again.
    tmux.keys(&["M-k"]);
    tmux.wait_text(" 0 chars", STEP);
    tmux.keys(&["C-_"]);
    tmux.wait_text("9 chars", STEP);
    tmux.keys(&["M-_"]);
    tmux.wait_text(" 0 chars", STEP);
    tmux.keys(&["C-z"]);
    tmux.wait_text("9 chars", STEP);

    // Ctrl-U to the start of the line, Ctrl-Y pastes it back; Ctrl-W a word.
    tmux.keys(&["C-u"]);
    tmux.wait_text(" 0 chars", STEP);
    tmux.keys(&["C-y"]);
    tmux.wait_text("9 chars", STEP);
    tmux.keys(&["C-w"]);
    tmux.wait_text("6 chars", STEP);
    assert_eq!(prompt_line(&tmux), "a red");

    // A new draft; Up recalls the prompt sent, Down gives the draft back.
    tmux.keys(&["M-k"]);
    tmux.type_text("draft");
    tmux.wait_text("5 chars", STEP);
    tmux.keys(&["Up"]);
    tmux.wait_text("earlier 1/1", STEP);
    assert_eq!(prompt_line(&tmux), "a red fox");
    tmux.keys(&["Down"]);
    tmux.wait_text("5 chars", STEP);
    assert_eq!(prompt_line(&tmux), "draft");

    // Ctrl-R: typing finds it, Esc gives the draft back, Enter keeps a match.
    tmux.keys(&["C-r"]);
    tmux.wait_text("search earlier prompts", STEP);
    tmux.type_text("fox");
    tmux.wait_text("9 chars", STEP);
    tmux.keys(&["Escape"]);
    tmux.wait_text("5 chars", STEP);
    tmux.keys(&["C-r"]);
    tmux.type_text("red");
    tmux.wait_text("9 chars", STEP);
    tmux.keys(&["Enter"]);
    tmux.wait_text("Ctrl-S: 1 image", STEP);
    assert_eq!(prompt_line(&tmux), "a red fox");

    // The terminal loses the focus; the next task's end rings and notifies (OSC 9, inside
    // tmux's passthrough).
    tmux.type_text("\u{1b}[O");
    tmux.keys(&["C-s"]);
    tmux.wait_for("two tasks done", STEP, false, |s| {
        s.matches("SUCCESS").count() >= 2
    });
    let written = written_once(&bytes, "]9;fouro: done in", Duration::from_secs(10));
    let start = written
        .find("\u{7}\u{1b}Ptmux;\u{1b}\u{1b}]9;fouro: done in ")
        .unwrap_or_else(|| panic!("no notification in {written:?}"));
    let sequence = &written[start..];
    let end = sequence.find("\u{1b}\\").expect("the passthrough ends");
    let body = &sequence["\u{7}\u{1b}Ptmux;\u{1b}\u{1b}]9;".len()..end];
    assert!(body.ends_with(": a red fox\u{7}"), "{body:?}");
    let notes: Vec<&str> = written.split("]9;").skip(1).collect();
    assert_eq!(
        notes.len(),
        1,
        "only the task that ended unfocused: {notes:?}"
    );
    tmux.keys(&["C-c"]);
}

/// What the pane's program wrote to `file`, once it holds `text` or `within` has passed
/// (the assertions after it say what was missing).
fn written_once(file: &Path, text: &str, within: Duration) -> String {
    let read = || String::from_utf8_lossy(&std::fs::read(file).unwrap_or_default()).into_owned();
    let deadline = std::time::Instant::now() + within;
    until_blocking(text, within + Duration::from_secs(1), || {
        let written = read();
        (written.contains(text) || std::time::Instant::now() > deadline).then_some(written)
    })
}
