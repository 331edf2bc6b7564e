//! The real binary in a real terminal: `fouro demo` in tmux (private socket, fixed size,
//! its own data directory), driven with send-keys and read with capture-pane. Every wait
//! polls the screen until a condition holds or a deadline passes; none sleeps blindly.
//!
//! tmux must be installed: without it this test fails (it does not skip).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const PROMPT: &str = "fouro-e2e$ ";

/// A tmux server of our own; killed when dropped, whatever happened.
struct Tmux {
    socket: String,
    /// The socket file, removed at the end (kill-server leaves it behind).
    socket_path: Option<PathBuf>,
}

impl Tmux {
    fn start(dir: &Path) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        if !found.as_ref().is_ok_and(|o| o.status.success()) {
            panic!(
                "tmux is not on PATH ({:?}): this end-to-end test drives the real binary in tmux; install it (e.g. `apt-get install tmux`)",
                found.err()
            );
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let mut tmux = Tmux {
            socket: format!("fouro-e2e-{}-{nanos}", std::process::id()),
            socket_path: None,
        };
        // A plain POSIX shell with a known prompt and no rc files.
        let shell = format!("env PS1='{PROMPT}' ENV=/dev/null sh");
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &WIDTH.to_string(),
            "-y",
            &HEIGHT.to_string(),
            "-c",
            dir.to_str().expect("a UTF-8 path"),
            &shell,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.socket_path =
            Some(PathBuf::from(tmux.query("#{socket_path}"))).filter(|p| p.is_absolute());
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

    /// Named keys (`Tab`, `C-s`, `Enter`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    /// Text, typed as is.
    fn type_text(&self, text: &str) {
        assert!(
            self.run(&["send-keys", "-t", "main", "-l", text])
                .status
                .success(),
            "send-keys -l {text:?}"
        );
    }

    /// The screen; with `escapes`, with its colours and attributes.
    fn screen(&self, escapes: bool) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", "main"];
        if escapes {
            args.push("-e");
        }
        String::from_utf8_lossy(&self.run(&args).stdout).into_owned()
    }

