//! The app's state and `update`, the only place it changes.
//!
//! `update` takes one [`Action`] and records the work it needs as [`Effect`]s, which the runner
//! hands to the worker. Nothing here does I/O or reads the clock: `now` is set from outside
//! with [`App::set_now`] before each update and frame (the one input that does not come as
//! an Action), so tests (and snapshots) are deterministic.

pub mod account;
pub mod browser;
mod editor;
mod entries;
pub mod history;
mod history_actions;
mod input;
pub mod line;
pub mod low_balance;
mod options;
mod pane_keys;
mod preview;
pub mod profile_form;
pub mod queue;
pub mod recall;
pub mod refs;
pub mod results;
pub mod staging;
mod status;
mod submit;
pub mod tasks;
pub mod welcome;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui_textarea::{TextArea, WrapMode};

use crate::store::Entry;
use crate::tui::action::{AccountInfo, Action, Draft, Effect, Fitted};
use crate::tui::preview::Payload;

use account::{AccountView, UsageState};
use browser::Browser;
use history::HistoryView;
use line::LineInput;
use low_balance::Shortfall;
use profile_form::ProfileForm;
use queue::Queue;
use recall::Recall;
use refs::{References, Slot};
use staging::StageForm;
use tasks::Tasks;
use welcome::WelcomeView;

pub use options::{Focus, OptionRow, Options};
pub use status::{Credits, Level, Message};
pub use submit::Submission;

/// What fills the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// The editor, the tasks of this run and the preview.
    Main,
    /// Every past generation (`app.history`).
    History,
    /// No key yet: choose the service and paste a key, or try the demo (`app.welcome`).
    Welcome,
    /// The balance, usage, keys and profiles (`app.account`).
    Account,
}

/// A window over the panes. While one is open the inline image is hidden.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    Browser(Browser),
    /// A URL (or a path typed by hand, relative to `base`) for a reference or the mask.
    Url {
        slot: Slot,
        input: LineInput,
        base: PathBuf,
    },
    /// The service refused the key (401): ask for another, masked.
    KeyPrompt {
        input: LineInput,
        reason: String,
    },
    ConfirmQuit,
    /// Every field of a history entry, scrolled by `scroll` lines.
    Details {
        entry: Box<Entry>,
        scroll: u16,
    },
    /// Whether to delete a history entry, and its `files` image files with it.
    ConfirmDelete {
        task_id: String,
        prompt: String,
        files: usize,
    },
    /// Adding or editing a profile, or giving one a new key (the account screen).
    ProfileForm(Box<ProfileForm>),
    /// Whether to remove a profile from `config.toml`.
    ConfirmRemove {
        name: String,
    },
    /// Run a history entry again as it was (`R`), its estimate shown: y runs it.
    ConfirmRerun {
        draft: Box<Draft>,
    },
    /// The balance probably cannot cover this submission: send it anyway?
    ConfirmSubmit {
        draft: Box<Draft>,
        shortfall: Shortfall,
    },
    /// Staging the editor's draft in the queue, in several aspects and variant counts.
    Stage(Box<StageForm>),
    /// Start the queue, its estimate shown: y starts it (after a balance read, unless
    /// `shortfall` says that read was short already and the person starts it anyway).
    ConfirmQueue {
        shortfall: Option<Shortfall>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeRequest {
    pub req: u64,
    pub task_id: String,
    pub index: usize,
    /// The box the image is fitted into, in cells.
    pub cells: (u16, u16),
}

#[derive(Debug, Clone, Default)]
pub struct PreviewState {
    pub requested: Option<DecodeRequest>,
    /// The decoded image of request `.0`.
    pub image: Option<(u64, Fitted)>,
    /// Why request `.0` could not be decoded.
    pub error: Option<(u64, String)>,
}

/// The image to draw and where: what the renderer leaves alone and the preview module prints.
#[derive(Debug, Clone)]
pub struct PreviewTarget<'a> {
    /// Changes whenever the image does.
    pub serial: u64,
    pub payload: &'a Payload,
    pub rect: Rect,
    /// The room the image is centred in: blank but for the image.
    pub area: Rect,
}

