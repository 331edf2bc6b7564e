//! A one-line text input (URL, key, filter): a buffer, a cursor, and the text deleted last,
//! with the keys of a shell's readline.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// Cursor position in characters.
    cursor: usize,
    /// What Ctrl-U, Ctrl-K, Ctrl-W or Alt-D deleted last, for Ctrl-Y.
    killed: String,
}

/// Shows only the length: the same input holds an API key.
impl std::fmt::Debug for LineInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LineInput({} chars)", self.len())
    }
}

impl LineInput {
    pub fn new() -> LineInput {
        LineInput::default()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn len(&self) -> usize {
        self.text.chars().count()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
    }

    /// Deletes the characters `from..to` (cursor positions) and keeps them for Ctrl-Y.
    fn kill(&mut self, from: usize, to: usize) {
        let (a, b) = (self.byte_at(from), self.byte_at(to));
        if a < b {
            self.killed = self.text[a..b].to_owned();
            self.text.replace_range(a..b, "");
            self.cursor = from;
        }
    }

    /// Where the word before the cursor starts (readline: words end at blanks for Ctrl-W,
    /// at anything not alphanumeric for Alt-B).
    fn word_start(&self, blank_only: bool) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let is_word = |c: char| {
            if blank_only {
                !c.is_whitespace()
            } else {
                c.is_alphanumeric()
            }
        };
        let mut at = self.cursor.min(chars.len());
        while at > 0 && !is_word(chars[at - 1]) {
            at -= 1;
        }
        while at > 0 && is_word(chars[at - 1]) {
            at -= 1;
        }
        at
    }

    /// Where the word after the cursor ends.
    fn word_end(&self) -> usize {
        let chars: Vec<char> = self.text.chars().collect();
        let mut at = self.cursor.min(chars.len());
        while at < chars.len() && !chars[at].is_alphanumeric() {
            at += 1;
        }
        while at < chars.len() && chars[at].is_alphanumeric() {
            at += 1;
        }
        at
    }

    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars().filter(|c| !c.is_control()) {
            self.insert(c);
        }
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    fn insert(&mut self, c: char) {
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    /// Handles an editing key (readline's: Ctrl-U/K delete to the start/end, Ctrl-W the
    /// word before, Alt-D the word after, Ctrl-Y pastes what was deleted, Ctrl-A/E/B/F and
    /// Alt-B/F move, Ctrl-D deletes a character); false when the key is not one of them.
    pub fn handle(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Char('u') if ctrl => self.kill(0, self.cursor),
            KeyCode::Char('k') if ctrl => self.kill(self.cursor, self.len()),
            KeyCode::Char('w') if ctrl => self.kill(self.word_start(true), self.cursor),
            KeyCode::Backspace if alt => self.kill(self.word_start(false), self.cursor),
            KeyCode::Char('d') if alt => self.kill(self.cursor, self.word_end()),
            KeyCode::Char('y') if ctrl => {
                let killed = self.killed.clone();
                killed.chars().for_each(|c| self.insert(c));
            }
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.len(),
            KeyCode::Char('b') if ctrl => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Char('f') if ctrl => self.cursor = (self.cursor + 1).min(self.len()),
            KeyCode::Char('b') if alt => self.cursor = self.word_start(false),
            KeyCode::Char('f') if alt => self.cursor = self.word_end(),
            KeyCode::Char('d') if ctrl && self.cursor < self.len() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Char(c) if !ctrl && !alt => self.insert(c),
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Delete if self.cursor < self.len() => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.len()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.len(),
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_in_the_middle_of_multibyte_text() {
        let mut l = LineInput::new();
        l.insert_str("héllo\n");
        assert_eq!(l.text(), "héllo");
        l.handle(&key(KeyCode::Home));
        l.handle(&key(KeyCode::Right));
        l.handle(&key(KeyCode::Right));
        l.handle(&key(KeyCode::Backspace));
        assert_eq!(l.text(), "hllo");
        l.handle(&key(KeyCode::Char('é')));
        assert_eq!((l.text(), l.cursor()), ("héllo", 2));
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn alt(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)
    }

    #[test]
    fn readline_keys_kill_and_yank() {
        let mut l = LineInput::new();
        l.insert_str("https://example.com/a cat.png");
        l.handle(&ctrl('w'));
        assert_eq!(l.text(), "https://example.com/a ");
        l.handle(&ctrl('y'));
        assert_eq!(l.text(), "https://example.com/a cat.png");
        l.handle(&ctrl('a'));
        l.handle(&alt('f'));
        assert_eq!(l.cursor(), 5, "after `https`");
        l.handle(&ctrl('k'));
        assert_eq!(l.text(), "https");
        l.handle(&ctrl('b'));
        l.handle(&ctrl('u'));
        assert_eq!((l.text(), l.cursor()), ("s", 0));
        l.handle(&ctrl('y'));
        assert_eq!(l.text(), "https");
        l.handle(&ctrl('a'));
        l.handle(&ctrl('d'));
        assert_eq!(l.text(), "ttps");
        l.handle(&ctrl('e'));
        l.handle(&alt('b'));
        l.handle(&alt('d'));
        assert_eq!((l.text(), l.cursor()), ("", 0));
    }
}
