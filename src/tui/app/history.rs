//! The history screen: every past generation, newest first, read from the history database
//! a page at a time; searched, filtered and previewed here, remixed, run again, opened,
//! copied and deleted in `history_actions.rs`.
//!
//! Only the pages around what is on screen are kept ([`HistoryView`]): a history of any
//! length costs the same to scroll and to draw. A page is asked for with
//! `Effect::LoadHistory` when the view reaches rows not loaded; each request is remembered
//! by the page it is for, and a reply is taken only while its request is still the one
//! wanted (a new query, a reload or scrolling far away forgets the others).

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use crossterm::event::{KeyCode, KeyEvent, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::input::Anywhere;
use super::line::LineInput;
use super::{App, Screen};
use crate::api::Size;
use crate::api::TaskRecord;
use crate::config::keys::Command;
use crate::config::keys_panes::{Act, Context};
use crate::store::history::Image;
use crate::store::{Entry, Query, Status, StatusFilter};
use crate::tui::action::{Action, Effect, HistoryPage};
use crate::tui::ui::layout;

/// Entries asked for at a time.
pub const PAGE: usize = 100;
/// Rows read beyond either edge of the list, so that scrolling rarely waits for a page.
const MARGIN: usize = 20;
/// The offset of a page past the end of any history: asking for it counts every match
/// (a search's count stops where it is read, plus [`crate::store::COUNT_PAST`]).
const END: usize = usize::MAX;

#[derive(Debug, Clone)]
struct Page {
    /// The query (or reload) it was read for: pages of an older query stay on screen only
    /// until the first page of the new one arrives; those of an older reload until each is
    /// read again.
    generation: u64,
    entries: Vec<Entry>,
}

/// A delete asked for and not answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Deleting {
    pub task_id: String,
    pub files: bool,
    /// How many image files the entry had on disk when asked.
    pub on_disk: usize,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryView {
    /// What is listed: the search text and the filters.
    pub query: Query,
    /// The search line, while it is being typed in.
    pub search: Option<LineInput>,
    /// How many entries match, once a page said so.
    pub total: Option<usize>,
    /// More entries match than `total` (a search counted only so far).
    pub more: bool,
    /// Only the newest entries were searched (a text too short for the search index).
    pub scoped: bool,
    /// The query `total` was counted for (its `query_since`).
    counted_since: u64,
    pub selected: usize,
    /// The first row on screen.
    pub top: usize,
    /// Which image of the selected entry the preview shows.
    pub variant: usize,
    /// Why the last page could not be read; no page is asked for again until a key is pressed.
    pub error: Option<String>,
    /// Loaded pages by number (entries `n * PAGE ..`), only around the view.
    pages: BTreeMap<usize, Page>,
    /// Requests in flight, by page number.
    inflight: BTreeMap<usize, u64>,
    /// Bumped by every new query and every reload.
    generation: u64,
    /// The generation the current query started at.
    query_since: u64,
    pub(super) deleting: Option<Deleting>,
    /// The end of the list was asked for while the count was capped: the request that
    /// counts every match, once asked.
    to_end: Option<Option<u64>>,
}

impl HistoryView {
    /// Entry `row` of the list, if its page is loaded.
    pub fn entry(&self, row: usize) -> Option<&Entry> {
        self.pages.get(&(row / PAGE))?.entries.get(row % PAGE)
    }

    pub fn selected_entry(&self) -> Option<&Entry> {
        self.entry(self.selected)
    }

    /// How many pages are kept (a few, however long the history).
    pub fn cached_pages(&self) -> usize {
        self.pages.len()
    }

    /// Whether the rows shown are still those of the previous query (the new one is read).
    pub fn is_searching(&self) -> bool {
        !self.inflight.is_empty()
            && !self.pages.is_empty()
            && self.pages.values().all(|p| p.generation < self.query_since)
    }

    /// Whether task `task_id` is among the entries loaded.
    pub fn shows(&self, task_id: &str) -> bool {
        self.pages
            .values()
            .any(|p| p.entries.iter().any(|e| e.task_id == task_id))
    }

    /// Whether `record` says of an entry loaded what the entry does not (the same check as
    /// the history's when it records it): an answer that repeats the last costs no reload.
    pub fn is_news(&self, record: &TaskRecord) -> bool {
        let status = Status::from(record.status);
        let failure = status.is_failure();
        let progress = if record.progress.is_nan() {
            0.0
        } else {
            record.progress.clamp(0.0, 1.0)
        };
        self.pages
            .values()
            .flat_map(|p| &p.entries)
            .filter(|e| e.task_id == record.task_id)
            .any(|e| {
                // A late reply of a task seen to end (not one marked expired) is not kept.
                let late = status == Status::Generating
                    && e.status.is_final()
                    && e.status != Status::Expired;
                let urls = e.images.iter().map(|i| i.url.as_str());
                !late
                    && (e.status != status
                        || e.progress != progress
                        || e.error_code != record.error_code.filter(|_| failure)
                        || e.error_message.as_deref()
                            != record.error_message.as_deref().filter(|_| failure)
                        || !urls.eq(record.result_urls.iter().map(String::as_str)))
            })
    }

    /// The first row to show in a list of `height` rows: the selection in view, no empty
    /// rows below the last entry.
    pub fn top_for(&self, height: usize) -> usize {
        let h = height.max(1);
        let mut top = self.top;
        if self.selected < top {
            top = self.selected;
        } else if self.selected >= top + h {
            top = self.selected + 1 - h;
        }
        match self.total {
            Some(total) => top.min(total.saturating_sub(h)),
            None => top,
        }
    }

    fn last_row(&self) -> usize {
        self.total.unwrap_or(0).saturating_sub(1)
    }

    fn select(&mut self, row: usize) {
        let row = row.min(self.last_row());
        if row != self.selected {
            self.selected = row;
            self.variant = 0;
        }
    }

    /// Selects the last entry; when the count stopped short of it, every match is counted
    /// first (off the screen's path: the list stays as it is meanwhile).
    fn select_last(&mut self) {
        if self.more {
            self.to_end = Some(None);
        }
        self.select(usize::MAX);
    }

    fn step(&mut self, delta: isize) {
        self.select(self.selected.saturating_add_signed(delta));
    }

    /// Forgets what was loaded: the screen closed.
    fn clear(&mut self) {
        self.pages.clear();
        self.inflight.clear();
        self.to_end = None;
        self.search = None;
        self.deleting = None;
    }

    /// A new query (or the screen opened): from the top, the old rows shown until the new
    /// ones arrive.
    fn restart(&mut self) {
        self.reload();
        self.to_end = None;
        self.query_since = self.generation;
        self.selected = 0;
        self.top = 0;
        self.variant = 0;
    }

    /// Reads the rows around the selection again (after a delete, or a task shown changed),
    /// keeping the place; the rows shown stay until their page is read again.
    pub(super) fn reload(&mut self) {
        self.generation += 1;
        self.inflight.clear();
        self.to_end = self.to_end.map(|_| None);
        self.error = None;
    }

    /// The pages the view needs: those under the list of `height` rows, and a margin.
    fn wanted(&self, height: usize) -> RangeInclusive<usize> {
        let top = self.top_for(height);
        let first = top.saturating_sub(MARGIN) / PAGE;
        let end = top + height.max(1) + MARGIN;
        let end = self.total.map_or(end, |t| end.min(t));
        first..=(end.saturating_sub(1) / PAGE).max(first)
    }

    /// Drops pages and requests far from the view, and returns the pages to ask for (their
    /// request numbers from `next_id`): those needed, neither loaded nor asked for yet.
    fn fetch(&mut self, height: usize, mut next_id: impl FnMut() -> u64) -> Vec<(u64, usize)> {
        self.top = self.top_for(height);
        let wanted = self.wanted(height);
        let keep = wanted.start().saturating_sub(1)..=wanted.end() + 1;
        self.pages.retain(|n, _| keep.contains(n));
        self.inflight.retain(|n, _| keep.contains(n));
        if self.error.is_some() {
            return Vec::new();
        }
        let mut asks = Vec::new();
        if self.to_end == Some(None) {
            let req = next_id();
            self.to_end = Some(Some(req));
            asks.push((req, END));
        }
        for n in wanted {
            let loaded = self
                .pages
                .get(&n)
                .is_some_and(|p| p.generation == self.generation);
            if !loaded && !self.inflight.contains_key(&n) {
                let req = next_id();
                self.inflight.insert(n, req);
                asks.push((req, n * PAGE));
            }
        }
        asks
    }

    /// Takes in a reply; false when it was not wanted any more (or never).
    fn take(&mut self, req: u64, result: Result<HistoryPage, String>) -> bool {
        if self.to_end == Some(Some(req)) {
            self.to_end = None;
            match result {
                Ok(page) => {
                    (self.total, self.more) = (Some(page.total), page.more);
                    self.scoped = page.scoped;
                    self.counted_since = self.query_since;
                    self.select(usize::MAX);
                }
                Err(why) => self.error = Some(why),
            }
            return true;
        }
        let Some(n) = self
            .inflight
            .iter()
            .find_map(|(n, r)| (*r == req).then_some(*n))
        else {
            return false;
        };
        self.inflight.remove(&n);
        match result {
            Ok(page) => {
                let (generation, since) = (self.generation, self.query_since);
                self.pages.retain(|_, p| p.generation >= since);
                // A search counted only so far from each page: a page nearer the top
                // says less, not that fewer match.
                let same_query = self.counted_since == since;
                (self.total, self.more) = match self.total {
                    Some(before) if same_query && page.more && before > page.total => {
                        (Some(before), self.more)
                    }
                    _ => (Some(page.total), page.more),
                };
                self.scoped = page.scoped;
                self.counted_since = since;
                self.pages.insert(
                    n,
                    Page {
                        generation,
                        entries: page.entries,
                    },
                );
                self.select(self.selected);
                let images = self.selected_entry().map_or(0, |e| e.images.len());
                if self.variant >= images {
                    self.variant = 0;
                }
            }
            Err(why) => self.error = Some(why),
        }
        true
    }
}

/// The next value of an optional filter: none, each value in turn, none again.
fn cycle_filter<T: Copy + PartialEq>(all: &[T], current: Option<T>) -> Option<T> {
    match current.and_then(|c| all.iter().position(|x| *x == c)) {
        None => all.first().copied(),
        Some(i) => all.get(i + 1).copied(),
    }
}

impl App {
    /// Rows of the history list on this screen.
    pub(super) fn history_rows(&self) -> usize {
        layout::history(self.area).rows.height as usize
    }

    /// The selected entry, and the image the preview shows of it, if it has one.
    pub fn history_image(&self) -> Option<(&Entry, &Image)> {
        let entry = self.history.selected_entry()?;
        Some((entry, entry.images.get(self.history.variant)?))
    }

    pub(super) fn open_history(&mut self) {
        self.screen = Screen::History;
        self.fullscreen = false;
        self.history.clear();
        self.history.total = None;
        self.history.restart();
    }

    pub(super) fn close_history(&mut self) {
        self.screen = Screen::Main;
        self.fullscreen = false;
        self.history.clear();
    }

    /// Asks for the pages the history screen lacks (after every update while it is shown).
    pub(super) fn fetch_history(&mut self) {
        let rows = self.history_rows();
        let mut next = self.next_id;
        let asks = self.history.fetch(rows, || {
            next += 1;
            next
        });
        self.next_id = next;
        for (req, offset) in asks {
            self.emit(Effect::LoadHistory {
                req,
                query: self.history.query.clone(),
                offset,
                limit: PAGE,
            });
        }
    }

    /// Whether `action` changes entries the history screen shows (the worker wrote the
    /// database before sending it): a new task, a status, a saved image.
    pub(super) fn changes_history(&self, action: &Action) -> bool {
        if self.screen != Screen::History {
            return false;
        }
        match action {
            Action::Submitted { result, .. } => result.is_ok(),
            Action::TaskUpdate { record, .. } => self.history.is_news(record),
            Action::ImageSaved { task_id, .. } => self.history.shows(task_id),
            _ => false,
        }
    }

    pub(super) fn on_history_loaded(
        &mut self,
        req: u64,
        result: Result<HistoryPage, String>,
    ) -> bool {
        self.screen == Screen::History && self.history.take(req, result)
    }

    /// Keys on the history screen (no dialog open, not full screen).
    pub(super) fn history_key(&mut self, key: KeyEvent, command: Anywhere) -> bool {
        if let Some(input) = self.history.search.take() {
            return self.search_key(input, key);
        }
        // A key may retry a page that could not be read.
        self.history.error = None;
        if key.code == KeyCode::Esc && self.message.is_some() {
            self.message = None;
            return true;
        }
        match self.act_in(Context::History, &key, command) {
            Some(Act::Back) => self.close_history(),
            Some(Act::Search) => {
                let mut input = LineInput::new();
                input.insert_str(self.history.query.search.as_deref().unwrap_or(""));
                self.history.search = Some(input);
            }
            Some(Act::StatusFilter) => {
                let status = cycle_filter(&StatusFilter::ALL, self.history.query.status);
                self.history.query.status = status;
                self.history.restart();
            }
            Some(Act::AspectFilter) => {
                self.history.query.size = cycle_filter(&Size::ALL, self.history.query.size);
                self.history.restart();
            }
            Some(Act::PrevVariant) => return self.history_variant(-1),
            Some(Act::NextVariant) => return self.history_variant(1),
            Some(act) => return self.entry_key(act) || self.history_move(act),
            None => return self.screen_command(command),
        }
        true
    }

    /// The anywhere commands that work on the history and account screens too (the key of
    /// the screen itself closes it: `act_in`); false for any other key.
    pub(super) fn screen_command(&mut self, command: Anywhere) -> bool {
        match command.map(|(command, _)| command) {
            Some(Command::History) => {
                self.close_account();
                self.open_history();
            }
            Some(Command::Account) => self.open_account(),
            Some(Command::Help) => self.open_help(),
            Some(Command::Refresh) => self.refresh_credits(),
            Some(Command::Redraw) => self.screen_epoch += 1,
            _ => return false,
        }
        true
    }

    /// The moves of the list; false for an act that is none of them.
    fn history_move(&mut self, act: Act) -> bool {
        let page = self.history_rows().max(1) as isize;
        let before = (self.history.selected, self.history.top);
        match act {
            Act::Up => self.history.step(-1),
            Act::Down => self.history.step(1),
            Act::PageUp => {
                self.history.step(-page);
                self.history.top = self.history.top.saturating_sub(page as usize);
            }
            Act::PageDown => {
                self.history.step(page);
                self.history.top += page as usize;
            }
            Act::First => self.history.select(0),
            Act::Last => self.history.select_last(),
            _ => return false,
        }
        self.history.top = self.history.top_for(page as usize);
        before != (self.history.selected, self.history.top)
    }

    /// Typing in the search line: every change asks again; Enter keeps the search, Esc
    /// clears it; the list moves meanwhile.
    fn search_key(&mut self, mut input: LineInput, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Enter => return true,
            KeyCode::Esc => {
                self.history.query.newest = None;
                if self.history.query.search.take().is_some() {
                    self.history.restart();
                }
                return true;
            }
            KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => {
                self.history.search = Some(input);
                let act = match key.code {
                    KeyCode::Up => Act::Up,
                    KeyCode::Down => Act::Down,
                    KeyCode::PageUp => Act::PageUp,
                    _ => Act::PageDown,
                };
                return self.history_move(act);
            }
            _ => {}
        }
        let changed = input.handle(&key);
        self.set_search(input.text());
        self.history.search = Some(input);
        changed
    }

    fn set_search(&mut self, text: &str) {
        let search = Some(text.to_owned()).filter(|t| !t.trim().is_empty());
        if search != self.history.query.search {
            // A text too short for the search index is looked for among the newest entries
            // only, so that each key costs the same at any size of history.
            self.history.query.newest = search
                .as_deref()
                .is_some_and(crate::store::is_short)
                .then_some(crate::store::SHORT_SEARCH_SCOPE);
            self.history.query.search = search;
            self.history.restart();
        }
    }

    pub(super) fn history_paste(&mut self, text: &str) -> bool {
        if self.overlay.is_some() || self.fullscreen {
            return false;
        }
        let Some(mut input) = self.history.search.take() else {
            return false;
        };
        input.insert_str(text.trim());
        self.set_search(input.text());
        self.history.search = Some(input);
        true
    }

    pub(super) fn history_mouse(&mut self, mouse: MouseEvent) -> bool {
        if self.overlay.is_some() || self.fullscreen {
            return false;
        }
        let rows = layout::history(self.area).rows;
        let at = Position::new(mouse.column, mouse.row);
        let before = (self.history.selected, self.history.top);
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) if rows.contains(at) => {
                let top = self.history.top_for(rows.height as usize);
                let row = top + usize::from(at.y - rows.y);
                if self.history.total.is_some_and(|t| row < t) {
                    self.history.select(row);
                }
            }
            MouseEventKind::ScrollDown => self.history.step(1),
            MouseEventKind::ScrollUp => self.history.step(-1),
            _ => return false,
        }
        self.history.top = self.history.top_for(rows.height as usize);
        before != (self.history.selected, self.history.top)
    }

    pub(super) fn history_variant(&mut self, delta: isize) -> bool {
        let n = self.history.selected_entry().map_or(0, |e| e.images.len());
        if n < 2 {
            return false;
        }
        self.history.variant =
            (self.history.variant as isize + delta).rem_euclid(n as isize) as usize;
        true
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
