//! The queue: drafts staged instead of submitted, shown above the tasks, reordered, edited,
//! removed, paused and started. Nothing staged spends anything: the queue submits only once
//! started (its estimate shown, the balance read just then), at the service's pace (the
//! client's generate limiter) and with at most `parallel` tasks generating at once. Every
//! change is kept in the history database.

use crate::store::queue::{Queued, Saved};
use crate::tui::action::Draft;

/// One staged draft; `job` is set while it is being submitted.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueEntry {
    pub key: i64,
    pub draft: Draft,
    pub job: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Queue {
    pub entries: Vec<QueueEntry>,
    /// Submitting (started and not paused).
    pub running: bool,
    /// The kept queue was read (nothing is staged or kept before).
    pub loaded: bool,
    /// The entry selected in the tasks pane, when the selection is on the queue.
    pub cursor: Option<usize>,
    /// At most this many tasks generating at once while it runs.
    pub parallel: usize,
    /// The balance check before starting, by its job number.
    pub check: Option<u64>,
    /// The last entry removed, and where it was: undo puts it back.
    removed: Option<(usize, QueueEntry)>,
    next_key: i64,
}

impl Default for Queue {
    fn default() -> Queue {
        Queue {
            entries: Vec::new(),
            running: false,
            loaded: false,
            cursor: None,
            parallel: crate::config::QUEUE_PARALLEL as usize,
            check: None,
            removed: None,
            next_key: 1,
        }
    }
}

impl Queue {
    pub fn with_parallel(parallel: usize) -> Queue {
        Queue {
            parallel: parallel.max(1),
            ..Queue::default()
        }
    }

    /// Takes in the queue as it was kept.
    pub fn load(&mut self, saved: Saved) {
        self.next_key = saved.entries.iter().map(|q| q.key).max().unwrap_or(0) + 1;
        self.entries = saved
            .entries
            .into_iter()
            .map(|q| QueueEntry {
                key: q.key,
                draft: q.request,
                job: None,
            })
            .collect();
        self.running = false;
        self.loaded = true;
        self.clamp();
    }

    /// What is kept: every entry, those being submitted too (the worker takes an entry out
    /// once its task exists).
    pub fn saved(&self, paused: bool) -> Saved {
        Saved {
            entries: self
                .entries
                .iter()
                .map(|e| Queued {
                    key: e.key,
                    request: e.draft.clone(),
                })
                .collect(),
            paused,
        }
    }

    /// Adds drafts at the end.
    pub fn stage(&mut self, drafts: Vec<Draft>) {
        for draft in drafts {
            let key = self.next_key;
            self.next_key += 1;
            self.entries.push(QueueEntry {
                key,
                draft,
                job: None,
            });
        }
    }

    /// Entries not yet on their way.
    pub fn waiting(&self) -> impl Iterator<Item = &QueueEntry> {
        self.entries.iter().filter(|e| e.job.is_none())
    }

    /// Entries being submitted.
    pub fn in_flight(&self) -> usize {
        self.entries.iter().filter(|e| e.job.is_some()).count()
    }

    /// The images the waiting entries ask for.
    pub fn images(&self) -> u32 {
        self.waiting().map(|e| e.draft.variants.count()).sum()
    }

    /// The next entry to submit, marked as on its way as `job`.
    pub fn take_next(&mut self, job: u64) -> Option<(i64, Draft)> {
        let entry = self.entries.iter_mut().find(|e| e.job.is_none())?;
        entry.job = Some(job);
        Some((entry.key, entry.draft.clone()))
    }

    /// The entry submitted as `job`, taken out of the queue.
    pub fn finish(&mut self, job: u64) -> Option<QueueEntry> {
        let i = self.entries.iter().position(|e| e.job == Some(job))?;
        let entry = self.entries.remove(i);
        if let Some(c) = self.cursor.as_mut()
            && *c > i
        {
            *c -= 1;
        }
        self.clamp();
        Some(entry)
    }

    /// The entry submitted as `job` goes back to waiting (its submission failed).
    pub fn give_back(&mut self, job: u64) -> bool {
        let Some(entry) = self.entries.iter_mut().find(|e| e.job == Some(job)) else {
            return false;
        };
        entry.job = None;
        true
    }

