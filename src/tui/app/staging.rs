//! The queue as the person works it: the staging dialog (the editor's draft in several
//! aspects and variant counts), the keys on the queue's rows, starting it (its estimate shown,
//! a balance read just then) and pausing it, and the submissions it runs.

use crossterm::event::KeyEvent;

use super::low_balance::Shortfall;
use super::{App, Focus, Level, Overlay};
use crate::api::{Size, Variants};
use crate::config::keys_panes::{Act, Context};
use crate::store::queue::Saved;
use crate::tui::action::{Draft, Effect};

/// The staging dialog: which aspects and variant counts the draft is staged in.
#[derive(Debug, Clone, PartialEq)]
pub struct StageForm {
    pub draft: Draft,
    pub sizes: [bool; 3],
    pub variants: [bool; 3],
    /// The box under the cursor: the aspects, then the variant counts.
    pub row: usize,
}

impl StageForm {
    pub fn new(draft: Draft) -> StageForm {
        StageForm {
            sizes: Size::ALL.map(|s| s == draft.size),
            variants: Variants::ALL.map(|v| v == draft.variants),
            row: 0,
            draft,
        }
    }

    /// One draft per aspect and variant count ticked.
    pub fn drafts(&self) -> Vec<Draft> {
        let mut out = Vec::new();
        for (size, _) in Size::ALL.iter().zip(self.sizes).filter(|(_, on)| *on) {
            for (variants, _) in Variants::ALL
                .iter()
                .zip(self.variants)
                .filter(|(_, on)| *on)
            {
                out.push(Draft {
                    size: *size,
                    variants: *variants,
                    ..self.draft.clone()
                });
            }
        }
        out
    }

    pub fn images(&self) -> u32 {
        self.drafts().iter().map(|d| d.variants.count()).sum()
    }

    fn toggle(&mut self) {
        match self.row {
            r @ 0..3 => self.sizes[r] = !self.sizes[r],
            r => {
                if let Some(v) = self.variants.get_mut(r - 3) {
                    *v = !*v;
                }
            }
        }
    }

    fn step(&mut self, delta: isize) {
        self.row = (self.row as isize + delta).rem_euclid(6) as usize;
    }
}

impl App {
    /// Opens the staging dialog for the editor's draft (nothing is spent by staging).
    pub(super) fn open_stage(&mut self) {
        if !self.queue.loaded {
            self.show(Level::Warning, "the queue is still being read: try again");
            return;
        }
        match self.draft() {
            Ok(draft) => {
                self.fullscreen = false;
                self.overlay = Some(Overlay::Stage(Box::new(StageForm::new(draft))));
            }
            Err(why) => self.show(Level::Warning, why),
        }
    }

    pub(super) fn stage_key(
        &mut self,
        mut form: Box<StageForm>,
        act: Option<Act>,
    ) -> (Option<Overlay>, bool) {
        match act {
            Some(Act::Back) => return (None, true),
            Some(Act::Stage) => {
                let drafts = form.drafts();
                if drafts.is_empty() {
                    self.show(Level::Warning, "tick at least one aspect and one count");
                    return (Some(Overlay::Stage(form)), true);
                }
                let n = drafts.len();
                let images = form.images();
                self.queue.stage(drafts);
                self.save_queue();
                let state = if self.queue.running {
                    "the queue runs: they go out at the service's pace"
                } else {
                    "P starts the queue"
                };
                let what = if n == 1 { "entry" } else { "entries" };
                let estimate = self.estimate(images);
                self.show(
                    Level::Info,
                    format!("staged {n} {what} ({estimate}); {state}"),
                );
                return (None, true);
            }
            Some(Act::Tick) => form.toggle(),
            Some(Act::Up) => form.step(-1),
            Some(Act::Down) => form.step(1),
            _ => return (Some(Overlay::Stage(form)), false),
        }
        (Some(Overlay::Stage(form)), true)
    }

