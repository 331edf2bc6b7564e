//! Keys and mouse: what each does depends on the overlay, then the focused pane (paste is in
//! `entries.rs`, with adding references).
//! Which command a key is comes from the keymap, which the help and the status line read too:
//! the anywhere commands (`config/keys.rs`), each pane's and dialog's (`config/keys_panes.rs`,
//! looked up in `pane_keys.rs`); only text fields read keys of their own (readline's).
//!
//! Every handler returns whether anything on screen changed: a key that does nothing costs
//! no frame.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::browser::{Browser, Row};
use super::line::LineInput;
use super::refs::{References, Slot};
use super::tasks::ImageSlot;
use super::{App, Focus, Level, Options, Overlay, Screen};
use crate::api::ApiKey;
use crate::config::keys::{Chord, Command};
use crate::config::keys_panes::{Act, Context};
use crate::tui::action::Effect;
use crate::tui::ui::{layout, overlays};

/// The anywhere command a key is, if any, and the chord that matched.
pub(super) type Anywhere = Option<(Command, Chord)>;

/// What the pane keys can change, to tell whether one did.
#[derive(PartialEq)]
struct PaneState {
    focus: Focus,
    refs: References,
    options: Options,
    task: (usize, usize),
    queue: Option<usize>,
    fullscreen: bool,
    overlay: bool,
    message: Option<String>,
    effects: usize,
    quit: bool,
}

impl App {
    fn pane_state(&self) -> PaneState {
        PaneState {
            focus: self.focus,
            refs: self.refs.clone(),
            options: self.options.clone(),
            task: (self.tasks.selected, self.tasks.variant),
            queue: self.queue.cursor,
            fullscreen: self.fullscreen,
            overlay: self.overlay.is_some(),
            message: self.message.as_ref().map(|m| m.text.clone()),
            effects: self.effects.len(),
            quit: self.quit,
        }
    }

    pub(super) fn on_key(&mut self, key: KeyEvent) -> bool {
        if key.kind == KeyEventKind::Release {
            return false;
        }
        let command = self.config.keys.command(&key);
        match command {
            Some((Command::Submit, _)) => return self.submit_from_anywhere(),
            // The quit keys that type nothing work in every dialog too.
            Some((Command::Quit, chord)) if !chord.is_plain() => {
                if self.overlay == Some(Overlay::ConfirmQuit) {
                    self.quit = true;
                } else {
                    self.request_quit();
                }
                return true;
            }
            _ => {}
        }
        if let Some(overlay) = self.overlay.take() {
            return self.overlay_key(overlay, key, command);
        }
        if self.fullscreen {
            return self.fullscreen_key(key, command);
        }
        // The key that opened the history or the account closes it (a plain one is theirs:
        // their own tables have H and A).
        match (command, self.screen) {
            (Some((Command::History, chord)), Screen::History) if !chord.is_plain() => {
                self.close_history();
                return true;
            }
            (Some((Command::Account, chord)), Screen::Account) if !chord.is_plain() => {
                self.close_account();
                return true;
            }
            _ => {}
        }
        match self.screen {
            Screen::History => return self.history_key(key, command),
            Screen::Welcome => return self.welcome_key(key),
            Screen::Account => return self.account_key(key, command),
            Screen::Main => {}
        }
        if let Some((command, chord)) = command {
            // A plain character types in the prompt; `?` opens the help from an empty one.
            let typing = chord.is_plain() && self.focus == Focus::Prompt;
            match command {
                Command::Help if !typing || self.prompt.is_empty() => self.open_help(),
                _ if typing => return self.prompt_key(key),
                Command::NextPane => self.set_focus(self.focus.step(1)),
                Command::PrevPane => self.set_focus(self.focus.step(-1)),
                Command::History => self.open_history(),
                Command::Account => self.open_account(),
                Command::Refresh => self.refresh_credits(),
                Command::Redraw => self.screen_epoch += 1,
                Command::Quit => self.request_quit(),
                Command::Stage => self.open_stage(),
                Command::StartQueue => self.toggle_queue(),
                Command::Submit | Command::Help => {}
            }
            return true;
        }
        match key.code {
            KeyCode::Esc if self.message.is_some() => self.message = None,
            _ if self.focus == Focus::Prompt => return self.prompt_key(key),
            _ if self.focus == Focus::Tasks && (self.queue_key(key) || self.enter_queue(key)) => {}
            _ => {
                let before = self.pane_state();
                match self.focus {
                    Focus::Prompt => {}
                    Focus::References => self.references_key(key),
                    Focus::Options => self.options_key(key),
                    Focus::Tasks => self.tasks_key(key),
                    Focus::Preview => self.preview_key(key),
                }
                return self.pane_state() != before;
            }
        }
        true
    }

