//! What the worker sends back: checked references, listings, submissions, poll results,
//! saved and decoded images, balances. Stale answers (an older request or poll generation)
//! are dropped here.

use super::tasks::{Extras, ImageSlot, TaskView};
use super::{App, Level, Overlay};
use std::time::Duration;

use crate::api::{ErrorClass, TaskRecord, TaskStatus};
use crate::store::text::escape_controls;
use crate::store::{Entry, Status};
use crate::tui::action::{Action, Effect, Failure, NewTask, Notification};
use crate::tui::app::line::LineInput;

impl App {
    /// Returns whether anything shown changed.
    pub(super) fn on_result(&mut self, action: Action) -> bool {
        match action {
            Action::ReferenceChecked { id, result } => self.refs.checked(id, result),
            Action::DirListed { req, dir, result } => match &mut self.overlay {
                Some(Overlay::Browser(b)) if b.req == req => {
                    // The next browser opens where this one was, if this one could be read.
                    if result.is_ok() {
                        self.last_dir = dir;
                    }
                    b.listing = Some(result);
                    b.clamp();
                    true
                }
                _ => false,
            },
            Action::SubmitProgress { job, stage } => match &mut self.submission {
                Some(s) if s.job == job => {
                    s.stage = Some(stage);
                    true
                }
                _ => false,
            },
            Action::Submitted { job, result } => self.on_submitted(job, result),
            Action::TaskUpdate {
                task_id,
                generation,
                record,
            } => self.on_task_update(&task_id, generation, &record),
            Action::PollRetry {
                task_id,
                generation,
                retry,
            } => {
                let Some(task) = self.tasks.current(&task_id, generation) else {
                    return false;
                };
                let note = Some(retry.line());
                let changed = task.note != note;
                task.note = note;
                changed
            }
            Action::PollFailed {
                task_id,
                generation,
                failure,
                stopped,
            } => {
                let now = self.now;
                let Some(task) = self.tasks.current(&task_id, generation) else {
                    return false;
                };
                let before = task.drawn();
                let auth = failure.class == ErrorClass::Auth;
                // The key prompt says what to do about a refused key; the CLI's advice in the
                // message (`--api-key`) means nothing here.
                let reason = if auth {
                    "the service did not accept the key".to_owned()
                } else {
                    failure.message
                };
                task.note = Some(if stopped {
                    task.stop_polling(now);
                    format!(
                        "status check stopped: {reason}; press {} to check again",
                        crate::tui::keys_table::key_in(
                            &self.config.keys,
                            crate::tui::keys::Place::Pane(super::Focus::Tasks),
                            "p"
                        )
                    )
                } else {
                    format!("status check failed, retrying: {reason}")
                });
                let changed = task.drawn() != before;
                if auth {
                    self.ask_key(&self.key_refused());
                    return true;
                }
                changed
            }
            Action::ImageSaved {
                task_id,
                index,
                result,
            } => {
                let auth = matches!(&result, Err(f) if f.class == ErrorClass::Auth);
                let Some(slot) = self
                    .tasks
                    .get_mut(&task_id)
                    .and_then(|t| t.images.get_mut(index))
                else {
                    return false;
                };
                *slot = match result {
                    Ok(path) => ImageSlot::Saved(path),
                    Err(f) => ImageSlot::Failed(f.message.clone()),
                };
                if auth {
                    self.ask_key("downloading an image was refused (401)");
                }
                true
            }
            Action::ImageDecoded { req, result } => {
                if self.preview.requested.as_ref().map(|r| r.req) != Some(req) {
                    return false;
                }
                match result {
                    Ok(fitted) => self.preview.image = Some((req, fitted)),
                    Err(why) => self.preview.error = Some((req, why)),
                }
                true
            }
            Action::Credits { req, result } => {
                if req != self.credits.req {
                    return false;
                }
                self.credits.loading = false;
                match result {
                    Ok(value) => {
                        self.credits.value = Some(value);
                        self.credits.updated = Some(self.now);
                        self.credits.error = None;
                    }
                    Err(f) => {
                        self.credits.error = Some(if f.class == ErrorClass::Auth {
                            "the service did not accept the key (401)".to_owned()
                        } else {
                            f.message.clone()
                        });
                        if f.class == ErrorClass::Auth {
                            self.ask_key(&self.key_refused());
                        }
                    }
                }
                true
            }
            Action::KeyRejected(why) => {
                self.ask_key(&why);
                true
            }
            Action::Resumed { entries, now } => self.on_resumed(entries, now),
            Action::CallbackReceived(record) => {
                let Some(generation) = self.tasks.get(&record.task_id).map(|t| t.poll_gen) else {
                    return false;
                };
                let task_id = record.task_id.clone();
                let was_generating = self.tasks.get(&task_id).is_some_and(|t| t.is_generating());
                let changed = self.on_task_update(&task_id, generation, &record);
                if let Some(task) = self.tasks.get_mut(&task_id) {
                    task.via_callback |= was_generating && !task.is_generating();
                }
                changed
            }
            _ => false,
        }
    }

