//! The event loop: terminal in, Actions through `App::update`, Effects out to the worker,
//! a frame only when something changed (at most one per 16 ms), a timer only while
//! something on screen counts time. The terminal is restored on every way out.
//!
//! The clock: `App::update` never reads it; the loop sets `App::set_now` right before each
//! update and frame. This is the one sanctioned exception to "state changes only in update":
//! the time is an input of every Action, and threading it through each would add nothing.

use std::io::{self, Write, stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossterm::clipboard::CopyToClipboard;
use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, DisableMouseCapture, EnableBracketedPaste,
    EnableFocusChange, EnableMouseCapture, KeyCode, KeyModifiers,
};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use crossterm::{execute, queue};
use ratatui::DefaultTerminal;
use ratatui::layout::Rect;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::api::ClientConfig;
use crate::api::poll::PollOptions;
use crate::tui::action::{Action, Effect};
use crate::tui::app::{App, AppConfig};
use crate::tui::notify::{Form, NotifySettings};
use crate::tui::preview::{self, Graphics, Preview, Removal};
use crate::tui::worker::Worker;
use crate::tui::{event, ui};

/// At most one frame per this long.
const FRAME: Duration = Duration::from_millis(16);

/// Set while the app owns the terminal (raw mode, alternate screen).
static ACTIVE: AtomicBool = AtomicBool::new(false);

pub struct RunConfig {
    pub client: ClientConfig,
    pub endpoint: String,
    pub data_dir: std::path::PathBuf,
    pub history: crate::store::History,
    pub account: crate::tui::worker::AccountSetup,
    /// No key yet: the app opens on the welcome screen.
    pub welcome: bool,
    pub poll: PollOptions,
    /// Draw without colour: every mark is then a shape or reverse video.
    pub no_colour: bool,
}

/// How the app ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Quit,
    /// The person asked for the demo instead (from the welcome screen).
    Demo,
}

/// Runs the app until the person quits. Errors are terminal errors (the app's own never end it).
pub async fn run(config: RunConfig) -> io::Result<Ending> {
    // Set first: an initialisation that fails half-way (raw mode on, no alternate screen)
    // is undone too.
    ACTIVE.store(true, Ordering::SeqCst);
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            restore();
            return Err(e);
        }
    };
    install_panic_hook();
    let result = async {
        // Queries the terminal (bounded): in raw mode, before mouse and focus reports start
        // and before anything else reads stdin.
        let graphics = preview::probe().await;
        let (cw, ch) = graphics.cell.px();
        tracing::info!(
            protocol = graphics.protocol.label(),
            cell = format!("{cw}x{ch}"),
            cell_size = graphics.cell.describe(),
            "terminal ready"
        );
        execute!(
            stdout(),
            EnableBracketedPaste,
            EnableMouseCapture,
            EnableFocusChange
        )?;
        event_loop(&mut terminal, config, graphics).await
    }
    .await;
    restore();
    result
}

/// Leaves the terminal as it was: ends a synchronized update a failed frame may have left
/// open, deletes kitty images, stops the reports, leaves raw mode and the alternate screen.
fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        leave_modes();
        ratatui::restore();
    }
}

/// What fouro turned on beyond ratatui's raw mode and alternate screen, turned off.
fn leave_modes() {
    let mut out = stdout();
    let _ = execute!(out, EndSynchronizedUpdate);
    preview::kitty_cleanup(&mut out);
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        DisableFocusChange
    );
}