    /// Ctrl-S: submits from any pane, the help, full screen, the history and the account
    /// screen (closing them first). In the dialogs that take typing (file browser, URL, key,
    /// profile form), the questions and the history's search line it does nothing; their
    /// status line says so. Nothing is submitted from the welcome screen (no key yet).
    fn submit_from_anywhere(&mut self) -> bool {
        if self.screen == Screen::Welcome {
            return false;
        }
        match self.overlay.take() {
            None if self.screen == Screen::History && self.history.search.is_some() => {
                return false;
            }
            None => {}
            Some(
                Overlay::Help { .. } | Overlay::Details { .. } | Overlay::ConfirmDelete { .. },
            ) => {}
            Some(Overlay::ConfirmQuit) => {
                self.overlay = self.stashed.take();
                if self.overlay.is_some() {
                    return true;
                }
            }
            Some(typing) => {
                self.overlay = Some(typing);
                return false;
            }
        }
        self.fullscreen = false;
        match self.screen {
            Screen::History => self.close_history(),
            Screen::Account => self.close_account(),
            Screen::Main | Screen::Welcome => {}
        }
        self.submit();
        true
    }

    /// Opens the help scrolled to the keys of where the keys go now.
    pub(super) fn open_help(&mut self) {
        let here = crate::tui::keys::Place::of(self);
        let scroll = overlays::help_scroll_to(&self.config, self.area, here);
        self.overlay = Some(Overlay::Help { scroll });
    }