    fn on_submitted(&mut self, job: u64, result: Result<NewTask, Failure>) -> bool {
        let draft = match self.submission.take_if(|s| s.job == job) {
            Some(submission) => submission.draft,
            // A queued entry leaves the queue once its task exists.
            None if result.is_ok() => match self.queue.finish(job) {
                Some(entry) => entry.draft,
                None => return false,
            },
            // A queued entry that could not be sent waits again, and the queue pauses: the
            // person sees why first.
            None => {
                if !self.queue.give_back(job) {
                    return false;
                }
                self.queue.running = false;
                self.save_queue();
                if let Err(failure) = result {
                    self.on_failure(failure);
                }
                return true;
            }
        };
        match result {
            Ok(new) => {
                let generation = self.id();
                let extras = Extras {
                    refs: draft.refs.len(),
                    mask: draft.mask.is_some(),
                    enhance: draft.enhance,
                };
                let mut task = TaskView::new(
                    new.task_id.clone(),
                    draft.prompt.unwrap_or_else(|| "(references only)".into()),
                    draft.size,
                    draft.variants.count(),
                    self.now,
                    generation,
                );
                task.created_at = new.created_at;
                task.extras = extras;
                if let Some(warning) = new.journal_warning {
                    task.note = Some(warning.clone());
                    self.show(Level::Warning, warning);
                }
                if self.fullscreen {
                    self.tasks.push_behind(task);
                } else {
                    self.tasks.push_newest(task);
                }
                self.emit(Effect::Poll {
                    task_id: new.task_id,
                    generation,
                });
            }
            Err(failure) => self.on_failure(failure),
        }
        true
    }

    fn on_task_update(&mut self, task_id: &str, generation: u64, record: &TaskRecord) -> bool {
        let now = self.now;
        let Some(task) = self.tasks.current(task_id, generation) else {
            return false;
        };
        let before = task.drawn();
        let ended = task.apply(record, now);
        // A status answer that changes nothing drawn costs no frame.
        let changed = ended || task.drawn() != before;
        if ended {
            if record.status == TaskStatus::Success && !record.result_urls.is_empty() {
                let items = record.result_urls.iter().cloned().enumerate().collect();
                let created_at = task.created_at;
                self.emit(Effect::Download {
                    task_id: task_id.to_owned(),
                    created_at,
                    items,
                });
            }
            // The balance changes when a task ends.
            self.refresh_credits();
            self.tell_of_end(task_id);
        }
        // The poller's last answer comes after the cost was observed (a callback may have
        // ended the task before): the estimate before the next submit uses it.
        if record.status.is_final() {
            self.load_usage();
        }
        changed
    }

    /// A task ended: the bell and a desktop notification when the terminal is not focused,
    /// or the task ran at least `notify_after_secs`.
    fn tell_of_end(&mut self, task_id: &str) {
        let settings = self.config.notify;
        if settings.mode == crate::config::Notify::Off {
            return;
        }
        let Some(task) = self.tasks.get(task_id) else {
            return;
        };
        let ran = task.elapsed(self.now);
        let long = settings.after.is_some_and(|after| ran >= after);
        if self.focused && !long {
            return;
        }
        let outcome = match task.status {
            TaskStatus::Success => "done",
            _ => "failed",
        };
        let body = format!("{outcome} in {} s: {}", ran.as_secs(), task.prompt);
        self.emit(Effect::Notify(Notification {
            title: "fouro".to_owned(),
            body,
        }));
    }

