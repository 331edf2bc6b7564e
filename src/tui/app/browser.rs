//! The file browser that adds a reference or a mask: a folder listing (read by the worker),
//! filtered to the allowed image formats and by what the person types.

use std::path::PathBuf;

use crate::tui::action::DirEntry;
use crate::tui::app::line::LineInput;
use crate::tui::app::refs::Slot;

#[derive(Debug, Clone, PartialEq)]
pub struct Browser {
    pub slot: Slot,
    pub dir: PathBuf,
    /// `None` while the listing is being read.
    pub listing: Option<Result<Vec<DirEntry>, String>>,
    pub filter: LineInput,
    /// Index into [`Browser::visible`].
    pub selected: usize,
    /// The listing request this browser waits for; older answers are dropped.
    pub req: u64,
}

/// A row of the browser: the parent folder, or a listed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row<'a> {
    Parent,
    Entry(&'a DirEntry),
}

impl Browser {
    pub fn new(slot: Slot, dir: PathBuf, req: u64) -> Browser {
        Browser {
            slot,
            dir,
            listing: None,
            filter: LineInput::new(),
            selected: 0,
            req,
        }
    }

    /// The rows shown: `..` (when there is a parent and no filter), then the entries whose
    /// name contains the filter, ignoring case.
    pub fn visible(&self) -> Vec<Row<'_>> {
        let needle = self.filter.text().to_lowercase();
        let mut rows = Vec::new();
        if needle.is_empty() && self.dir.parent().is_some() {
            rows.push(Row::Parent);
        }
        if let Some(Ok(entries)) = &self.listing {
            rows.extend(
                entries
                    .iter()
                    .filter(|e| needle.is_empty() || e.name.to_lowercase().contains(&needle))
                    .map(Row::Entry),
            );
        }
        rows
    }

    pub fn selected_row(&self) -> Option<Row<'_>> {
        self.visible().get(self.selected).copied()
    }

    pub fn step(&mut self, delta: isize) {
        let n = self.visible().len();
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(n.saturating_sub(1));
    }

    /// After the filter changed: keep the selection inside the list.
    pub fn clamp(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    /// Switches to another folder; the caller asks for its listing with `req`.
    pub fn enter(&mut self, dir: PathBuf, req: u64) {
        self.dir = dir;
        self.listing = None;
        self.filter.clear();
        self.selected = 0;
        self.req = req;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, is_dir: bool) -> DirEntry {
        DirEntry {
            name: name.into(),
            is_dir,
            bytes: 10,
        }
    }

    #[test]
    fn filters_by_name_ignoring_case_and_hides_parent_while_filtering() {
        let mut b = Browser::new(Slot::Reference, PathBuf::from("/w"), 1);
        b.listing = Some(Ok(vec![
            entry("assets", true),
            entry("Sunset.png", false),
            entry("leaf.jpg", false),
        ]));
        assert_eq!(b.visible().len(), 4);
        b.filter.insert_str("SUN");
        b.clamp();
        assert_eq!(b.visible(), vec![Row::Entry(&entry("Sunset.png", false))]);
    }
}
