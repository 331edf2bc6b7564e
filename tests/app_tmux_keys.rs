//! The prompt's keys as a person types them, in the real binary: `fouro demo` in tmux
//! (private socket, its own data and config directories), keys sent the way tmux encodes
//! them (Ctrl-_ arrives as 0x1F, Alt-_ as Esc `_`), the screen read with capture-pane and
//! what the app writes to the terminal with pipe-pane (the notification's bytes). Every
//! wait polls until a condition holds or a deadline passes.
//!
//! tmux must be installed: without it this test fails (it does not skip).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A tmux server of our own, running `command` in its one pane; killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(dir: &Path, command: &str) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "tmux is not on PATH ({:?}): install it (e.g. `apt-get install tmux`)",
            found.err()
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmux = Tmux {
            socket: format!("fouro-keys-{}-{nanos}", std::process::id()),
        };
        let dir = dir.to_str().expect("a UTF-8 path");
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "100",
            "-y",
            "30",
            "-c",
            dir,
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Focus reports reach the app (tmux sends them only when asked to).
        tmux.run(&["set", "-g", "focus-events", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Named keys (`C-s`, `M-k`, `Up`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "main", "-l", text]);
        assert!(out.status.success(), "send-keys -l {text:?}");
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    fn wait_for(&self, what: &str, within: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {within:?} for {what}; the screen was:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), Duration::from_secs(30), |s| {
            s.contains(text)
        })
    }

    /// The prompt's first line of text.
    fn prompt_line(&self) -> String {
        self.screen()
            .lines()
            .nth(1)
            .and_then(|l| l.split('┃').nth(1))
            .unwrap_or("")
            .trim()
            .to_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn prompt_keys_recall_and_a_notification_in_tmux() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    std::fs::create_dir_all(&config).expect("the config dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o700))
            .expect("a private dir");
    }
    let file = config.join("config.toml");
    std::fs::write(&file, "notify = \"osc9\"\n").expect("the config file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            .expect("a private file");
    }
    let bytes = dir.path().join("pane.bytes");
    let command = format!(
        "env FOURO_DATA_DIR='{}' FOURO_CONFIG_DIR='{}' TERM=xterm-256color '{}' demo --duration 1",
        data.display(),
        config.display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmux = Tmux::start(&repo, &command);
    tmux.wait_text("100 credits");
    // No client is attached, so tmux reports the pane unfocused: say it has the focus, as
    // a terminal does when the window is in front.
    tmux.type_text("\u{1b}[I");
    let pipe = format!("cat >> '{}'", bytes.display());
    assert!(
        tmux.run(&["pipe-pane", "-t", "main", "-o", &pipe])
            .status
            .success()
    );

    // The estimate is under the prompt before anything is sent.
    tmux.type_text("a red fox");
    tmux.wait_text("9 chars");
    tmux.wait_text("Ctrl-S: 1 image, cost not known yet");
    tmux.keys(&["C-s"]);
    tmux.wait_text("SUCCESS");

    // Alt-K clears, Ctrl-_ (0x1F on the wire) brings it back, Alt-_ clears again.
    tmux.keys(&["M-k"]);
    tmux.wait_text(" 0 chars");
    tmux.keys(&["C-_"]);
    tmux.wait_text("9 chars");
    tmux.keys(&["M-_"]);
    tmux.wait_text(" 0 chars");
    tmux.keys(&["C-z"]);
    tmux.wait_text("9 chars");

    // Ctrl-U to the start of the line, Ctrl-Y pastes it back; Ctrl-W a word.
    tmux.keys(&["C-u"]);
    tmux.wait_text(" 0 chars");
    tmux.keys(&["C-y"]);
    tmux.wait_text("9 chars");
    tmux.keys(&["C-w"]);
    tmux.wait_text("6 chars");
    assert_eq!(tmux.prompt_line(), "a red");

    // A new draft; Up recalls the prompt sent, Down gives the draft back.
    tmux.keys(&["M-k"]);
    tmux.type_text("draft");
    tmux.wait_text("5 chars");
    tmux.keys(&["Up"]);
    tmux.wait_text("earlier 1/1");
    assert_eq!(tmux.prompt_line(), "a red fox");
    tmux.keys(&["Down"]);
    tmux.wait_text("5 chars");
    assert_eq!(tmux.prompt_line(), "draft");

    // Ctrl-R: typing finds it, Esc gives the draft back, Enter keeps a match.
    tmux.keys(&["C-r"]);
    tmux.wait_text("search earlier prompts");
    tmux.type_text("fox");
    tmux.wait_text("9 chars");
    tmux.keys(&["Escape"]);
    tmux.wait_text("5 chars");
    tmux.keys(&["C-r"]);
    tmux.type_text("red");
    tmux.wait_text("9 chars");
    tmux.keys(&["Enter"]);
    tmux.wait_text("Ctrl-S: 1 image");
    assert_eq!(tmux.prompt_line(), "a red fox");

    // The terminal loses the focus; the next task's end rings and notifies (OSC 9, inside
    // tmux's passthrough).
    tmux.type_text("\u{1b}[O");
    tmux.keys(&["C-s"]);
    tmux.wait_for("two tasks done", Duration::from_secs(30), |s| {
        s.matches("SUCCESS").count() >= 2
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let written = loop {
        let written = std::fs::read(&bytes).unwrap_or_default();
        let text = String::from_utf8_lossy(&written).into_owned();
        if text.contains("]9;fouro: done in") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
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