    /// Moves the selected entry by `delta` places; an entry on its way stays where it is.
    pub fn move_selected(&mut self, delta: isize) -> bool {
        let Some(i) = self.cursor else {
            return false;
        };
        let Some(j) = i
            .checked_add_signed(delta)
            .filter(|j| *j < self.entries.len())
        else {
            return false;
        };
        if self.entries[i].job.is_some() || self.entries[j].job.is_some() {
            return false;
        }
        self.entries.swap(i, j);
        self.cursor = Some(j);
        true
    }

    /// Takes the selected entry out (undo puts it back), unless it is on its way.
    pub fn remove_selected(&mut self) -> Option<&QueueEntry> {
        let i = self.cursor?;
        if self.entries.get(i)?.job.is_some() {
            return None;
        }
        let entry = self.entries.remove(i);
        self.removed = Some((i, entry));
        self.clamp();
        self.removed.as_ref().map(|(_, e)| e)
    }

    /// Puts the last removed entry back where it was.
    pub fn undo_remove(&mut self) -> bool {
        let Some((i, entry)) = self.removed.take() else {
            return false;
        };
        let i = i.min(self.entries.len());
        self.entries.insert(i, entry);
        self.cursor = Some(i);
        true
    }

    /// Takes the selected entry out to edit it (not undoable: it is in the editor).
    pub fn take_selected(&mut self) -> Option<Draft> {
        let i = self.cursor?;
        if self.entries.get(i)?.job.is_some() {
            return None;
        }
        let entry = self.entries.remove(i);
        self.clamp();
        Some(entry.draft)
    }

    fn clamp(&mut self) {
        if self.entries.is_empty() {
            self.cursor = None;
        } else if let Some(c) = self.cursor.as_mut() {
            *c = (*c).min(self.entries.len() - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Size, Variants};

    fn draft(prompt: &str) -> Draft {
        Draft {
            prompt: Some(prompt.into()),
            refs: Vec::new(),
            mask: None,
            size: Size::Square,
            variants: Variants::Two,
            enhance: false,
            fallback: None,
        }
    }

    fn prompts(q: &Queue) -> Vec<&str> {
        q.entries
            .iter()
            .filter_map(|e| e.draft.prompt.as_deref())
            .collect()
    }

    #[test]
    fn entries_move_come_out_and_back_and_keep_their_keys() {
        let mut q = Queue::default();
        q.stage(vec![draft("a"), draft("b"), draft("c")]);
        assert_eq!(q.images(), 6);
        q.cursor = Some(2);
        assert!(q.move_selected(-1));
        assert!(q.move_selected(-1));
        assert!(!q.move_selected(-1));
        assert_eq!(prompts(&q), ["c", "a", "b"]);
        q.cursor = Some(1);
        assert!(q.remove_selected().is_some());
        assert_eq!(prompts(&q), ["c", "b"]);
        assert!(q.undo_remove());
        assert_eq!(prompts(&q), ["c", "a", "b"]);
        let keys: Vec<i64> = q.entries.iter().map(|e| e.key).collect();
        assert_eq!(keys, [3, 1, 2]);
    }

    #[test]
    fn an_entry_on_its_way_stays_put_and_leaves_when_done() {
        let mut q = Queue::default();
        q.stage(vec![draft("a"), draft("b")]);
        assert_eq!(q.take_next(7).map(|(k, _)| k), Some(1));
        q.cursor = Some(1);
        assert!(!q.move_selected(-1), "a submitted entry is not moved");
        q.cursor = Some(0);
        assert!(q.remove_selected().is_none());
        assert_eq!((q.in_flight(), q.images()), (1, 2));
        assert!(q.give_back(7));
        assert_eq!(q.take_next(8).map(|(k, _)| k), Some(1));
        assert_eq!(q.finish(8).map(|e| e.key), Some(1));
        assert_eq!(prompts(&q), ["b"]);
    }

    #[test]
    fn loading_continues_the_keys_and_starts_stopped() {
        let mut q = Queue::default();
        q.stage(vec![draft("a"), draft("b")]);
        let saved = q.saved(true);
        let mut back = Queue::with_parallel(2);
        back.running = true;
        back.load(saved);
        assert!(back.loaded && !back.running);
        back.stage(vec![draft("c")]);
        assert_eq!(back.entries.last().map(|e| e.key), Some(3));
    }
}
