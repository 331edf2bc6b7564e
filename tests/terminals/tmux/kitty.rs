//! Kitty placeholders through tmux passthrough, with a real tmux client attached.

use super::*;

/// Kitty graphics through tmux: with `allow-passthrough` on and kitty forced, the image goes
/// through tmux to the terminal outside (an attached client recorded by `script`), and the
/// preview pane is filled with kitty's placeholder cells, text tmux keeps; the help covers them
/// and they come back after it.
#[test]
fn kitty_placeholders_through_tmux_passthrough() {
    const PLACEHOLDER: char = '\u{10EEEE}';
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().expect("a temp dir");
    let tmux = Tmux::start(&repo);
    tmux.wait_text(PROMPT.trim_end(), Duration::from_secs(10));
    assert!(
        tmux.run(&["set", "-g", "allow-passthrough", "on"])
            .status
            .success()
    );
    assert!(
        tmux.run(&["set", "-g", "window-size", "manual"])
            .status
            .success()
    );
    // A client, so that passthrough has somewhere to go: its terminal's bytes are recorded.
    let outer = data.path().join("outer.bin");
    let mut client = Command::new("script")
        .args(["-q", "-f", "-c"])
        .arg(format!(
            "stty cols {WIDTH} rows {HEIGHT}; tmux -L {} attach -t main",
            tmux.socket
        ))
        .arg(&outer)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("script (util-linux) runs");
    until_blocking("the client attached", Duration::from_secs(10), || {
        (tmux.query("#{session_attached}") == "1").then_some(())
    });

    let command = format!(
        "FOURO_DATA_DIR='{}' FOURO_IMAGE_PROTOCOL=kitty '{}' demo --duration 1; echo \"fouro-exit=$?\"",
        data.path().display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    // The client's terminal answers nothing, so fouro says it cannot vouch for it.
    tmux.wait_text("may not draw", Duration::from_secs(30));
    tmux.keys(&["Escape"]);
    tmux.type_text("a fox in tmux");
    tmux.keys(&["C-s"]);
    let count = |s: &str| s.matches(PLACEHOLDER).count();
    let screen = tmux.wait_for("placeholder cells", Duration::from_secs(60), false, |s| {
        count(s) >= 100
    });
    // Each placeholder carries two zero-width marks (its row and column): drop them here,
    // where every character is taken to be one cell wide at least.
    let mut bare = String::new();
    let mut after_placeholder = false;
    for c in screen.chars() {
        if after_placeholder && fouro::tui::ui::char_width(c) == 0 && c != '\n' {
            continue;
        }
        after_placeholder = c == PLACEHOLDER;
        bare.push(c);
    }
    let cells = cells(&bare);
    let (left, top, right, bottom) = pane_inner(&cells, "Preview 1/1");
    let held: Vec<&Cell> = cells.iter().filter(|c| c.ch == PLACEHOLDER).collect();
    let (cols, rows) = image_rect(&held, (left, top, right, bottom));
    assert_eq!(held.len(), cols * rows, "a full rectangle of placeholders");

    // The help covers the image: no placeholder is left; closing it brings them back.
    // (tmux may show a frame half drawn: wait for the whole help; placeholders that stay
    // under it time out and fail here.)
    tmux.keys(&["F1"]);
    tmux.wait_for(
        "the help, with no image cell left",
        Duration::from_secs(10),
        false,
        |s| s.contains("Keys (") && count(s) == 0,
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for(
        "the placeholders again",
        Duration::from_secs(10),
        false,
        |s| count(s) == held.len(),
    );
    tmux.keys(&["C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));

    // tmux passed the image on to the terminal outside, unwrapped: a virtual placement, and
    // at the end every image deleted.
    let _ = client.kill();
    let _ = client.wait();
    let bytes = std::fs::read(&outer).expect("the client's recording");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("\x1b_Gf=100,a=T,U=1,t=d,i="),
        "the image reached the outer terminal ({} bytes recorded)",
        bytes.len()
    );
    assert!(
        text.contains("\x1b_Ga=d,d=A,q=2\x1b\\"),
        "and was deleted at the end"
    );
    assert!(
        !text.contains("\x1bPtmux;"),
        "tmux unwrapped the passthrough"
    );
}