    fn query(&self, format: &str) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["display-message", "-p", "-t", "main", format])
                .stdout,
        )
        .trim()
        .to_owned()
    }

    /// Polls the screen until `ok` holds; fails with the last screen after `within`.
    fn wait_for(
        &self,
        what: &str,
        within: Duration,
        escapes: bool,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen(escapes);
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!(
                    "waited {within:?} for {what}; the screen was:\n{}",
                    self.screen(false)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_text(&self, text: &str, within: Duration) -> String {
        self.wait_for(&format!("{text:?}"), within, false, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// One cell of a captured screen: where it is, what it shows, and whether it has 24-bit
/// foreground and background colours.
#[derive(Debug, Clone, Copy)]
struct Cell {
    x: usize,
    y: usize,
    ch: char,
    true_fg: bool,
    true_bg: bool,
}

/// Reads `capture-pane -p -e` output into cells, following the SGR colour state.
fn cells(screen: &str) -> Vec<Cell> {
    let mut out = Vec::new();
    for (y, line) in screen.lines().enumerate() {
        let (mut fg, mut bg) = (false, false);
        let mut x = 0;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                if chars.peek() != Some(&'[') {
                    continue;
                }
                chars.next();
                let mut params = String::new();
                let mut last = ' ';
                for p in chars.by_ref() {
                    if p.is_ascii_alphabetic() {
                        last = p;
                        break;
                    }
                    params.push(p);
                }
                if last != 'm' {
                    continue;
                }
                let codes: Vec<&str> = params.split(';').collect();
                let mut i = 0;
                while i < codes.len() {
                    match codes[i] {
                        "" | "0" => (fg, bg) = (false, false),
                        "39" => fg = false,
                        "49" => bg = false,
                        "38" | "48" => {
                            let is_true = codes.get(i + 1) == Some(&"2");
                            if codes[i] == "38" {
                                fg = is_true;
                            } else {
                                bg = is_true;
                            }
                            i += if is_true { 4 } else { 2 };
                        }
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            out.push(Cell {
                x,
                y,
                ch: c,
                true_fg: fg,
                true_bg: bg,
            });
            x += fouro::tui::ui::char_width(c).max(1);
        }
    }
    out
}

/// The inside of the pane whose top border carries `title`: (left, top, right, bottom),
/// exclusive of the border.
fn pane_inner(cells: &[Cell], title: &str) -> (usize, usize, usize, usize) {
    let at = |x: usize, y: usize| cells.iter().find(|c| c.x == x && c.y == y).map(|c| c.ch);
    let rows: Vec<String> = {
        let height = cells.iter().map(|c| c.y).max().unwrap_or(0) + 1;
        (0..height)
            .map(|y| cells.iter().filter(|c| c.y == y).map(|c| c.ch).collect())
            .collect()
    };
    let (y, row) = rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.contains(title))
        .unwrap_or_else(|| panic!("no pane titled {title:?}"));
    let title_x = row[..row.find(title).unwrap_or(0)].chars().count();
    let left = (0..title_x)
        .rev()
        .find(|x| matches!(at(*x, y), Some('┌' | '┏')))
        .expect("the pane's top-left corner");
    let right = (title_x..)
        .take(1000)
        .find(|x| matches!(at(*x, y), Some('┐' | '┓')))
        .expect("the pane's top-right corner");
    let bottom = (y + 1..rows.len())
        .find(|yy| matches!(at(left, *yy), Some('└' | '┗')))
        .expect("the pane's bottom-left corner");
    (left + 1, y + 1, right - 1, bottom - 1)
}

/// The columns and rows the image's cells span; each must lie inside `inner` (a pane's inside:
/// left, top, right, bottom).
fn image_rect<C: std::borrow::Borrow<Cell>>(
    cells: &[C],
    inner: (usize, usize, usize, usize),
) -> (usize, usize) {
    let (left, top, right, bottom) = inner;
    let cells: Vec<&Cell> = cells.iter().map(|c| c.borrow()).collect();
    for c in &cells {
        assert!(
            (left..=right).contains(&c.x) && (top..=bottom).contains(&c.y),
            "an image cell at ({}, {}) is outside the preview's inside {left}..={right} x {top}..={bottom}",
            c.x,
            c.y
        );
    }
    let span = |v: &dyn Fn(&Cell) -> usize| {
        cells.iter().map(|c| v(c)).max().unwrap_or(0)
            - cells.iter().map(|c| v(c)).min().unwrap_or(0)
            + 1
    };
    (span(&|c| c.x), span(&|c| c.y))
}

#[test]
fn demo_generates_and_previews_an_image_in_tmux() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(
        repo.join("assets/ref-sunset.png").is_file(),
        "the reference image is in assets/"
    );
    let data = tempfile::tempdir().expect("a temp dir");
    let tmux = Tmux::start(&repo);
    tmux.wait_text(PROMPT.trim_end(), Duration::from_secs(10));

    let command = format!(
        "FOURO_DATA_DIR='{}' COLORTERM=truecolor '{}' demo --duration 2; echo \"fouro-exit=$?\"",
        data.path().display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("100 credits", Duration::from_secs(30));
    assert_eq!(
        tmux.query("#{alternate_on}"),
        "1",
        "the app runs on the alternate screen"
    );

    // The prompt.
    tmux.type_text("a lighthouse at dusk");
    tmux.wait_text("20 chars", Duration::from_secs(10));

    // A reference from assets/, through the file browser (it starts in the current folder).
    tmux.keys(&["Tab", "a"]);
    tmux.wait_text("Add a reference", Duration::from_secs(10));
    tmux.type_text("assets");
    tmux.wait_text("assets/", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    tmux.wait_text("ref-sunset.png", Duration::from_secs(10));
    tmux.type_text("sunset");
    tmux.keys(&["Enter"]);
    tmux.wait_text("256×256", Duration::from_secs(10));

    // 3:2.
    tmux.keys(&["Tab", "Right"]);
    tmux.wait_text("Aspect   3:2", Duration::from_secs(10));

    // Submit; the task runs two seconds in the emulator.
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_text("SUCCESS 3:2", Duration::from_secs(60));
    assert!(
        screen.contains("a lighthouse at dusk"),
        "the task shows its prompt:\n{screen}"
    );

    // The preview holds the drawn image: half blocks in 24-bit colour, every one of them
    // inside the preview pane's border, filling a 3:2 box.
    let drawn = |s: &str| {
        cells(s)
            .into_iter()
            .filter(|c| c.true_fg && c.true_bg && matches!(c.ch, '▄' | '▀'))
            .collect::<Vec<_>>()
    };
    // Printed: at least 200 cells, and as many in two captures running (a capture taken while
    // the terminal is still taking the image in would see only part of it).
    let last = std::cell::Cell::new(0);
    let screen = tmux.wait_for(
        "the preview's half blocks in 24-bit colour",
        Duration::from_secs(30),
        true,
        |s| {
            let n = drawn(s).len();
            n >= 200 && last.replace(n) == n
        },
    );
    let (left, top, right, bottom) = pane_inner(&cells(&screen), "Preview 1/1");
    let blocks = drawn(&screen);
    let (cols, rows) = image_rect(&blocks, (left, top, right, bottom));
    assert_eq!(blocks.len(), cols * rows, "a full rectangle of image cells");
    // 3:2 pixels in cells twice as tall as wide: columns = 3 × rows (give or take rounding).
    assert!(
        (cols as f64 / rows as f64 - 3.0).abs() < 0.3,
        "a 3:2 image: {cols}x{rows} cells"
    );
    let screen = tmux.wait_text("94 credits", Duration::from_secs(30));
    assert!(
        screen.contains("Preview 1/1 · 1536×1024"),
        "the preview names the image:\n{screen}"
    );

    // What reached the disk: the history (the demo keeps its own), the image.
    let demo = data.path().join("demo");
    let history = fouro::store::History::open_in(&demo).expect("the demo's history");
    let entries = history
        .page(&fouro::store::Query::default(), 0, 10)
        .expect("readable");
    assert_eq!(entries.len(), 1, "one task in the history");
    let entry = &entries[0];
    assert_eq!(entry.status, fouro::store::Status::Success);
    assert!(screen.contains("SUCCESS"), "{screen}");
    let image = entry.images[0]
        .path
        .clone()
        .expect("the image was recorded");
    assert_eq!(
        image,
        fouro::store::files::image_path(&demo, &entry.task_id, entry.created_at, 0)
    );
    assert_eq!(
        image::image_dimensions(&image).expect("the saved image"),
        (1536, 1024)
    );
    let log = std::fs::read_to_string(demo.join("logs/fouro.log")).expect("the log file");
    assert!(!log.contains("demo-key"), "the key is never logged");

    // Quit: nothing generates, so no question; the terminal comes back.
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_text("fouro-exit=0", Duration::from_secs(20));
    assert!(
        !screen.contains("Credits"),
        "the app's screen is gone:\n{screen}"
    );
    assert_eq!(
        tmux.query("#{alternate_on}"),
        "0",
        "the alternate screen was left"
    );
    // After the exit marker, the last thing on screen is a fresh prompt, alone on its line.
    let after: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("fouro-exit=0"))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        after,
        [PROMPT.trim_end()],
        "a fresh shell prompt follows the exit:\n{screen}"
    );
    // And the shell reads and echoes what is typed (cooked mode is back): a unique marker,
    // typed and run, shows up as the command and as its output.
    let marker = format!("shell-is-back-{}", std::process::id());
    tmux.type_text(&format!("echo {marker}"));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the marker's output", Duration::from_secs(10), false, |s| {
        s.lines().any(|l| l.trim_end() == marker)
    });
    assert!(
        screen
            .lines()
            .any(|l| l.trim_end() == format!("{PROMPT}echo {marker}")),
        "the command was echoed at a prompt:\n{screen}"
    );
    let command = tmux.query("#{pane_current_command}");
    assert!(
        command == "sh" || command == "dash" || command == "bash",
        "the shell runs again, not {command:?}"
    );
}

/// Nothing is lost when the app dies mid-generation: SIGKILL while a task generates, start it
/// again, and the task finishes on screen, its image saved and recorded.
#[test]
fn a_task_survives_killing_the_app_in_tmux() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let key = "k-e2e-kill-7f3a";
    let emulator = runtime
        .block_on(fouro::emulator::Emulator::start(
            fouro::emulator::EmulatorConfig {
                keys: vec![key.to_owned()],
                duration: Duration::from_secs(4),
                ..fouro::emulator::EmulatorConfig::default()
            },
        ))
        .expect("the emulator starts");
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().expect("a temp dir");
    let pid_file = data.path().join("fouro.pid");
    let tmux = Tmux::start(&repo);
    tmux.wait_text(PROMPT.trim_end(), Duration::from_secs(10));
    // `exec` keeps the shell's pid, so the file names fouro's own process.
    let command = format!(
        "sh -c 'echo $$ > {pid}; exec env FOURO_DATA_DIR={data} FOURO_API_KEY={key} FOURO_BASE_URL={url} FOURO_IMAGE_PROTOCOL=blocks {bin}'; echo \"fouro-exit=$?\"",
        pid = pid_file.display(),
        data = data.path().display(),
        url = emulator.base_url(),
        bin = env!("CARGO_BIN_EXE_fouro"),
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("Credits", Duration::from_secs(30));
    tmux.type_text("a lantern that survives");
    tmux.keys(&["C-s"]);
    tmux.wait_text("GENERATING", Duration::from_secs(30));

    // The id is in the history before the screen shows it; kill the app while it generates.
    let history = fouro::store::History::open_in(data.path()).expect("the history");
    let entries = history
        .page(&fouro::store::Query::default(), 0, 10)
        .expect("readable");
    assert_eq!(entries.len(), 1, "the task is in the history");
    let task_id = entries[0].task_id.clone();
    assert_eq!(entries[0].status, fouro::store::Status::Generating);
    let pid = std::fs::read_to_string(&pid_file).expect("the pid file");
    let killed = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .expect("kill runs");
    assert!(killed.success(), "fouro was killed");
    tmux.wait_text("fouro-exit=137", Duration::from_secs(10));

    // The dead app could not restore the terminal: make the shell usable, start again.
    tmux.type_text("stty sane");
    tmux.keys(&["C-j"]);
    tmux.type_text(&command);
    tmux.keys(&["C-j"]);
    let screen = tmux.wait_for(
        "the resumed task to succeed",
        Duration::from_secs(60),
        false,
        |s| s.contains("SUCCESS") && s.contains("a lantern that survives"),
    );
    assert!(
        !screen.contains("GENERATING"),
        "the task is no longer shown generating:\n{screen}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let entry = loop {
        let entry = history.get(&task_id).expect("readable").expect("kept");
        if entry.images.first().is_some_and(|i| i.path.is_some()) {
            break entry;
        }
        assert!(
            Instant::now() < deadline,
            "the image was never recorded: {entry:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(entry.status, fouro::store::Status::Success);
    let image = entry.images[0].path.clone().expect("recorded");
    assert_eq!(
        image::image_dimensions(&image).expect("the saved image"),
        (1024, 1024)
    );

    tmux.keys(&["C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));
    runtime.block_on(emulator.shutdown());
}

/// The history in a real terminal: two generations, then F3, a search, a remix back into the
/// editor, and a submit of the remixed prompt.
#[test]
fn history_search_remix_and_submit_in_tmux() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().expect("a temp dir");
    let tmux = Tmux::start(&repo);
    tmux.wait_text(PROMPT.trim_end(), Duration::from_secs(10));
    let command = format!(
        "FOURO_DATA_DIR='{}' FOURO_IMAGE_PROTOCOL=blocks '{}' demo --duration 1; echo \"fouro-exit=$?\"",
        data.path().display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("100 credits", Duration::from_secs(30));
    let successes = |s: &str| s.matches("SUCCESS").count();

    // Two generations, one of them 3:2.
    tmux.type_text("a red fox in the snow");
    tmux.keys(&["C-s"]);
    tmux.wait_for("the first task", Duration::from_secs(30), false, |s| {
        successes(s) == 1
    });
    // The prompt keeps what was sent: clear it (line start, delete to the end).
    tmux.keys(&["C-a", "C-k"]);
    tmux.type_text("a blue whale");
    tmux.keys(&["Tab", "Tab", "Right", "C-s"]);
    tmux.wait_for("the second task", Duration::from_secs(30), false, |s| {
        successes(s) == 2
    });

    // The history: both, newest first; a search narrows it to the fox.
    tmux.keys(&["F3"]);
    let screen = tmux.wait_text("History · 2", Duration::from_secs(10));
    let whale = screen.find("a blue whale").expect("the whale is listed");
    let fox = screen
        .find("a red fox in the snow")
        .expect("the fox is listed");
    assert!(whale < fox, "newest first:\n{screen}");
    tmux.keys(&["/"]);
    tmux.type_text("fox");
    let screen = tmux.wait_text("History · 1 match", Duration::from_secs(10));
    assert!(
        !screen.contains("a blue whale"),
        "the search hides it:\n{screen}"
    );
    tmux.keys(&["Enter"]);

    // Remix: the fox's prompt and aspect come back into the editor, on the main screen.
    tmux.keys(&["r"]);
    let screen = tmux.wait_text("Aspect   1:1", Duration::from_secs(10));
    assert!(
        !screen.contains("History ·"),
        "back on the main screen:\n{screen}"
    );
    tmux.type_text(", at night");
    tmux.keys(&["C-s"]);
    tmux.wait_for("the remixed task", Duration::from_secs(30), false, |s| {
        successes(s) == 3 && s.contains("a red fox in the snow, at night")
    });

    // The history holds all three, the remix newest.
    let history =
        fouro::store::History::open_in(&data.path().join("demo")).expect("the demo's history");
    let entries = history
        .page(&fouro::store::Query::default(), 0, 10)
        .expect("readable");
    let prompts: Vec<_> = entries
        .iter()
        .map(|e| e.params.prompt.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        prompts,
        [
            "a red fox in the snow, at night",
            "a blue whale",
            "a red fox in the snow"
        ]
    );
    assert_eq!(entries[1].params.size.as_str(), "3:2");
    assert_eq!(
        entries[0].params.size.as_str(),
        "1:1",
        "the remix kept the fox's aspect"
    );

    tmux.keys(&["C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));
}

/// A new user in a real terminal: no key, the welcome screen, a key pasted (shown only as
/// bullets), checked and saved privately; later, a second profile switched to from the account
/// screen.
#[test]
fn from_no_key_to_a_saved_key_and_a_second_profile_in_tmux() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let key = "sk-e2e-welcome-0123456789abcd";
    let other_key = "sk-e2e-other-9876543210wxyz";
    let start = |keys: Vec<String>, credits: i64| {
        runtime
            .block_on(fouro::emulator::Emulator::start(
                fouro::emulator::EmulatorConfig {
                    keys,
                    credits,
                    duration: Duration::from_secs(1),
                    ..fouro::emulator::EmulatorConfig::default()
                },
            ))
            .expect("the emulator starts")
    };
    let first = start(vec![key.to_owned()], 100);
    let second = start(vec![other_key.to_owned()], 55);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("a temp dir");
    let config_dir = dir.path().join("config");
    let data_dir = dir.path().join("data");
    let tmux = Tmux::start(&repo);
    tmux.wait_text(PROMPT.trim_end(), Duration::from_secs(10));
    let command = format!(
        "env -u FOURO_API_KEY FOURO_CONFIG_DIR={} FOURO_DATA_DIR={} FOURO_IMAGE_PROTOCOL=blocks {} --base-url {}; echo \"fouro-exit=$?\"",
        config_dir.display(),
        data_dir.display(),
        env!("CARGO_BIN_EXE_fouro"),
        first.base_url(),
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("Welcome to fouro", Duration::from_secs(30));

    // The key, typed: bullets only, never the key.
    tmux.type_text(key);
    let screen = tmux.wait_text("••••", Duration::from_secs(10));
    assert!(!screen.contains(key), "the key is never shown:\n{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text("100 credits", Duration::from_secs(30));
    assert!(!screen.contains(key), "{screen}");
    let file = config_dir.join("config.toml");
    let text = std::fs::read_to_string(&file).expect("the key was saved");
    assert!(
        text.contains(key) && text.contains(&first.base_url()),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("saved")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the config file is private");
    }
    tmux.keys(&["C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));

    // A second profile, through the subcommands: its key from a pipe, checked.
    let bin = env!("CARGO_BIN_EXE_fouro");
    let added = Command::new(bin)
        .env("FOURO_CONFIG_DIR", &config_dir)
        .env("FOURO_DATA_DIR", &data_dir)
        .env_remove("FOURO_API_KEY")
        .args(["profile", "add", "other", "--base-url", &second.base_url()])
        .output()
        .expect("profile add runs");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let mut set = Command::new(bin)
        .env("FOURO_CONFIG_DIR", &config_dir)
        .env("FOURO_DATA_DIR", &data_dir)
        .env_remove("FOURO_API_KEY")
        .args(["key", "set", "--profile", "other"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("key set runs");
    {
        use std::io::Write;
        let mut stdin = set.stdin.take().expect("stdin");
        writeln!(stdin, "{other_key}").expect("the key is written");
    }
    let set = set.wait_with_output().expect("key set ends");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );

    // The app starts with the saved default; the account screen switches to the other.
    let command = format!(
        "env -u FOURO_API_KEY FOURO_CONFIG_DIR={} FOURO_DATA_DIR={} FOURO_IMAGE_PROTOCOL=blocks {}; echo \"fouro-exit=$?\"",
        config_dir.display(),
        data_dir.display(),
        bin,
    );
    tmux.type_text(&command);
    tmux.keys(&["Enter"]);
    tmux.wait_text("100 credits", Duration::from_secs(30));
    tmux.keys(&["F4"]);
    let screen = tmux.wait_text("other", Duration::from_secs(10));
    assert!(
        !screen.contains(key) && !screen.contains(other_key),
        "{screen}"
    );
    // Select the other profile (the one in use is selected first) and use it.
    tmux.keys(&["Down", "Enter"]);
    tmux.wait_text("55 credits", Duration::from_secs(30));
    let text = std::fs::read_to_string(&file).expect("the config");
    assert!(
        text.contains("default_profile = \"other\""),
        "the switch is remembered:\n{text}"
    );
    tmux.keys(&["Escape", "C-c"]);
    tmux.wait_text("fouro-exit=0", Duration::from_secs(20));
    // Neither key reached the log file or the history database.
    let log = std::fs::read(data_dir.join("logs/fouro.log")).expect("the log file");
    let db = std::fs::read(data_dir.join("history.db")).expect("the history");
    for bytes in [&log, &db] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(key) && !text.contains(other_key));
    }
    runtime.block_on(first.shutdown());
    runtime.block_on(second.shutdown());
}

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
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.query("#{session_attached}") != "1" {
        assert!(Instant::now() < deadline, "the client never attached");
        std::thread::sleep(Duration::from_millis(50));
    }

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