    /// Follows again what the history says is unsettled: polls the tasks still generating,
    /// downloads the images not saved. Entries come oldest first, so the newest ends on top.
    fn on_resumed(&mut self, entries: Vec<Entry>, now_ms: i64) -> bool {
        if entries.is_empty() {
            return false;
        }
        let was_empty = self.tasks.list.is_empty();
        for entry in entries {
            if self.tasks.get(&entry.task_id).is_some() {
                continue;
            }
            let generation = self.id();
            let age = Duration::from_millis(
                u64::try_from(now_ms.saturating_sub(entry.created_at)).unwrap_or(0),
            );
            let prompt = entry
                .params
                .prompt
                .as_deref()
                .map(|p| escape_controls(p).into_owned())
                .unwrap_or_else(|| "(references only)".into());
            let mut task = TaskView::new(
                entry.task_id.clone(),
                prompt,
                entry.params.size,
                entry.params.variants.count(),
                self.now,
                generation,
            );
            task.age = age;
            task.created_at = entry.created_at;
            task.extras = Extras {
                refs: entry.params.refs.len(),
                mask: entry.params.mask.is_some(),
                enhance: entry.params.enhance,
            };
            task.progress = entry.progress.clamp(0.0, 1.0);
            task.note = Some("resumed from the history".into());
            if entry.status == Status::Generating {
                self.tasks.push_behind(task);
                self.emit(Effect::Poll {
                    task_id: entry.task_id,
                    generation,
                });
                continue;
            }
            task.status = match entry.status {
                Status::Success => TaskStatus::Success,
                Status::CreateTaskFailed => TaskStatus::CreateTaskFailed,
                _ => TaskStatus::GenerateFailed,
            };
            task.polling = false;
            task.ended = Some(self.now);
            task.ended_at(Some(entry.created_at), entry.completed_at);
            task.urls = entry.images.iter().map(|i| i.url.clone()).collect();
            task.images = entry
                .images
                .iter()
                .map(|i| match &i.path {
                    Some(path) => ImageSlot::Saved(path.clone()),
                    None if i.gone => ImageSlot::Failed("expired on the service".into()),
                    None => ImageSlot::Pending,
                })
                .collect();
            let items: Vec<(usize, String)> =
                entry.missing().map(|i| (i.index, i.url.clone())).collect();
            self.tasks.push_behind(task);
            if !items.is_empty() {
                self.emit(Effect::Download {
                    task_id: entry.task_id,
                    created_at: entry.created_at,
                    items,
                });
            }
        }
        if was_empty {
            self.tasks.select(0);
        }
        true
    }

    /// A request failed: ask for a key on 401, show the balance on 402, else say what happened.
    fn on_failure(&mut self, failure: Failure) {
        match failure.class {
            ErrorClass::Auth => self.ask_key(&self.key_refused()),
            ErrorClass::Credits => {
                let balance = match self.credits.value {
                    Some(v) => format!(
                        "; balance: {} credits",
                        crate::api::types::format_credits(v)
                    ),
                    None => String::new(),
                };
                self.show(Level::Error, format!("{}{balance}", failure.message));
                self.refresh_credits();
            }
            _ => self.show(Level::Error, failure.message),
        }
    }

    /// Why the key prompt opened, and what to do about it here (the message of the error is
    /// the command line's: `--api-key` means nothing to a running app).
    fn key_refused(&self) -> String {
        format!(
            "the service did not accept the key in use (from {}): paste another below, or save one for good on the account screen",
            self.config.account.key_source
        )
    }

    /// Opens the key prompt (once; a second 401 only updates the reason). Another dialog
    /// open now is not replaced: the prompt waits until it closes.
    fn ask_key(&mut self, reason: &str) {
        match (&mut self.overlay, &mut self.stashed) {
            (Some(Overlay::KeyPrompt { reason: r, .. }), _)
            | (_, Some(Overlay::KeyPrompt { reason: r, .. })) => *r = reason.to_owned(),
            (None, _) => {
                self.fullscreen = false;
                self.overlay = Some(Overlay::KeyPrompt {
                    input: LineInput::new(),
                    reason: reason.to_owned(),
                });
            }
            (Some(_), _) => self.key_request = Some(reason.to_owned()),
        }
    }
}