/// What the app shows about where it runs; injected so that tests need no real environment.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where the file browser starts.
    pub start_dir: PathBuf,
    /// "demo (built-in emulator)" or the service's host.
    pub endpoint: String,
    /// Where task ids are kept, for the quit question.
    pub journal: String,
    /// How images are drawn, for the help.
    pub protocol: String,
    /// The local time zone's offset from UTC, in seconds east (the runner reads it once at
    /// start): the history shows local times without reading the clock or the zone.
    pub utc_offset_secs: i32,
    /// The account in use, as it may be shown (never the key itself); `AccountChanged`
    /// replaces it.
    pub account: AccountInfo,
    /// Start on the welcome screen: no key was found.
    pub welcome: bool,
    /// When to tell of a task that ended (`notify` in `config.toml`).
    pub notify: crate::tui::notify::NotifySettings,
    /// At most this many tasks generating at once while the queue runs (`queue_parallel`).
    pub queue_parallel: usize,
    /// Which keys run the commands that work from anywhere (`[keys]` in `config.toml`).
    pub keys: crate::config::Keymap,
    /// Draw without colour (`--color never`, `NO_COLOR`): every mark is then a shape or
    /// reverse video.
    pub no_colour: bool,
    /// The colours, when drawn with colour (`[theme]` in `config.toml`).
    pub theme: crate::config::Theme,
    pub area: Rect,
    pub now: Instant,
}

pub struct App {
    pub config: AppConfig,
    pub now: Instant,
    pub area: Rect,
    pub focus: Focus,
    pub prompt: TextArea<'static>,
    /// Earlier prompts recalled into the editor, and the reverse search.
    pub recall: Recall,
    pub refs: References,
    pub options: Options,
    pub tasks: Tasks,
    /// Drafts staged to be submitted later, shown above the tasks.
    pub queue: Queue,
    pub credits: Credits,
    pub overlay: Option<Overlay>,
    pub fullscreen: bool,
    pub message: Option<Message>,
    pub submission: Option<Submission>,
    pub preview: PreviewState,
    pub screen: Screen,
    /// Whether the terminal has the focus (as its focus reports say; true until one does).
    pub focused: bool,
    /// The history screen's state; its pages are only kept while it is shown.
    pub history: HistoryView,
    /// The account screen's state: `config.toml`'s profiles and what was asked of them.
    pub account: AccountView,
    /// The balance history and spending, for the account screen and the estimate before a
    /// submit.
    pub usage: UsageState,
    /// The welcome screen's state.
    pub welcome: WelcomeView,
    /// References a remix added from a local file, by check id: the URL the file was uploaded
    /// to then, used if the file cannot be used now.
    remix_urls: HashMap<u64, String>,
    /// Where the file browser opens next.
    pub last_dir: PathBuf,
    /// The dialog the quit question interrupted, back when the answer is "stay".
    stashed: Option<Overlay>,
    /// Why the key prompt must open, once the dialog open now is closed (it is not replaced:
    /// what was typed there would be lost).
    key_request: Option<String>,
    effects: Vec<Effect>,
    dirty: bool,
    quit: bool,
    next_id: u64,
    /// Bumped when the whole screen must be repainted (resize, focus regained, Ctrl-L).
    screen_epoch: u64,
    last_tick: Option<Instant>,
}

