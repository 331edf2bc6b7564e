//! Stored text as the screen and the terminal get it.

use std::borrow::Cow;

/// `text` with control characters escaped (`\n`, `\t`, `\u{1b}`…): a prompt from the
/// database must not move the cursor or change colours when printed.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("a\nb\t\u{1b}[31mc\u{7f}"), "a\\nb\\t\\u{1b}[31mc\\u{7f}");
        assert!(matches!(escape_controls("plain é 字"), Cow::Borrowed(_)));
    }
}
