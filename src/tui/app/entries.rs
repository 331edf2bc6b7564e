//! Adding references from what was typed or pasted: local paths (checked off the render
//! path), URLs, several at once (one per line).

use std::path::{Path, PathBuf};

use super::refs::{Slot, label_for};
use super::{App, Focus, Overlay};
use crate::api::input::ImageSource;
use crate::tui::action::{CheckedRef, Effect};

impl App {
    /// Adds a local file; it is checked off the render path before it counts.
    pub(super) fn add_path(&mut self, slot: Slot, path: PathBuf) {
        let id = self.id();
        let label = label_for(&path, &self.config.start_dir);
        if self.refs.add(slot, id, label).is_ok() {
            self.emit(Effect::CheckReference {
                id,
                entry: path.display().to_string(),
            });
        }
        self.set_focus(Focus::References);
    }

    /// Adds what was typed or pasted, one entry per line: as many as the slot takes (one for
    /// the mask), saying which lines were left out and why.
    pub(super) fn add_entries(&mut self, slot: Slot, text: &str, base: &Path) {
        let entries: Vec<&str> = text
            .lines()
            .map(clean_entry)
            .filter(|l| !l.is_empty())
            .collect();
        let mut left_out = Vec::new();
        let mut why = String::new();
        for (i, entry) in entries.iter().enumerate() {
            let room = match self.refs.can_add(slot) {
                Ok(()) if slot == Slot::Mask && i > 0 => Err("a task takes one mask".to_owned()),
                other => other,
            };
            match room {
                Ok(()) if left_out.is_empty() => self.add_entry(slot, entry, base),
                Ok(()) => left_out.push(*entry),
                Err(e) => {
                    if left_out.is_empty() {
                        why = e;
                    }
                    left_out.push(*entry);
                }
            }
        }
        if left_out.is_empty() {
            return;
        }
        self.set_focus(Focus::References);
        let added = entries.len() - left_out.len();
        let names: Vec<String> = left_out
            .iter()
            .map(|e| {
                Path::new(e)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| (*e).to_owned())
            })
            .collect();
        self.refs.refusal = Some(if entries.len() == 1 {
            why
        } else {
            format!(
                "added {added} of {}; left out {}: {why}",
                entries.len(),
                names.join(", ")
            )
        });
    }

    /// Adds one entry: a URL at once, a path (relative to `base`) after its check.
    fn add_entry(&mut self, slot: Slot, text: &str, base: &Path) {
        if text.starts_with("http://") || text.starts_with("https://") {
            self.set_focus(Focus::References);
            match ImageSource::parse(text) {
                Ok(source) => {
                    let id = self.id();
                    if self.refs.add(slot, id, text.to_owned()).is_ok() {
                        self.refs.checked(
                            id,
                            Ok(CheckedRef {
                                source,
                                dims: None,
                                bytes: None,
                            }),
                        );
                    }
                }
                Err(e) => self.refs.refusal = Some(e.to_string()),
            }
        } else {
            let path = base.join(text);
            self.add_path(slot, path);
        }
    }

    pub(super) fn on_paste(&mut self, text: &str) -> bool {
        // Terminals (and tmux) end pasted lines with CR as often as with LF.
        let text = &text.replace("\r\n", "\n").replace('\r', "\n");
        let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
        match &mut self.overlay {
            // Several lines in the URL dialog: one entry each.
            Some(Overlay::Url { slot, base, .. }) if lines > 1 => {
                let (slot, base) = (*slot, base.clone());
                self.overlay = None;
                self.add_entries(slot, text, &base);
            }
            Some(Overlay::Url { input, .. } | Overlay::KeyPrompt { input, .. }) => {
                input.insert_str(text.trim())
            }
            Some(Overlay::Browser(b)) => {
                b.filter.insert_str(text.trim());
                b.clamp();
            }
            Some(_) => return false,
            None if self.fullscreen => return false,
            None if self.focus == Focus::Prompt => {
                self.prompt.insert_str(text);
            }
            None if self.focus == Focus::References => {
                let base = self.config.start_dir.clone();
                self.add_entries(Slot::Reference, text, &base);
            }
            None => return false,
        }
        true
    }
}

/// A pasted or typed entry as a path or URL: trimmed, unquoted, `file://` dropped (what file
/// managers put on the clipboard).
fn clean_entry(line: &str) -> &str {
    let line = line.trim();
    let line = ['\'', '"']
        .iter()
        .find_map(|q| line.strip_prefix(*q).and_then(|l| l.strip_suffix(*q)))
        .unwrap_or(line);
    line.strip_prefix("file://").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::clean_entry;

    #[test]
    fn pasted_entries_lose_quotes_and_file_urls() {
        assert_eq!(clean_entry("  '/a b/c.png' "), "/a b/c.png");
        assert_eq!(clean_entry("\"x.jpg\""), "x.jpg");
        assert_eq!(clean_entry("file:///tmp/x.png"), "/tmp/x.png");
        assert_eq!(clean_entry("https://x/y.png"), "https://x/y.png");
    }
}