    /// `P`: pauses a running queue; asks before starting one, its estimate shown.
    pub(super) fn toggle_queue(&mut self) {
        if self.queue.running {
            self.queue.running = false;
            self.save_queue();
            self.show(
                Level::Info,
                "queue paused: tasks already sent go on; P resumes",
            );
        } else if self.queue.waiting().next().is_none() {
            self.show(
                Level::Info,
                "the queue is empty: Alt-S (or F2) stages the draft",
            );
        } else {
            self.fullscreen = false;
            self.overlay = Some(Overlay::ConfirmQueue { shortfall: None });
        }
    }

    /// The start question: `y` reads the balance (or, after a shortfall, starts anyway).
    pub(super) fn queue_question_key(
        &mut self,
        shortfall: Option<Shortfall>,
        yes: bool,
    ) -> (Option<Overlay>, bool) {
        if !yes {
            self.show(Level::Info, "the queue was not started");
            return (None, true);
        }
        if shortfall.is_some() {
            self.start_queue();
        } else {
            let job = self.id();
            self.queue.check = Some(job);
            let images = self.queue.images();
            self.show(Level::Info, "reading the balance before the queue starts…");
            self.emit(Effect::CheckQueue { job, images });
        }
        (None, true)
    }

    /// The balance read before starting could cover the queue: it starts.
    pub(super) fn on_queue_checked(&mut self, job: u64) -> bool {
        if self.queue.check.take_if(|c| *c == job).is_none() {
            return false;
        }
        self.start_queue();
        true
    }

    /// The balance read before starting probably cannot cover the queue: ask again.
    pub(super) fn queue_held(&mut self, job: u64, shortfall: Shortfall) -> bool {
        if self.queue.check.take_if(|c| *c == job).is_none() {
            return false;
        }
        self.fullscreen = false;
        self.overlay = Some(Overlay::ConfirmQueue {
            shortfall: Some(shortfall),
        });
        true
    }

    fn start_queue(&mut self) {
        self.queue.running = true;
        self.message = None;
        self.save_queue();
        self.pump_queue();
    }

    /// Keeps the queue as it is now.
    pub(super) fn save_queue(&mut self) {
        if self.queue.loaded {
            let saved = self.queue.saved(!self.queue.running);
            self.emit(Effect::SaveQueue(saved));
        }
    }

    pub(super) fn on_queue_loaded(&mut self, result: Result<Saved, String>) -> bool {
        match result {
            Ok(saved) => {
                let was_running = !saved.paused && !saved.entries.is_empty();
                self.queue.load(saved);
                if was_running && self.overlay.is_none() {
                    // It ran when the app last stopped: it goes on only when the person
                    // says so, its estimate shown.
                    self.overlay = Some(Overlay::ConfirmQueue { shortfall: None });
                }
            }
            Err(why) => {
                self.queue.loaded = true;
                self.show(Level::Error, format!("the queue could not be read: {why}"));
            }
        }
        true
    }

    /// Sends the next waiting entry while the queue runs, fewer than `parallel` tasks
    /// generate, and no other entry is on its way: one at a time keeps the queue's order
    /// (the service's creation order is the queue's). The client's generate limiter sets
    /// the pace.
    pub(super) fn pump_queue(&mut self) {
        if !self.queue.running || self.quit {
            return;
        }
        let busy = self.tasks.generating()
            + self.queue.in_flight()
            + usize::from(self.submission.is_some());
        if busy < self.queue.parallel && self.queue.in_flight() == 0 {
            let job = self.id();
            if let Some((key, draft)) = self.queue.take_next(job) {
                self.emit(Effect::SubmitQueued { job, key, draft });
                self.dirty = true;
            }
        }
        if self.queue.entries.is_empty() {
            self.queue.running = false;
            self.save_queue();
            self.show(Level::Info, "the queue is done");
            self.dirty = true;
        }
    }