impl App {
    /// A fresh app; it asks for the balance at once.
    pub fn new(config: AppConfig) -> App {
        let mut prompt = TextArea::default();
        prompt.set_wrap_mode(WrapMode::WordOrGlyph);
        prompt.set_cursor_line_style(Style::default());
        let submit = config.keys.first(crate::config::keys::Command::Submit);
        prompt.set_placeholder_text(format!("Describe the image…  {submit} submits"));
        prompt.set_placeholder_style(Style::default().fg(config.theme.muted));
        let parallel = config.queue_parallel.max(1);
        let mut app = App {
            now: config.now,
            last_dir: config.start_dir.clone(),
            area: config.area,
            config,
            focus: Focus::Prompt,
            prompt,
            recall: Recall::default(),
            refs: References::default(),
            options: Options::default(),
            tasks: Tasks::default(),
            queue: Queue::with_parallel(parallel),
            credits: Credits::default(),
            overlay: None,
            fullscreen: false,
            message: None,
            submission: None,
            preview: PreviewState::default(),
            screen: Screen::Main,
            focused: true,
            history: HistoryView::default(),
            account: AccountView::default(),
            usage: UsageState::default(),
            welcome: WelcomeView::default(),
            remix_urls: HashMap::new(),
            stashed: None,
            key_request: None,
            effects: Vec::new(),
            dirty: true,
            quit: false,
            next_id: 0,
            screen_epoch: 0,
            last_tick: None,
        };
        app.set_focus(Focus::Prompt);
        if app.config.welcome {
            // No key: nothing can be read from the service yet. The profiles say where the
            // key will be saved.
            app.screen = Screen::Welcome;
            app.welcome = WelcomeView::for_base_url(&app.config.account.base_url);
            app.load_profiles();
        } else {
            app.refresh_credits();
            app.load_usage();
        }
        app
    }

    /// Sets the clock (the runner does, before each update and frame; tests set it freely).
    pub fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    /// The one place state changes.
    pub fn update(&mut self, action: Action) {
        let changed = match action {
            Action::Key(key) => self.on_key(key),
            Action::Paste(text) if self.screen == Screen::History => self.history_paste(&text),
            Action::Paste(text) if self.screen == Screen::Welcome => self.welcome_paste(&text),
            Action::Paste(text) if self.screen == Screen::Account => self.account_paste(&text),
            Action::Paste(text) if self.recall.search.is_some() && self.focus == Focus::Prompt => {
                self.recall_search_paste(&text)
            }
            Action::Paste(text) => self.on_paste(&text),
            Action::Mouse(mouse) if self.screen == Screen::History => self.history_mouse(mouse),
            Action::Mouse(_) if matches!(self.screen, Screen::Welcome | Screen::Account) => false,
            Action::Mouse(mouse) => self.on_mouse(mouse),
            Action::Resize(w, h) => {
                self.area = Rect::new(0, 0, w, h);
                self.screen_epoch += 1;
                match &mut self.overlay {
                    Some(Overlay::Help { scroll }) => {
                        let max =
                            crate::tui::ui::overlays::help_max_scroll(&self.config, self.area);
                        *scroll = (*scroll).min(max);
                    }
                    Some(Overlay::Details { entry, scroll }) => {
                        let offset = self.config.utc_offset_secs;
                        let max =
                            crate::tui::ui::details::details_max_scroll(entry, offset, self.area);
                        *scroll = (*scroll).min(max);
                    }
                    _ => {}
                }
                true
            }
            Action::FocusGained => {
                self.focused = true;
                self.screen_epoch += 1;
                true
            }
            Action::FocusLost => {
                self.focused = false;
                false
            }
            Action::Notice(text) => {
                self.show(Level::Warning, text);
                true
            }
            Action::Tick => {
                self.last_tick = Some(self.now);
                self.counts_time()
            }
            Action::Quit => {
                self.quit = true;
                true
            }
            Action::Leaving { submissions, limit } => {
                self.overlay = None;
                self.stashed = None;
                self.fullscreen = false;
                let what = if submissions == 1 {
                    "a submission".to_owned()
                } else {
                    format!("{submissions} submissions")
                };
                self.show(
                    Level::Info,
                    format!(
                        "Quitting: waiting up to {} s for the service to answer {what}, so that the task id is kept in {}. Ctrl-C leaves at once (the id would not be recorded).",
                        limit.as_secs(),
                        self.config.journal
                    ),
                );
                true
            }
            Action::HistoryLoaded { req, result } => self.on_history_loaded(req, result),
            Action::Profiles { req, result } => self.on_profiles(req, result),
            Action::KeyChecked { req, result } => self.on_key_checked(req, result),
            Action::AccountChanged(info) => self.on_account_changed(info),
            Action::UsageLoaded { req, result } => self.on_usage_loaded(req, result),
            Action::PromptsLoaded { req, result } => self.on_prompts_loaded(req, result),
            Action::SubmitHeld { job, shortfall, .. } if self.queue.check == Some(job) => {
                self.queue_held(job, shortfall)
            }
            Action::SubmitHeld {
                job,
                balance,
                per_image,
                shortfall,
            } => self.on_submit_held(job, balance, per_image, shortfall),
            Action::QueueLoaded(result) => self.on_queue_loaded(result),
            Action::QueueChecked { job } => self.on_queue_checked(job),
            // The key checked on the welcome screen works but could not be put in use.
            Action::KeyRejected(why) if self.screen == Screen::Welcome => {
                self.welcome_rejected(why)
            }
            Action::KeyRejected(why) => {
                self.account.switch_failed();
                self.on_result(Action::KeyRejected(why))
            }
            Action::EntryDeleted { task_id, result } => self.on_entry_deleted(&task_id, result),
            Action::HistoryError(why) | Action::OpenFailed(why) => {
                self.show(Level::Error, why);
                true
            }
            Action::ReferenceChecked { id, result } => {
                let result = self.remixed_check(id, result);
                self.on_result(Action::ReferenceChecked { id, result })
            }
            other => {
                if self.changes_history(&other) {
                    self.history.reload();
                }
                self.on_result(other)
            }
        };
        self.pump_queue();
        let reopened = self.reopen_key_prompt();
        if self.screen == Screen::History {
            self.fetch_history();
        }
        self.sync_preview();
        self.dirty |= changed || reopened;
    }

