//! What can be done with the history's selected entry: remix it into the editor, run it
//! again as it was, open or copy its image, see every detail, delete it (asking first).

use std::path::PathBuf;

use crate::config::keys_panes::Act;

use super::history::Deleting;
use super::refs::{References, Slot, label_for};
use super::{App, Focus, Level, Overlay, Screen};
use crate::api::input::ImageSource;
use crate::store::text::escape_controls;
use crate::store::{Entry, Reference};
use crate::tui::action::{CheckedRef, Draft, Effect};
use crate::tui::ui::{details, history as view};

fn is_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// What the editor gets of a stored prompt: its lines, without the control characters a
/// terminal would act on.
pub(super) fn editable(prompt: &str) -> String {
    prompt
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect()
}

impl App {
    /// The keys acting on the selected entry; false for any other key (nothing done).
    pub(super) fn entry_key(&mut self, act: Act) -> bool {
        match act {
            Act::FullScreen => {
                if self.wanted_image().is_some() {
                    self.fullscreen = true;
                } else {
                    let why = self.history_no_file().unwrap_or_default();
                    self.show(Level::Info, format!("no image to show full screen: {why}"));
                }
            }
            Act::Remix => self.remix(),
            Act::Rerun => self.rerun(),
            Act::Open => match self.history_path() {
                Ok(path) => self.emit(Effect::Open(path)),
                Err(why) => self.show(Level::Info, format!("nothing to open: {why}")),
            },
            Act::CopyPath => match self.history_path() {
                Ok(path) => self.copy(path.display().to_string()),
                Err(why) => self.show(
                    Level::Info,
                    format!("no path to copy: {why} (Y copies its URL)"),
                ),
            },
            Act::CopyUrl => match self.history_image() {
                Some((_, image)) => self.copy(image.url.clone()),
                None => self.show(Level::Info, "no URL to copy: the entry has no image"),
            },
            Act::Delete => self.ask_delete(),
            Act::Details => {
                if let Some(entry) = self.history.selected_entry() {
                    self.overlay = Some(Overlay::Details {
                        entry: Box::new(entry.clone()),
                        scroll: 0,
                    });
                }
            }
            _ => return false,
        }
        true
    }

    /// Why the selected entry has no file to show, if it has none.
    pub fn history_no_file(&self) -> Option<String> {
        let entry = self.history.selected_entry()?;
        Some(view::no_file_reason(entry, self.history.variant)).filter(|s| !s.is_empty())
    }

    pub(super) fn on_entry_deleted(
        &mut self,
        task_id: &str,
        result: Result<usize, String>,
    ) -> bool {
        let asked = self
            .history
            .deleting
            .take_if(|d| d.task_id == task_id)
            .unwrap_or(Deleting {
                task_id: task_id.to_owned(),
                files: false,
                on_disk: 0,
            });
        match result {
            Ok(removed) => {
                let plural = |n: usize| if n == 1 { "file" } else { "files" };
                let text = match (asked.files, asked.on_disk) {
                    (true, _) => format!(
                        "deleted {task_id} from the history and removed {removed} image {}",
                        plural(removed)
                    ),
                    (false, 0) => format!("deleted {task_id} from the history"),
                    (false, 1) => {
                        format!("deleted {task_id} from the history; its image file stays on disk")
                    }
                    (false, n) => format!(
                        "deleted {task_id} from the history; its {n} image files stay on disk"
                    ),
                };
                self.show(Level::Info, text);
                if self.screen == Screen::History {
                    self.history.reload();
                }
            }
            Err(why) => self.show(Level::Error, format!("could not delete {task_id}: {why}")),
        }
        true
    }

    /// The saved file of the image shown, or why there is none.
    pub(super) fn history_path(&self) -> Result<PathBuf, String> {
        match self
            .history_image()
            .and_then(|(_, image)| image.path.clone())
        {
            Some(path) => Ok(path),
            None => Err(self
                .history_no_file()
                .unwrap_or_else(|| "no entry is selected".to_owned())),
        }
    }

    fn copy(&mut self, text: String) {
        self.show(
            Level::Info,
            format!(
                "copied {} to the clipboard (through the terminal)",
                escape_controls(&text)
            ),
        );
        self.emit(Effect::Copy(text));
    }

    fn ask_delete(&mut self) {
        let Some(entry) = self.history.selected_entry() else {
            return;
        };
        let files = entry.images.iter().filter(|i| i.path.is_some()).count();
        self.overlay = Some(Overlay::ConfirmDelete {
            task_id: entry.task_id.clone(),
            prompt: entry.params.prompt.clone().unwrap_or_default(),
            files,
        });
    }

    /// The delete question's keys: `e` the entry only, `f` the entry and its files (only
    /// after this explicit choice are files removed), Esc or `n` neither.
    pub(super) fn delete_key(
        &mut self,
        task_id: String,
        prompt: String,
        files: usize,
        act: Option<Act>,
    ) -> (Option<Overlay>, bool) {
        let with_files = match act {
            Some(Act::Back) => return (None, true),
            Some(Act::EntryOnly) => false,
            Some(Act::WithFiles) if files > 0 => true,
            _ => {
                let same = Overlay::ConfirmDelete {
                    task_id,
                    prompt,
                    files,
                };
                return (Some(same), false);
            }
        };
        self.history.deleting = Some(Deleting {
            task_id: task_id.clone(),
            files: with_files,
            on_disk: files,
        });
        self.emit(Effect::DeleteEntry {
            task_id,
            files: with_files,
        });
        (None, true)
    }