/// Wraps the hook `ratatui::init` installed (it restores the terminal, then reports): a panic
/// on the UI thread restores and reports; one in a background task is logged (the app goes
/// on, and the task's error reaches the screen as a message).
fn install_panic_hook() {
    let ui_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if ACTIVE.load(Ordering::SeqCst) && std::thread::current().id() != ui_thread {
            tracing::error!("a background task panicked: {info}");
            return;
        }
        if ACTIVE.swap(false, Ordering::SeqCst) {
            leave_modes();
        }
        previous(info);
    }));
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    config: RunConfig,
    graphics: Graphics,
) -> io::Result<Ending> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut worker = Worker::new(
        tx.clone(),
        config.client,
        config.data_dir.clone(),
        config.history.clone(),
        graphics.encoding(),
        config.poll,
    )
    .map_err(io::Error::other)?;
    let account = config.account.info.clone();
    worker.set_account(config.account);
    let Settings {
        notify,
        queue_parallel,
        keys,
        theme,
    } = app_settings().await;
    ui::write_colour_resets();
    let form = Form::choose(notify.mode, |name| std::env::var(name).ok());
    let in_tmux = std::env::var_os("TMUX").is_some();
    let mut ending = Ending::Quit;
    let reader = tokio::spawn(event::read(tx.clone()));
    let watcher_tx = tx.clone();
    tokio::spawn(async move {
        // If the reader dies, nothing could quit the app: quit.
        let _ = reader.await;
        let _ = watcher_tx.send(Action::Quit);
    });
    spawn_signal_watch(tx.clone());

    let size = terminal.size()?;
    let mut app = App::new(AppConfig {
        start_dir: std::env::current_dir().unwrap_or_else(|_| config.data_dir.clone()),
        endpoint: config.endpoint,
        journal: config.history.path().display().to_string(),
        protocol: graphics.describe(),
        utc_offset_secs: chrono::Local::now().offset().local_minus_utc(),
        account,
        welcome: config.welcome,
        notify,
        queue_parallel,
        keys,
        no_colour: config.no_colour,
        theme,
        area: Rect::new(0, 0, size.width, size.height),
        now: Instant::now().into_std(),
    });
    if let Some(note) = graphics.note.clone() {
        let _ = tx.send(Action::Notice(note));
    }
    let mut preview = Preview::new(&graphics);
    let mut epoch = u64::MAX;
    let mut last_frame: Option<Instant> = None;
    // Something the person did waits for its frame: drawn at once, not paced.
    let mut answering = false;
    let never = || Instant::now() + Duration::from_secs(24 * 3600);

    loop {
        let effects = app.take_effects();
        let polls = effects
            .iter()
            .filter(|e| matches!(e, Effect::Poll { .. }))
            .count();
        worker.polls_coming(polls);
        for effect in effects {
            match effect {
                Effect::Copy(text) => {
                    let _ = execute!(stdout(), CopyToClipboard::to_clipboard_from(text));
                }
                Effect::Notify(note) => {
                    if let Some(form) = form {
                        let mut out = stdout();
                        let _ = out
                            .write_all(form.bytes(&note, in_tmux).as_bytes())
                            .and_then(|()| out.flush());
                    }
                }
                Effect::StartDemo => {
                    ending = Ending::Demo;
                    app.update(Action::Quit);
                }
                other => worker.handle(other),
            }
        }
        if app.should_quit() {
            break;
        }
        // The limiter paces what the background changes (status answers, timers); a key,
        // a paste or a click is drawn in the next frame at once.
        let frame_at = app.is_dirty().then(|| match last_frame {
            Some(t) if !answering => t + FRAME,
            _ => Instant::now(),
        });
        if frame_at.is_some_and(|t| t <= Instant::now()) {
            let now = Instant::now();
            let size = terminal.size()?;
            if Rect::new(0, 0, size.width, size.height) != app.area {
                app.update(Action::Resize(size.width, size.height));
            }
            app.set_now(now.into_std());
            draw(terminal, &mut app, &mut preview, &mut epoch)?;
            last_frame = Some(now);
            answering = false;
            continue;
        }
        let wake = app.next_wakeup().map(Instant::from_std);
        tokio::select! {
            action = rx.recv() => {
                let Some(action) = action else { break };
                app.set_now(std::time::Instant::now());
                answering |= from_person(&action);
                app.update(action);
                // Take in what else is queued: a burst costs one frame.
                for _ in 0..1024 {
                    match rx.try_recv() {
                        Ok(action) => {
                            answering |= from_person(&action);
                            app.update(action);
                        }
                        Err(_) => break,
                    }
                }
            }
            _ = tokio::time::sleep_until(frame_at.unwrap_or_else(never)), if frame_at.is_some() => {}
            _ = tokio::time::sleep_until(wake.unwrap_or_else(never)), if wake.is_some() => {
                app.set_now(std::time::Instant::now());
                app.update(Action::Tick);
            }
        }
    }
    finish_submissions(
        terminal,
        &mut app,
        &mut preview,
        &mut epoch,
        &mut worker,
        &mut rx,
    )
    .await?;
    // The queue as the person left it is on disk before the app goes.
    worker.flush_queue(Duration::from_secs(2)).await;
    let mut out = stdout();
    preview.invalidate(&mut out)?;
    Ok(ending)
}

/// Whether the person did this (a key, a paste, a click): its frame is not held back by the
/// limiter.
/// What answers a person at once, not paced by the frame limiter: their input, and the image
/// a key asked for (decoded, or found kept, a moment after the key's own frame).
fn from_person(action: &Action) -> bool {
    matches!(
        action,
        Action::Key(_)
            | Action::Paste(_)
            | Action::Mouse(_)
            | Action::Resize(..)
            | Action::ImageDecoded { .. }
    )
}

/// What the app takes from `config.toml` beyond the profile: read once, off the async threads.
struct Settings {
    notify: NotifySettings,
    queue_parallel: usize,
    keys: crate::config::keys::Keymap,
    theme: crate::config::Theme,
}