    fn overlay_key(&mut self, overlay: Overlay, key: KeyEvent, command: Anywhere) -> bool {
        let (next, changed) = match overlay {
            Overlay::Help { scroll } => {
                let max = overlays::help_max_scroll(&self.config, self.area);
                let to = match self.act_in(Context::Help, &key, command) {
                    Some(Act::Back) => return true,
                    Some(Act::Down) => scroll.saturating_add(1),
                    Some(Act::Up) => scroll.saturating_sub(1),
                    Some(Act::PageDown) => scroll.saturating_add(10),
                    Some(Act::PageUp) => scroll.saturating_sub(10),
                    Some(Act::First) => 0,
                    Some(Act::Last) => max,
                    _ => scroll,
                }
                .min(max);
                (Some(Overlay::Help { scroll: to }), to != scroll)
            }
            Overlay::Browser(browser) => self.browser_key(browser, key),
            Overlay::Url {
                slot,
                mut input,
                base,
            } => match key.code {
                KeyCode::Esc => (None, true),
                KeyCode::Enter => {
                    let text = input.text().to_owned();
                    self.add_entries(slot, &text, &base);
                    (None, true)
                }
                _ => {
                    let changed = input.handle(&key);
                    (Some(Overlay::Url { slot, input, base }), changed)
                }
            },
            Overlay::KeyPrompt { mut input, reason } => match key.code {
                KeyCode::Esc => {
                    self.show(
                        Level::Warning,
                        "no new key given: requests will keep failing with 401 until one is (F5 retries)",
                    );
                    (None, true)
                }
                KeyCode::Enter => match ApiKey::new(input.text()) {
                    Some(key) => {
                        self.use_key(key);
                        (None, true)
                    }
                    None => (
                        Some(Overlay::KeyPrompt {
                            input,
                            reason: "type a key first, or Esc to go on without one".into(),
                        }),
                        true,
                    ),
                },
                _ => {
                    let changed = input.handle(&key);
                    (Some(Overlay::KeyPrompt { input, reason }), changed)
                }
            },
            Overlay::ConfirmQuit => match self.act_in(Context::QuitQuestion, &key, command) {
                Some(Act::Yes) => {
                    self.quit = true;
                    (None, true)
                }
                // Anything else stays, back in the dialog the question interrupted.
                _ => (self.stashed.take(), true),
            },
            Overlay::Details { entry, scroll } => {
                let act = self.act_in(Context::Details, &key, command);
                self.details_key(entry, scroll, act)
            }
            Overlay::ConfirmDelete {
                task_id,
                prompt,
                files,
            } => {
                let act = self.act_in(Context::DeleteQuestion, &key, command);
                self.delete_key(task_id, prompt, files, act)
            }
            Overlay::ProfileForm(form) => self.form_key(form, key),
            Overlay::ConfirmRemove { name } => {
                let yes = self.act_in(Context::RemoveQuestion, &key, command) == Some(Act::Yes);
                self.remove_key(name, yes)
            }
            Overlay::ConfirmSubmit { draft, .. } => {
                let yes = self.act_in(Context::LowBalanceQuestion, &key, command) == Some(Act::Yes);
                self.submit_question_key(*draft, yes)
            }
            Overlay::ConfirmRerun { draft } => {
                let yes = self.act_in(Context::RerunQuestion, &key, command) == Some(Act::Yes);
                self.rerun_key(*draft, yes)
            }
            Overlay::Stage(form) => {
                let act = self.act_in(Context::Stage, &key, command);
                self.stage_key(form, act)
            }
            Overlay::ConfirmQueue { shortfall } => {
                let yes = self.act_in(Context::QueueQuestion, &key, command) == Some(Act::Yes);
                self.queue_question_key(shortfall, yes)
            }
        };
        self.overlay = next;
        changed
    }

    fn browser_key(&mut self, mut browser: Browser, key: KeyEvent) -> (Option<Overlay>, bool) {
        let before = (browser.selected, browser.filter.clone(), browser.req);
        match key.code {
            KeyCode::Esc => return (None, true),
            KeyCode::Tab => {
                // A path typed here is taken relative to the folder being browsed.
                return (
                    Some(Overlay::Url {
                        slot: browser.slot,
                        input: LineInput::new(),
                        base: browser.dir.clone(),
                    }),
                    true,
                );
            }
            KeyCode::Up => browser.step(-1),
            KeyCode::Down => browser.step(1),
            KeyCode::PageUp => browser.step(-10),
            KeyCode::PageDown => browser.step(10),
            KeyCode::Backspace if browser.filter.is_empty() => self.browse_to_parent(&mut browser),
            KeyCode::Enter => {
                let chosen = match browser.selected_row() {
                    None => return (Some(Overlay::Browser(browser)), false),
                    Some(Row::Parent) => None,
                    Some(Row::Entry(e)) => Some((browser.dir.join(&e.name), e.is_dir)),
                };
                match chosen {
                    None => self.browse_to_parent(&mut browser),
                    Some((dir, true)) => self.browse(&mut browser, dir),
                    Some((file, false)) => {
                        self.add_path(browser.slot, file);
                        return (None, true);
                    }
                }
            }
            _ => {
                browser.filter.handle(&key);
                browser.clamp();
            }
        }
        let changed = before != (browser.selected, browser.filter.clone(), browser.req);
        (Some(Overlay::Browser(browser)), changed)
    }

    fn browse(&mut self, browser: &mut Browser, dir: PathBuf) {
        let req = self.id();
        browser.enter(dir.clone(), req);
        self.emit(Effect::ListDir { req, dir });
    }

    fn browse_to_parent(&mut self, browser: &mut Browser) {
        if let Some(parent) = browser.dir.parent().map(Path::to_path_buf) {
            self.browse(browser, parent);
        }
    }

