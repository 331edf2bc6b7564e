//! The prompt editor's keys: the editor crate's own bindings (which follow Emacs), with the
//! keys a shell's readline gives another meaning moved to it: Ctrl-U deletes to the start of
//! the line, Ctrl-R searches earlier prompts, Up/Down and Ctrl-P/N on the first/last line
//! recall them; undo and redo sit on keys that mean nothing else in a shell.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use ratatui_textarea::CursorMove;

use super::{App, Focus};

/// What a key does in the editor beyond the crate's own bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Undo,
    Redo,
    /// Ctrl-U: delete from the start of the line to the cursor (readline's
    /// `unix-line-discard`; the editor crate has it as Ctrl-J).
    KillToStart,
    /// Alt-K: clear the whole prompt (undo brings it back).
    Clear,
    Newline,
    /// Alt-F: to the end of the word (readline's `forward-word`; the editor crate's goes to
    /// the start of the next one).
    WordEnd,
    Older,
    Newer,
    Search,
    Leave,
}

fn edit_for(key: &KeyEvent) -> Option<Edit> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        // Ctrl-_ is 0x1F on the wire, which crossterm reports as Ctrl-7; terminals that
        // report keys in full (kitty's protocol) send Ctrl-_ or Ctrl-/, which xterm also
        // maps to 0x1F.
        KeyCode::Char('z' | '_' | '7' | '/') if ctrl && !alt => Edit::Undo,
        // Alt-_ is Esc then `_`; some terminals add Shift, or report Alt-Shift-- instead.
        KeyCode::Char('_') if alt && !ctrl => Edit::Redo,
        KeyCode::Char('-') if alt && !ctrl && key.modifiers.contains(KeyModifiers::SHIFT) => {
            Edit::Redo
        }
        KeyCode::Char('u') if ctrl && !alt => Edit::KillToStart,
        KeyCode::Char('k' | 'K') if alt && !ctrl => Edit::Clear,
        KeyCode::Char('j') if ctrl && !alt => Edit::Newline,
        KeyCode::Char('f') if alt && !ctrl => Edit::WordEnd,
        KeyCode::Char('r') if ctrl && !alt => Edit::Search,
        KeyCode::Char('p') if ctrl && !alt => Edit::Older,
        KeyCode::Char('n') if ctrl && !alt => Edit::Newer,
        KeyCode::Up if key.modifiers.is_empty() => Edit::Older,
        KeyCode::Down if key.modifiers.is_empty() => Edit::Newer,
        KeyCode::Esc => Edit::Leave,
        _ => return None,
    })
}

impl App {
    /// A key in the prompt editor; true when anything on screen changed.
    pub(super) fn prompt_key(&mut self, key: KeyEvent) -> bool {
        if self.recall.search.is_some() {
            return self.recall_search_key(key);
        }
        let before = (
            self.prompt.cursor(),
            self.prompt.selection_range(),
            self.prompt.scroll_offset(),
        );
        let modified = match edit_for(&key) {
            Some(Edit::Undo) => self.prompt.undo(),
            Some(Edit::Redo) => self.prompt.redo(),
            Some(Edit::KillToStart) => self.prompt.delete_line_by_head(),
            Some(Edit::Clear) => self.prompt.clear(),
            Some(Edit::Newline) => {
                self.prompt.insert_newline();
                true
            }
            Some(Edit::WordEnd) => {
                let (row, col) = self.word_end();
                self.prompt.move_cursor(CursorMove::Jump(row, col));
                false
            }
            Some(Edit::Search) => return self.open_search(),
            // Up on the first line (Down on the last) leaves the text for the earlier
            // prompts; elsewhere it moves the cursor.
            Some(Edit::Older) if self.prompt.cursor().0 == 0 => return self.recall_older(),
            Some(Edit::Newer) if self.on_last_line() && self.recall.position().is_some() => {
                return self.recall_newer();
            }
            // Leaves the editor, so that single-letter keys (q, ?, c) work.
            Some(Edit::Leave) => {
                self.set_focus(Focus::Tasks);
                return true;
            }
            Some(Edit::Older | Edit::Newer) | None => self.prompt.input(key),
        };
        let after = (
            self.prompt.cursor(),
            self.prompt.selection_range(),
            self.prompt.scroll_offset(),
        );
        modified || before != after
    }

    /// Where readline's `forward-word` stops: past the blanks and punctuation (line ends
    /// included), then past the word.
    fn word_end(&self) -> (u16, u16) {
        let lines = self.prompt.lines();
        let cursor = self.prompt.cursor();
        let (mut row, mut col) = (cursor.0, cursor.1);
        let chars = |row: usize| -> Vec<char> { lines[row].chars().collect() };
        let mut line = chars(row);
        loop {
            match line.get(col) {
                Some(c) if c.is_alphanumeric() => break,
                Some(_) => col += 1,
                None if row + 1 < lines.len() => {
                    row += 1;
                    col = 0;
                    line = chars(row);
                }
                None => break,
            }
        }
        while line.get(col).is_some_and(|c| c.is_alphanumeric()) {
            col += 1;
        }
        let cell = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        (cell(row), cell(col))
    }

    fn on_last_line(&self) -> bool {
        self.prompt.cursor().0 + 1 >= self.prompt.lines().len()
    }
}

#[cfg(test)]
#[path = "editor_tests.rs"]
mod tests;