/// `notify`, `notify_after_secs`, `queue_parallel`, `[keys]` and `[theme]` from `config.toml`; the
/// defaults when it cannot be read (the reason is logged: the app's start has already refused
/// a file that is wrong, and says it elsewhere).
async fn app_settings() -> Settings {
    let dir = crate::config::config_dir();
    let loaded = tokio::task::spawn_blocking(move || crate::config::Config::load(&dir)).await;
    match loaded {
        Ok(Ok(loaded)) => Settings {
            notify: NotifySettings::from_config(&loaded.config),
            queue_parallel: loaded.config.queue_parallel() as usize,
            keys: loaded.config.keys,
            theme: loaded.config.theme,
        },
        Ok(Err(e)) => {
            tracing::info!("settings not read: {e}");
            Settings::default()
        }
        Err(e) => {
            tracing::info!("settings not read: {e}");
            Settings::default()
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            notify: NotifySettings::default(),
            queue_parallel: crate::config::QUEUE_PARALLEL as usize,
            keys: crate::config::keys::Keymap::default(),
            theme: crate::config::Theme::default(),
        }
    }
}

/// Before leaving: a submission may have reached `generate`, and its task id must reach the
/// journal (a paid task would be lost otherwise). Says so on screen and waits, at most one
/// request's time; a second Ctrl-C leaves at once.
async fn finish_submissions(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    preview: &mut Preview,
    epoch: &mut u64,
    worker: &mut Worker,
    rx: &mut mpsc::UnboundedReceiver<Action>,
) -> io::Result<()> {
    let submissions = worker.submissions_in_flight();
    if submissions == 0 {
        return Ok(());
    }
    let limit = worker.submission_grace();
    app.set_now(std::time::Instant::now());
    app.update(Action::Leaving { submissions, limit });
    draw(terminal, app, preview, epoch)?;
    tracing::info!(
        submissions,
        ?limit,
        "waiting for submissions before quitting"
    );
    let deadline = Instant::now() + limit;
    let finished = worker.finish_submissions();
    tokio::pin!(finished);
    loop {
        tokio::select! {
            _ = &mut finished => return Ok(()),
            _ = tokio::time::sleep_until(deadline) => {
                tracing::warn!("a submission did not finish in {limit:?}: quitting anyway");
                return Ok(());
            }
            action = rx.recv() => match action {
                None => return Ok(()),
                Some(Action::Key(k))
                    if k.code == KeyCode::Char('c')
                        && k.modifiers.contains(KeyModifiers::CONTROL) =>
                {
                    tracing::warn!("left without waiting for a submission");
                    return Ok(());
                }
                Some(_) => {}
            },
        }
    }
}

/// One frame, inside a synchronized update: a full repaint when the screen epoch moved
/// (resize, focus regained, Ctrl-L), then the buffer diff, then the image if it changed.
fn draw(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    preview: &mut Preview,
    epoch: &mut u64,
) -> io::Result<()> {
    let mut out = stdout();
    queue!(out, BeginSynchronizedUpdate)?;
    if app.screen_epoch() != *epoch {
        *epoch = app.screen_epoch();
        preview.invalidate(&mut out)?;
        // Not `terminal.clear()`: it asks the terminal where the cursor is, and the answer
        // would race with the event reader. `resize` clears and forgets the last frame too.
        let size = terminal.size()?;
        terminal.resize(Rect::new(0, 0, size.width, size.height))?;
    }
    let target = app.preview_target().map(|t| (t.serial, t.rect));
    if preview.before_frame(target, &mut out)? == Removal::Erase {
        // The terminal drops the image only when the screen is erased: erase it, and
        // ratatui repaints every cell.
        let size = terminal.size()?;
        terminal.resize(Rect::new(0, 0, size.width, size.height))?;
    }
    terminal.draw(|frame| ui::render(app, frame))?;
    if let Err(e) = preview.after_frame(app.preview_target(), &mut out) {
        tracing::warn!("printing the preview failed: {e}");
    }
    queue!(out, EndSynchronizedUpdate)?;
    out.flush()?;
    app.mark_drawn();
    Ok(())
}

/// SIGTERM, SIGHUP, SIGINT and SIGQUIT end the app the same way `q` does, minus the
/// question (in raw mode the keys send no signal; these come from `kill` or a closed
/// terminal). The terminal is restored on the way out.
fn spawn_signal_watch(tx: crate::tui::worker::Sender) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup), Ok(mut int), Ok(mut quit)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::quit()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = hup.recv() => {}
            _ = int.recv() => {}
            _ = quit.recv() => {}
        }
        let _ = tx.send(Action::Quit);
    });
    #[cfg(not(unix))]
    let _ = tx;
}