    pub(super) fn open_browser(&mut self, slot: Slot) {
        if let Err(why) = self.refs.can_add(slot) {
            self.refs.refusal = Some(why);
            return;
        }
        let req = self.id();
        let dir = self.last_dir.clone();
        self.overlay = Some(Overlay::Browser(Browser::new(slot, dir.clone(), req)));
        self.emit(Effect::ListDir { req, dir });
    }

    fn use_key(&mut self, key: ApiKey) {
        self.emit(Effect::SetKey(key));
        // Every task still generating is polled again with the new key: the pollers still
        // running on the old one are replaced (their answers carry an older generation and
        // are dropped), so a 401 they were about to report asks for nothing.
        let generating: Vec<String> = self
            .tasks
            .list
            .iter()
            .filter(|t| t.is_generating())
            .map(|t| t.id.clone())
            .collect();
        for id in generating {
            self.repoll(&id);
        }
        self.refresh_credits();
        self.show(Level::Info, "using the new key for the rest of this run");
    }

    fn repoll(&mut self, task_id: &str) {
        let generation = self.id();
        if let Some(task) = self.tasks.get_mut(task_id) {
            task.poll_gen = generation;
            task.polling = true;
            task.stopped_at = None;
            task.note = None;
            self.emit(Effect::Poll {
                task_id: task_id.to_owned(),
                generation,
            });
        }
    }

    /// `p`: check a task again (after a poller gave up), or fetch the images that failed.
    pub(super) fn retry_selected(&mut self) {
        let Some(task) = self.tasks.selected() else {
            return;
        };
        let id = task.id.clone();
        let created_at = task.created_at;
        if task.is_generating() {
            self.repoll(&id);
            return;
        }
        let items: Vec<(usize, String)> = task
            .images
            .iter()
            .zip(&task.urls)
            .enumerate()
            .filter(|(_, (slot, _))| matches!(slot, ImageSlot::Failed(_)))
            .map(|(i, (_, url))| (i, url.clone()))
            .collect();
        if items.is_empty() {
            return;
        }
        if let Some(task) = self.tasks.get_mut(&id) {
            for (i, _) in &items {
                if let Some(slot) = task.images.get_mut(*i) {
                    *slot = ImageSlot::Pending;
                }
            }
        }
        self.emit(Effect::Download {
            task_id: id,
            created_at,
            items,
        });
    }

    pub(super) fn on_mouse(&mut self, mouse: MouseEvent) -> bool {
        if self.overlay.is_some() || self.fullscreen {
            return false;
        }
        let at = Position::new(mouse.column, mouse.row);
        let panes = layout::panes(self);
        let hit = |r: Rect| r.contains(at);
        let focus = [
            (panes.prompt, Focus::Prompt),
            (panes.refs, Focus::References),
            (panes.options, Focus::Options),
            (panes.tasks, Focus::Tasks),
            (panes.preview, Focus::Preview),
        ]
        .into_iter()
        .find(|(r, _)| hit(*r))
        .map(|(_, f)| f);
        let before = self.pane_state();
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let Some(focus) = focus else { return false };
                self.set_focus(focus);
                if focus == Focus::Tasks
                    && let Some(i) = layout::task_at(self, panes.tasks, at)
                {
                    self.queue.cursor = None;
                    self.tasks.select(i);
                }
                if focus == Focus::References
                    && let Some(i) = layout::reference_at(self, panes.refs, at)
                {
                    self.refs.selected = i;
                }
                match layout::option_at(panes.options, panes.compact, at) {
                    Some(Ok(size)) if focus == Focus::Options => {
                        self.options.size = size;
                        self.options.row = 0;
                    }
                    Some(Err(row)) if focus == Focus::Options => self.options.row = row,
                    _ => {}
                }
            }
            MouseEventKind::ScrollDown if focus == Some(Focus::Tasks) => self.tasks.step(1),
            MouseEventKind::ScrollUp if focus == Some(Focus::Tasks) => self.tasks.step(-1),
            _ => {}
        }
        self.pane_state() != before
    }
}
