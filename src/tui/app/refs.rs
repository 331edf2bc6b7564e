//! The reference images and the mask: what was added, what is still being checked, and why
//! the last addition was refused.

use std::path::Path;

use crate::api::input::{ImageSource, check_set};
use crate::api::types::MAX_REFERENCES;
use crate::tui::action::CheckedRef;

#[derive(Debug, Clone, PartialEq)]
pub enum RefState {
    /// Being checked off the render path (exists, format, size, pixel size).
    Checking,
    Ready(CheckedRef),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefEntry {
    pub id: u64,
    /// What the person gave (a path shown relative to the start folder, or a URL).
    pub label: String,
    pub state: RefState,
}

impl RefEntry {
    pub fn source(&self) -> Option<&ImageSource> {
        match &self.state {
            RefState::Ready(c) => Some(&c.source),
            RefState::Checking => None,
        }
    }
}

/// What an addition is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Reference,
    Mask,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct References {
    pub entries: Vec<RefEntry>,
    pub mask: Option<RefEntry>,
    /// Index into `entries`; `entries.len()` is the mask row.
    pub selected: usize,
    /// Why the last addition was refused, shown in the pane until the next change.
    pub refusal: Option<String>,
}

impl References {
    pub fn rows(&self) -> usize {
        self.entries.len() + 1
    }

    pub fn is_checking(&self) -> bool {
        self.entries
            .iter()
            .chain(self.mask.as_ref())
            .any(|e| e.state == RefState::Checking)
    }

    /// Whether one more entry may go in `slot`; the refusal says why not.
    pub fn can_add(&self, slot: Slot) -> Result<(), String> {
        match slot {
            Slot::Reference if self.entries.len() >= MAX_REFERENCES => Err(format!(
                "{MAX_REFERENCES} references is the most the service takes: remove one first (d)"
            )),
            Slot::Reference if self.mask.is_some() && !self.entries.is_empty() => Err(
                "a mask can only go with a single reference: remove the mask first to add more"
                    .into(),
            ),
            Slot::Mask if self.entries.len() > 1 => Err(
                "a mask can only go with a single reference: keep one reference to use a mask"
                    .into(),
            ),
            _ => Ok(()),
        }
    }

    /// Adds an entry being checked.
    pub fn add(&mut self, slot: Slot, id: u64, label: String) -> Result<(), String> {
        if let Err(why) = self.can_add(slot) {
            self.refusal = Some(why.clone());
            return Err(why);
        }
        self.refusal = None;
        let entry = RefEntry {
            id,
            label,
            state: RefState::Checking,
        };
        match slot {
            Slot::Reference => {
                self.entries.push(entry);
                self.selected = self.entries.len() - 1;
            }
            Slot::Mask => {
                self.mask = Some(entry);
                self.selected = self.entries.len();
            }
        }
        Ok(())
    }

    /// The answer of a check: the entry becomes ready, or is removed with the reason shown.
    pub fn checked(&mut self, id: u64, result: Result<CheckedRef, String>) -> bool {
        let slot = if let Some(i) = self.entries.iter().position(|e| e.id == id) {
            Some((Slot::Reference, i))
        } else if self.mask.as_ref().is_some_and(|m| m.id == id) {
            Some((Slot::Mask, 0))
        } else {
            None
        };
        let Some((slot, index)) = slot else {
            return false;
        };
        match result {
            Ok(checked) => {
                let entry = match slot {
                    Slot::Reference => self.entries.get_mut(index),
                    Slot::Mask => self.mask.as_mut(),
                };
                if let Some(e) = entry {
                    e.state = RefState::Ready(checked);
                }
            }
            Err(why) => {
                match slot {
                    Slot::Reference => {
                        self.entries.remove(index);
                    }
                    Slot::Mask => self.mask = None,
                }
                self.selected = self.selected.min(self.entries.len());
                self.refusal = Some(why);
            }
        }
        true
    }

    pub fn remove_selected(&mut self) -> bool {
        self.refusal = None;
        if self.selected < self.entries.len() {
            self.entries.remove(self.selected);
            self.selected = self.selected.min(self.entries.len().saturating_sub(1));
            true
        } else {
            self.mask.take().is_some()
        }
    }

    pub fn select(&mut self, delta: isize) {
        let last = self.rows() - 1;
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Moves the selected reference up (`-1`) or down (`1`); the mask row does not move.
    pub fn move_selected(&mut self, delta: isize) -> bool {
        let from = self.selected;
        if from >= self.entries.len() {
            return false;
        }
        let Some(to) = from
            .checked_add_signed(delta)
            .filter(|t| *t < self.entries.len())
        else {
            return false;
        };
        self.entries.swap(from, to);
        self.selected = to;
        true
    }

    /// The ready sources, checked as a set (count, mask rule).
    pub fn sources(&self) -> Result<(Vec<ImageSource>, Option<ImageSource>), String> {
        if self.is_checking() {
            return Err("a reference is still being checked: submit again in a moment".into());
        }
        let refs: Vec<ImageSource> = self
            .entries
            .iter()
            .filter_map(|e| e.source().cloned())
            .collect();
        let mask = self.mask.as_ref().and_then(|m| m.source().cloned());
        check_set(&refs, mask.as_ref()).map_err(|e| e.to_string())?;
        Ok((refs, mask))
    }
}

/// How a chosen path is shown: relative to the folder the app started in, when inside it.
pub fn label_for(path: &Path, start_dir: &Path) -> String {
    path.strip_prefix(start_dir)
        .ok()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(label: &str) -> CheckedRef {
        CheckedRef {
            source: ImageSource::Url(label.into()),
            dims: None,
            bytes: None,
        }
    }

    #[test]
    fn sixth_entry_and_mask_rules_are_refused_in_place() {
        let mut r = References::default();
        for id in 1..=5 {
            r.add(Slot::Reference, id, format!("https://x/{id}.png"))
                .unwrap();
            assert!(r.checked(id, Ok(ready("u"))));
        }
        assert!(r.add(Slot::Reference, 6, "https://x/6.png".into()).is_err());
        assert!(
            r.refusal
                .as_deref()
                .unwrap_or_default()
                .contains("most the service takes")
        );
        assert!(r.add(Slot::Mask, 7, "m.png".into()).is_err());
        assert_eq!(r.entries.len(), 5);
    }

    #[test]
    fn a_failed_check_removes_the_entry_and_says_why() {
        let mut r = References::default();
        r.add(Slot::Reference, 1, "big.png".into()).unwrap();
        assert!(r.is_checking());
        r.checked(1, Err("big.png is 30.0 MB".into()));
        assert!(r.entries.is_empty());
        assert_eq!(r.refusal.as_deref(), Some("big.png is 30.0 MB"));
        assert!(!r.checked(99, Err("stale".into())));
    }

    #[test]
    fn reorders_within_bounds() {
        let mut r = References::default();
        for id in 1..=3 {
            r.add(Slot::Reference, id, id.to_string()).unwrap();
        }
        r.selected = 0;
        assert!(!r.move_selected(-1));
        assert!(r.move_selected(1));
        let order: Vec<_> = r.entries.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(order, ["2", "1", "3"]);
        assert_eq!(r.selected, 1);
    }

    #[test]
    fn labels_are_relative_to_the_start_folder() {
        assert_eq!(
            label_for(Path::new("/w/assets/a.png"), Path::new("/w")),
            "assets/a.png"
        );
        assert_eq!(
            label_for(Path::new("/other/a.png"), Path::new("/w")),
            "/other/a.png"
        );
    }
}