    /// The details' keys: scrolling, and closing.
    pub(super) fn details_key(
        &mut self,
        entry: Box<Entry>,
        scroll: u16,
        act: Option<Act>,
    ) -> (Option<Overlay>, bool) {
        let max = details::details_max_scroll(&entry, self.config.utc_offset_secs, self.area);
        let page = details::details_rect(&entry, self.config.utc_offset_secs, self.area)
            .height
            .saturating_sub(2)
            .max(1);
        let to = match act {
            Some(Act::Back) => return (None, true),
            Some(Act::Down) => scroll.saturating_add(1),
            Some(Act::Up) => scroll.saturating_sub(1),
            Some(Act::PageDown) => scroll.saturating_add(page),
            Some(Act::PageUp) => scroll.saturating_sub(page),
            Some(Act::First) => 0,
            Some(Act::Last) => max,
            _ => scroll,
        }
        .min(max);
        (Some(Overlay::Details { entry, scroll: to }), to != scroll)
    }

    /// `r`: the selected entry's parameters into the editor, back on the main screen with
    /// the prompt focused. Local references are checked again; one that cannot be used any
    /// more falls back to the URL it was uploaded to then.
    fn remix(&mut self) {
        let Some(entry) = self.history.selected_entry().cloned() else {
            return;
        };
        let p = entry.params;
        self.prompt.select_all();
        self.prompt.cut();
        self.prompt
            .insert_str(editable(p.prompt.as_deref().unwrap_or("")));
        self.refs = References::default();
        self.remix_urls.clear();
        for r in &p.refs {
            self.remix_reference(Slot::Reference, r);
        }
        if let Some(mask) = &p.mask {
            self.remix_reference(Slot::Mask, mask);
        }
        self.refs.selected = 0;
        self.options.size = p.size;
        self.options.variants = p.variants;
        self.options.enhance = p.enhance;
        self.options.fallback = p.fallback;
        self.close_history();
        self.set_focus(Focus::Prompt);
    }

    fn remix_reference(&mut self, slot: Slot, r: &Reference) {
        let origin = r.origin.trim();
        let id = self.id();
        if is_url(origin) {
            let source = ImageSource::parse(origin)
                .or_else(|_| ImageSource::parse(&r.url))
                .map_err(|e| e.to_string());
            if self.refs.add(slot, id, origin.to_owned()).is_ok() {
                self.refs.checked(
                    id,
                    source.map(|source| CheckedRef {
                        source,
                        dims: None,
                        bytes: None,
                    }),
                );
            }
            return;
        }
        let path = PathBuf::from(origin);
        let label = label_for(&path, &self.config.start_dir);
        if self.refs.add(slot, id, label).is_ok() {
            if is_url(&r.url) {
                self.remix_urls.insert(id, r.url.clone());
            }
            self.emit(Effect::CheckReference {
                id,
                entry: origin.to_owned(),
            });
        }
    }

    /// A remixed local reference that failed its check becomes the URL it was uploaded to
    /// then, saying why.
    pub(super) fn remixed_check(
        &mut self,
        id: u64,
        result: Result<CheckedRef, String>,
    ) -> Result<CheckedRef, String> {
        let Some(url) = self.remix_urls.remove(&id) else {
            return result;
        };
        let Err(why) = result else {
            return result;
        };
        let Ok(source) = ImageSource::parse(&url) else {
            return Err(why);
        };
        let entry = self
            .refs
            .entries
            .iter_mut()
            .chain(self.refs.mask.as_mut())
            .find(|e| e.id == id);
        if let Some(e) = entry {
            self.refs.refusal = Some(format!(
                "{}: {why}; using the copy uploaded for the original task",
                e.label
            ));
            e.label = url;
        }
        Ok(CheckedRef {
            source,
            dims: None,
            bytes: None,
        })
    }

    /// `R`: asks whether to submit the selected entry again as it was (its references by the
    /// URLs they were uploaded to), with what it should cost; `y` runs it and goes back to
    /// the main screen to follow it.
    fn rerun(&mut self) {
        let Some(entry) = self.history.selected_entry() else {
            return;
        };
        let p = &entry.params;
        let url = |r: &Reference| ImageSource::Url(r.url.clone());
        let draft = Draft {
            prompt: p.prompt.clone().filter(|t| !t.trim().is_empty()),
            refs: p.refs.iter().map(url).collect(),
            mask: p.mask.as_ref().map(url),
            size: p.size,
            variants: p.variants,
            enhance: p.enhance,
            fallback: p.fallback,
        };
        if draft.prompt.is_none() && draft.refs.is_empty() {
            self.show(
                Level::Warning,
                "this entry has neither a prompt nor references: nothing to run again",
            );
            return;
        }
        if self.refuse_second_submission() {
            return;
        }
        self.fullscreen = false;
        self.overlay = Some(Overlay::ConfirmRerun {
            draft: Box::new(draft),
        });
    }

    /// The re-run question: `y` (or Enter) submits, anything else cancels.
    pub(super) fn rerun_key(&mut self, draft: Draft, yes: bool) -> (Option<Overlay>, bool) {
        if yes {
            self.close_history();
            self.submit_draft(draft);
        } else {
            self.show(Level::Info, "not run again");
        }
        (None, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_reach_the_editor_without_terminal_controls() {
        assert_eq!(editable("a\r\nb\u{1b}[31m\tc"), "a\nb[31m\tc");
    }
}