    /// Opens the key prompt a 401 asked for while another dialog was open, once it closed.
    fn reopen_key_prompt(&mut self) -> bool {
        if self.overlay.is_some() || self.quit {
            return false;
        }
        let Some(reason) = self.key_request.take() else {
            return false;
        };
        self.fullscreen = false;
        self.overlay = Some(Overlay::KeyPrompt {
            input: LineInput::new(),
            reason,
        });
        true
    }

    /// The work asked for since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn mark_drawn(&mut self) {
        self.dirty = false;
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn screen_epoch(&self) -> u64 {
        self.screen_epoch
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn emit(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    fn set_focus(&mut self, focus: Focus) {
        self.focus = focus;
        let cursor = if focus == Focus::Prompt {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        self.prompt.set_cursor_style(cursor);
    }

    pub fn show(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some(Message {
            level,
            text: text.into(),
        });
    }

    fn refresh_credits(&mut self) {
        let req = self.id();
        self.credits.req = req;
        self.credits.loading = true;
        self.emit(Effect::RefreshCredits { req });
    }

    pub fn prompt_text(&self) -> String {
        self.prompt.lines().join("\n")
    }

    pub fn char_count(&self) -> usize {
        self.prompt
            .lines()
            .iter()
            .map(|l| l.chars().count())
            .sum::<usize>()
            + self.prompt.lines().len()
            - 1
    }

    /// Quits, or asks first while tasks generate or a submission is on its way. The dialog
    /// the question interrupts (with what was typed in it) comes back if the answer is "stay".
    fn request_quit(&mut self) {
        if self.tasks.generating() > 0 || self.submission.is_some() || self.queue.in_flight() > 0 {
            match self.overlay.take() {
                Some(Overlay::Help { .. } | Overlay::ConfirmQuit) | None => {}
                Some(other) => self.stashed = Some(other),
            }
            self.overlay = Some(Overlay::ConfirmQuit);
        } else {
            self.quit = true;
        }
    }
}
