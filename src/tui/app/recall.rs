//! Recalling earlier prompts in the editor, as a shell recalls commands: Up on the first line
//! (or Ctrl-P) steps to older prompts, Down (or Ctrl-N) back toward the draft, which is kept;
//! Ctrl-R searches them. The prompts are read from the history off the render path
//! (`Effect::LoadPrompts`) the first time they are wanted, and again after a submit.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::App;
use super::history_actions::editable;
use super::line::LineInput;
use crate::tui::action::Effect;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recall {
    /// The prompts written before, newest first, each once; `None` until read (again).
    prompts: Option<Vec<String>>,
    /// The request reading them, while one is on its way.
    loading: Option<u64>,
    /// What to do once they arrive.
    pending: Option<Step>,
    /// The earlier prompt the editor shows (an index into `prompts`); `None`: the draft.
    at: Option<usize>,
    /// What was being written before recalling began, given back at the end.
    draft: Option<String>,
    /// The reverse search, while it is open.
    pub search: Option<Search>,
}

/// The reverse search (Ctrl-R): the text looked for, and the prompt it found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    pub query: LineInput,
    /// The prompt shown (an index into the prompts), if one matches.
    pub found: Option<usize>,
    /// The editor's text and position before the search, back on Esc.
    before: String,
    before_at: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Older,
    Search,
}

impl Recall {
    /// Whether the prompts are being read.
    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    /// Which earlier prompt the editor shows, counted from the newest (1), if one.
    pub fn position(&self) -> Option<(usize, usize)> {
        let total = self.prompts.as_ref()?.len();
        self.at.map(|at| (at + 1, total))
    }

    /// The prompts are read again next time (a submit added one).
    fn forget(&mut self) {
        self.prompts = None;
        self.loading = None;
        self.pending = None;
    }

    /// Recalling ends: the editor's text is the person's own now.
    fn settle(&mut self) {
        self.at = None;
        self.draft = None;
        self.search = None;
    }
}

/// Whether `prompt` contains `query`, ignoring case.
fn matches(prompt: &str, query: &str) -> bool {
    query.is_empty() || prompt.to_lowercase().contains(&query.to_lowercase())
}

impl App {
    /// Replaces the editor's text (an edit that undo takes back), the cursor at its end.
    pub(super) fn set_prompt_text(&mut self, text: &str) {
        self.prompt.select_all();
        self.prompt.delete_char();
        self.prompt.cancel_selection();
        self.prompt.insert_str(text);
    }

    /// Asks for the earlier prompts, to do `step` once they are here. False when they are
    /// here already.
    fn load_prompts(&mut self, step: Step) -> bool {
        if self.recall.prompts.is_some() {
            return false;
        }
        self.recall.pending = Some(step);
        if self.recall.loading.is_none() {
            let req = self.id();
            self.recall.loading = Some(req);
            self.emit(Effect::LoadPrompts { req });
        }
        true
    }

    pub(super) fn on_prompts_loaded(
        &mut self,
        req: u64,
        result: Result<Vec<String>, String>,
    ) -> bool {
        if self.recall.loading != Some(req) {
            return false;
        }
        self.recall.loading = None;
        let prompts = match result {
            Ok(prompts) => prompts.iter().map(|p| editable(p)).collect(),
            Err(why) => {
                self.recall.pending = None;
                self.recall.search = None;
                self.show(
                    super::Level::Warning,
                    format!("earlier prompts could not be read: {why}"),
                );
                return true;
            }
        };
        self.recall.prompts = Some(prompts);
        match self.recall.pending.take() {
            Some(Step::Older) => {
                self.recall_older();
            }
            Some(Step::Search) => self.search_from(0),
            None => {}
        }
        true
    }

    /// A submit went out: the next recall reads the prompts again, and what the editor
    /// shows is the person's own.
    pub(super) fn recall_after_submit(&mut self) {
        self.recall.forget();
        self.recall.settle();
    }