    /// The tasks pane's keys while the selection is on the queue; false: not a queue key.
    pub(super) fn queue_key(&mut self, key: KeyEvent) -> bool {
        let Some(i) = self.queue.cursor else {
            return false;
        };
        match self.config.keys.act(Context::Queue, &key) {
            Some(Act::MoveUp) => self.move_entry(-1),
            Some(Act::MoveDown) => self.move_entry(1),
            Some(Act::Up) => self.queue.cursor = Some(i.saturating_sub(1)),
            Some(Act::Down) if i + 1 < self.queue.entries.len() => self.queue.cursor = Some(i + 1),
            Some(Act::Down) if !self.tasks.list.is_empty() => {
                self.queue.cursor = None;
                self.tasks.select(0);
            }
            Some(Act::Remove) => match self.queue.remove_selected() {
                Some(_) => {
                    self.save_queue();
                    self.show(Level::Info, "removed from the queue: u brings it back");
                }
                None => self.show(Level::Warning, "this entry is being submitted"),
            },
            Some(Act::Undo) => {
                if self.queue.undo_remove() {
                    self.save_queue();
                }
            }
            Some(act @ (Act::MoreAtOnce | Act::FewerAtOnce)) => {
                let step: isize = if act == Act::MoreAtOnce { 1 } else { -1 };
                self.queue.parallel = self.queue.parallel.saturating_add_signed(step).clamp(1, 20);
                self.show(
                    Level::Info,
                    format!(
                        "at most {} generating at once while the queue runs (for this run; queue_parallel in config.toml keeps it)",
                        self.queue.parallel
                    ),
                );
            }
            Some(Act::Edit) => match self.queue.take_selected() {
                Some(draft) => {
                    self.save_queue();
                    self.load_draft(draft);
                    self.show(
                        Level::Info,
                        "the entry is in the editor: Alt-S stages it again",
                    );
                }
                None => self.show(Level::Warning, "this entry is being submitted"),
            },
            _ => return false,
        }
        true
    }

    fn move_entry(&mut self, delta: isize) {
        if self.queue.move_selected(delta) {
            self.save_queue();
        }
    }

    /// Enters the queue's rows from the tasks (↑ on the first task, or no task at all).
    pub(super) fn enter_queue(&mut self, key: KeyEvent) -> bool {
        let n = self.queue.entries.len();
        if n == 0 || self.queue.cursor.is_some() {
            return false;
        }
        let act = self.config.keys.act(Context::Tasks, &key);
        let up = act == Some(Act::Up);
        let down = act == Some(Act::Down);
        if (up && self.tasks.selected == 0) || (down && self.tasks.list.is_empty()) {
            self.queue.cursor = Some(if up { n - 1 } else { 0 });
            return true;
        }
        false
    }

    /// Puts a queued draft back in the editor (prompt, options; references by their source).
    fn load_draft(&mut self, draft: Draft) {
        self.prompt.select_all();
        self.prompt.cut();
        self.prompt
            .insert_str(draft.prompt.as_deref().unwrap_or_default());
        self.options.size = draft.size;
        self.options.variants = draft.variants;
        self.options.enhance = draft.enhance;
        self.options.fallback = draft.fallback;
        self.refs = super::refs::References::default();
        for (slot, source) in draft
            .refs
            .iter()
            .map(|r| (super::refs::Slot::Reference, r))
            .chain(draft.mask.iter().map(|m| (super::refs::Slot::Mask, m)))
        {
            let entry = match source {
                crate::api::input::ImageSource::Url(u) => u.clone(),
                crate::api::input::ImageSource::File(p) => p.display().to_string(),
            };
            let id = self.id();
            if self.refs.add(slot, id, entry.clone()).is_ok() {
                self.emit(Effect::CheckReference { id, entry });
            }
        }
        self.set_focus(Focus::Prompt);
    }
}

#[cfg(test)]
#[path = "staging_tests.rs"]
mod tests;
