//! Helpers for the app's tests (unit, snapshot and integration): a deterministic app, key
//! presses, service records, and the screen as text. No clock, no cwd, no real files.

use crate::config::{Keymap, Theme};
use std::path::PathBuf;
use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;

use crate::api::{TaskRecord, TaskStatus};
use crate::tui::action::{AccountInfo, Action};
use crate::tui::app::{App, AppConfig};
use crate::tui::ui;

/// The folder the file browser starts in, in tests.
pub const START_DIR: &str = "/home/ana/pictures";

/// The demo's base URL, in tests.
pub const BASE_URL: &str = "http://127.0.0.1:8787";

/// The account the test app runs with: profile "main", its key masked.
pub fn account() -> AccountInfo {
    AccountInfo {
        profile: Some("main".into()),
        base_url: BASE_URL.into(),
        masked_key: Some("sk-…1234".into()),
        key_source: "profile \"main\"".into(),
        low_balance: None,
        callback_url: None,
    }
}

fn config(w: u16, h: u16, now: Instant) -> AppConfig {
    AppConfig {
        start_dir: PathBuf::from(START_DIR),
        endpoint: "demo · built-in emulator".into(),
        journal: "/home/ana/.local/share/fouro/tasks.jsonl".into(),
        protocol: "half blocks".into(),
        utc_offset_secs: 0,
        account: account(),
        welcome: false,
        notify: Default::default(),
        queue_parallel: 4,
        keys: Keymap::default(),
        no_colour: false,
        theme: Theme::default(),
        area: Rect::new(0, 0, w, h),
        now,
    }
}

/// An app of `w` x `h` cells whose clock stands at `now`, in a made-up home.
pub fn app(w: u16, h: u16, now: Instant) -> App {
    App::new(config(w, h, now))
}

/// [`app`], with the keys `config.toml`'s `[keys]` gave.
pub fn app_with_keys(w: u16, h: u16, now: Instant, keys: Keymap) -> App {
    App::new(AppConfig {
        keys,
        ..config(w, h, now)
    })
}

/// [`app`], in the colours `config.toml`'s `[theme]` gave.
pub fn app_with_theme(w: u16, h: u16, now: Instant, theme: Theme) -> App {
    App::new(AppConfig {
        theme,
        ..config(w, h, now)
    })
}

/// [`app`], drawn as under `NO_COLOR`.
pub fn app_without_colour(w: u16, h: u16, now: Instant) -> App {
    App::new(AppConfig {
        no_colour: true,
        ..config(w, h, now)
    })
}

/// An app that started without a key: on the welcome screen.
pub fn welcome_app(w: u16, h: u16, now: Instant) -> App {
    welcome_app_at(w, h, now, "https://4oimageapiio.erweima.ai")
}

/// The same, pointed at `base_url` (`--base-url`).
pub fn welcome_app_at(w: u16, h: u16, now: Instant, base_url: &str) -> App {
    App::new(AppConfig {
        account: AccountInfo {
            profile: None,
            base_url: base_url.into(),
            masked_key: None,
            key_source: "none".into(),
            low_balance: None,
            callback_url: None,
        },
        welcome: true,
        ..config(w, h, now)
    })
}

pub fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn shift(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::SHIFT))
}

pub fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

/// One key press per character.
pub fn typed(text: &str) -> Vec<Action> {
    text.chars().map(|c| key(KeyCode::Char(c))).collect()
}

/// Replaces the prompt's text.
pub fn set_prompt(app: &mut App, text: &str) {
    app.prompt.select_all();
    app.prompt.cut();
    app.prompt.insert_str(text);
}

/// A record-info answer as the service would send it.
pub fn record(
    task_id: &str,
    status: TaskStatus,
    progress: f64,
    urls: usize,
    error: Option<&str>,
) -> TaskRecord {
    TaskRecord {
        task_id: task_id.into(),
        status,
        progress,
        result_urls: (0..urls)
            .map(|i| format!("http://127.0.0.1:9/results/{task_id}-{i}.png"))
            .collect(),
        error_code: error.map(|_| 400),
        error_message: error.map(str::to_owned),
        create_time: None,
        complete_time: None,
        param_json: None,
    }
}

/// The frame the app draws, with styles and the cells left to the inline image.
pub fn buffer(app: &App) -> Buffer {
    let area = app.area;
    let mut terminal = match Terminal::new(TestBackend::new(area.width, area.height)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let Ok(frame) = terminal.draw(|frame| ui::render(app, frame));
    frame.buffer.clone()
}

/// The screen as text, one quoted line per row; cells left to the inline image show `▒`.
pub fn screen(app: &App) -> String {
    let buf = buffer(app);
    let mut text = String::new();
    for y in 0..buf.area.height {
        text.push('"');
        let mut skip = 0usize;
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if cell.diff_option == CellDiffOption::Skip {
                text.push('▒');
                continue;
            }
            let sym = cell.symbol();
            text.push_str(sym);
            skip = unicode_width(sym).saturating_sub(1);
        }
        text.push_str("\"\n");
    }
    text
}

/// Where `text` starts on the screen, if it is there.
pub fn find(buf: &Buffer, text: &str) -> Option<(u16, u16)> {
    for y in 0..buf.area.height {
        let row: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let line = row.concat();
        if let Some(byte) = line.find(text) {
            let x = line[..byte].chars().count();
            return Some((u16::try_from(x).unwrap_or(u16::MAX), y));
        }
    }
    None
}

/// Columns a symbol takes, as ratatui counts them (at least one: a cell is never empty).
fn unicode_width(s: &str) -> usize {
    crate::tui::ui::width(s).max(1)
}