    /// Up on the first line, Ctrl-P: the next older prompt (not the one shown).
    pub(super) fn recall_older(&mut self) -> bool {
        if self.load_prompts(Step::Older) {
            return true;
        }
        let current = self.prompt_text();
        let from = self.recall.at.map_or(0, |at| at + 1);
        let Some(prompts) = &self.recall.prompts else {
            return false;
        };
        // A prompt that reads as the text shown, or as the draft, would seem to do nothing.
        let draft = self.recall.draft.as_ref();
        let Some((i, text)) = prompts
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, p)| **p != current && Some(*p) != draft)
            .map(|(i, p)| (i, p.clone()))
        else {
            return false;
        };
        if self.recall.at.is_none() {
            self.recall.draft = Some(current);
        }
        self.recall.at = Some(i);
        self.set_prompt_text(&text);
        true
    }

    /// Down on the last line, Ctrl-N: the next newer prompt, then the draft.
    pub(super) fn recall_newer(&mut self) -> bool {
        let Some(at) = self.recall.at else {
            return false;
        };
        let current = self.prompt_text();
        let draft = self.recall.draft.as_ref();
        let newer = self.recall.prompts.as_ref().and_then(|prompts| {
            prompts[..at.min(prompts.len())]
                .iter()
                .enumerate()
                .rev()
                .find(|(_, p)| **p != current && Some(*p) != draft)
                .map(|(i, p)| (i, p.clone()))
        });
        match newer {
            Some((i, text)) => {
                self.recall.at = Some(i);
                self.set_prompt_text(&text);
            }
            None => {
                let draft = self.recall.draft.take().unwrap_or_default();
                self.recall.at = None;
                self.set_prompt_text(&draft);
            }
        }
        true
    }

    /// Ctrl-R: opens the reverse search over earlier prompts.
    pub(super) fn open_search(&mut self) -> bool {
        self.recall.search = Some(Search {
            query: LineInput::new(),
            found: None,
            before: self.prompt_text(),
            before_at: self.recall.at,
        });
        if !self.load_prompts(Step::Search) {
            self.search_from(0);
        }
        true
    }

    /// Finds the newest prompt from `from` on that matches the query, and shows it.
    fn search_from(&mut self, from: usize) {
        let Some(search) = &self.recall.search else {
            return;
        };
        let query = search.query.text().to_owned();
        let found = self.recall.prompts.as_ref().and_then(|prompts| {
            prompts
                .iter()
                .enumerate()
                .skip(from)
                .find(|(_, p)| matches(p, &query))
                .map(|(i, p)| (i, p.clone()))
        });
        if let Some((i, text)) = found {
            if let Some(search) = &mut self.recall.search {
                search.found = Some(i);
            }
            self.set_prompt_text(&text);
        } else if from == 0
            && let Some(search) = &mut self.recall.search
        {
            // Nothing matches what is typed now: the editor keeps the last match, as a
            // shell's search does, and says so.
            search.found = None;
        }
    }

    /// Keys while the reverse search is open: typing narrows it, Ctrl-R finds an older
    /// match, Enter keeps the prompt found, Esc or Ctrl-G gives back the draft; any other
    /// key keeps the prompt found and then does what it does in the editor.
    pub(super) fn recall_search_key(&mut self, key: KeyEvent) -> bool {
        let Some(mut search) = self.recall.search.take() else {
            return false;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Esc => return self.cancel_search(search),
            KeyCode::Char('g') if ctrl => return self.cancel_search(search),
            KeyCode::Char('r') if ctrl => {
                let from = search.found.map_or(0, |f| f + 1);
                self.recall.search = Some(search);
                self.search_from(from);
                return true;
            }
            KeyCode::Enter => {
                self.accept_search(search);
                return true;
            }
            KeyCode::Char(c) if !ctrl && !alt => {
                search.query.insert_str(&c.to_string());
            }
            KeyCode::Backspace => {
                search.query.handle(&key);
            }
            _ => {
                self.accept_search(search);
                return self.prompt_key(key);
            }
        }
        self.recall.search = Some(search);
        self.search_from(0);
        true
    }

    /// Ends the reverse search keeping the prompt it found (a submit from it).
    pub(super) fn keep_search(&mut self) {
        if let Some(search) = self.recall.search.take() {
            self.accept_search(search);
        }
    }

    fn accept_search(&mut self, search: Search) {
        if let Some(found) = search.found {
            if self.recall.at.is_none() {
                self.recall.draft = Some(search.before);
            }
            self.recall.at = Some(found);
        }
    }

    fn cancel_search(&mut self, search: Search) -> bool {
        self.recall.at = search.before_at;
        if self.prompt_text() != search.before {
            self.set_prompt_text(&search.before);
        }
        true
    }

    /// Pastes into the search line while it is open.
    pub(super) fn recall_search_paste(&mut self, text: &str) -> bool {
        let Some(search) = &mut self.recall.search else {
            return false;
        };
        search.query.insert_str(text);
        self.search_from(0);
        true
    }
}
