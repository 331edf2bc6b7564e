//! The real binary in a real terminal: `fouro demo` in tmux (private socket, fixed size,
//! its own data directory), driven with send-keys and read with capture-pane. Every wait
//! polls the screen until a condition holds or a deadline passes; none sleeps blindly.
//!
//! tmux must be installed: without it this test fails (it does not skip).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::common::tmux::{HEIGHT, PROMPT, Tmux, WIDTH};
use crate::common::{emulator_with, until_blocking};

mod flows;
mod keys;
mod kitty;
mod queue;

/// A folder only its owner may enter (0700), made if need be.
fn private_dir(dir: &Path) {
    std::fs::create_dir_all(dir).expect("a dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("a private dir");
}

/// `text` as `config.toml` in the private folder `config`, only its owner may read it (0600).
fn private_config(config: &Path, text: &str) {
    private_dir(config);
    let file = config.join("config.toml");
    std::fs::write(&file, text).expect("the config file");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
        .expect("a private file");
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
    let emulator = runtime.block_on(emulator_with(|c| {
        c.keys = vec![key.to_owned()];
        c.duration = Duration::from_secs(4);
    }));
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
    let entry = until_blocking("the image recorded", Duration::from_secs(30), || {
        let entry = history.get(&task_id).expect("readable").expect("kept");
        entry
            .images
            .first()
            .is_some_and(|i| i.path.is_some())
            .then_some(entry)
    });
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
