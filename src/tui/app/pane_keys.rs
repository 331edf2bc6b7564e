//! The keys of the main screen's panes and of full screen, and how a key finds its command
//! in a context: the pane's own table (`config/keys_panes.rs`), then the anywhere commands
//! that mean something there.

use crossterm::event::{KeyCode, KeyEvent};

use super::input::Anywhere;
use super::line::LineInput;
use super::refs::Slot;
use super::{App, Level, OptionRow, Overlay, Screen};
use crate::config::keys::Command;
use crate::config::keys_panes::{Act, Context};
use crate::tui::action::Effect;

impl App {
    /// What `key` does in `context`: its own table first, then the anywhere commands that
    /// mean the same there (the key that opened a screen closes it; the quit key, plain,
    /// goes back; in the quit question, every quit key quits).
    pub(super) fn act_in(
        &self,
        context: Context,
        key: &KeyEvent,
        command: Anywhere,
    ) -> Option<Act> {
        if let Some(act) = self.config.keys.act(context, key) {
            return Some(act);
        }
        let (command, chord) = command?;
        match (context, command) {
            (Context::QuitQuestion, Command::Quit) => Some(Act::Yes),
            (Context::Help, Command::Help)
            | (Context::History, Command::History)
            | (Context::Account, Command::Account) => Some(Act::Back),
            (
                Context::FullScreen
                | Context::History
                | Context::Details
                | Context::Account
                | Context::Help
                | Context::DeleteQuestion,
                Command::Quit,
            ) if chord.is_plain() => Some(Act::Back),
            _ => None,
        }
    }

    pub(super) fn fullscreen_key(&mut self, key: KeyEvent, command: Anywhere) -> bool {
        let history = self.screen == Screen::History;
        if key.code == KeyCode::Esc && self.message.is_some() {
            self.message = None;
            return true;
        }
        match (self.act_in(Context::FullScreen, &key, command), command) {
            (Some(Act::Back), _) => self.fullscreen = false,
            (Some(Act::PrevVariant), _) if history => return self.history_variant(-1),
            (Some(Act::NextVariant), _) if history => return self.history_variant(1),
            (Some(Act::PrevVariant), _) => return self.tasks.step_variant(-1),
            (Some(Act::NextVariant), _) => return self.tasks.step_variant(1),
            (_, Some((Command::History, _))) if history => self.close_history(),
            (_, Some((Command::History, _))) => self.open_history(),
            (_, Some((Command::Account, _))) => self.open_account(),
            (_, Some((Command::Redraw, _))) => self.screen_epoch += 1,
            _ => return false,
        }
        true
    }

    pub(super) fn references_key(&mut self, key: KeyEvent) {
        match self.config.keys.act(Context::References, &key) {
            Some(Act::AddFile) => self.open_browser(Slot::Reference),
            Some(Act::Mask) => self.open_browser(Slot::Mask),
            Some(Act::AddUrl) => {
                if let Err(why) = self.refs.can_add(Slot::Reference) {
                    self.refs.refusal = Some(why);
                } else {
                    self.overlay = Some(Overlay::Url {
                        slot: Slot::Reference,
                        input: LineInput::new(),
                        base: self.config.start_dir.clone(),
                    });
                }
            }
            Some(Act::Remove) => {
                self.refs.remove_selected();
            }
            Some(Act::MoveUp) => {
                self.refs.move_selected(-1);
            }
            Some(Act::MoveDown) => {
                self.refs.move_selected(1);
            }
            Some(Act::Up) => self.refs.select(-1),
            Some(Act::Down) => self.refs.select(1),
            _ => {}
        }
    }

    pub(super) fn options_key(&mut self, key: KeyEvent) {
        let rows = OptionRow::ALL.len();
        match self.config.keys.act(Context::Options, &key) {
            Some(Act::Up) => self.options.row = self.options.row.saturating_sub(1),
            Some(Act::Down) => self.options.row = (self.options.row + 1).min(rows - 1),
            Some(Act::PrevValue) => self.options.change(self.options.current_row(), -1),
            Some(Act::NextValue) => self.options.change(self.options.current_row(), 1),
            Some(Act::Aspect) => self.options.change(OptionRow::Aspect, 1),
            Some(Act::Variants) => self.options.change(OptionRow::Variants, 1),
            Some(Act::Enhance) => self.options.change(OptionRow::Enhance, 1),
            Some(Act::Fallback) => self.options.change(OptionRow::Fallback, 1),
            _ => {}
        }
    }

    pub(super) fn tasks_key(&mut self, key: KeyEvent) {
        match self.config.keys.act(Context::Tasks, &key) {
            Some(Act::Up) => self.tasks.step(-1),
            Some(Act::Down) => self.tasks.step(1),
            Some(Act::First) => self.tasks.select(0),
            Some(Act::Last) => self.tasks.select(usize::MAX),
            Some(Act::CopyId) => {
                if let Some(id) = self.tasks.selected().map(|t| t.id.clone()) {
                    self.show(
                        Level::Info,
                        format!("copied {id} to the clipboard (through the terminal)"),
                    );
                    self.emit(Effect::Copy(id));
                }
            }
            Some(Act::Retry) => self.retry_selected(),
            Some(act) => self.variant_key(act),
            None => {}
        }
    }

    pub(super) fn preview_key(&mut self, key: KeyEvent) {
        if let Some(act) = self.config.keys.act(Context::Preview, &key) {
            self.variant_key(act);
        }
    }

    /// The preview's keys, which the tasks pane has too.
    fn variant_key(&mut self, act: Act) {
        match act {
            Act::PrevVariant => {
                self.tasks.step_variant(-1);
            }
            Act::NextVariant => {
                self.tasks.step_variant(1);
            }
            Act::FullScreen => {
                if self.wanted_image().is_some() {
                    self.fullscreen = true;
                } else {
                    self.show(
                        Level::Info,
                        "no finished image to show yet: pick a task that succeeded",
                    );
                }
            }
            _ => {}
        }
    }
}
