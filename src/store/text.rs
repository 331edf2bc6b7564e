//! Stored text as the screen and the terminal get it.

use std::borrow::Cow;

/// `text` with control characters escaped (`\n`, `\t`, `\u{1b}`, `\u{9b}`…): a prompt from the
/// database must not move the cursor or change colours when printed. The bidirectional
/// overrides and isolates, and the line and paragraph separators, are escaped too: they
/// would reorder or break what is shown around them.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` as it may reach a terminal from the command line: every control character and
/// escape sequence shown escaped as [`escape_controls`] does, but line breaks kept, so that a
/// message of several lines still reads as lines. Every line the subcommands print goes
/// through it (see `cli::print`): a service's `msg`, a result URL or a file name can never
/// clear the screen, set the title or write the clipboard.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c != '\n' && needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Serialized JSON made as safe for a terminal as [`terminal_safe`] text while staying the
/// same JSON: serde_json escapes U+0000..U+001F but writes DEL, the C1 controls (U+009B is a
/// one-byte CSI) and the reordering characters raw; these become `\uXXXX` escapes. Outside
/// strings serialized JSON is ASCII with no controls, so only string contents change.
pub fn json_safe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(needs_escape) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            escape_controls("a\nb\t\u{1b}[31mc\u{7f}"),
            "a\\nb\\t\\u{1b}[31mc\\u{7f}"
        );
        assert!(matches!(escape_controls("plain é 字 🙂"), Cow::Borrowed(_)));
    }

    #[test]
    fn carriage_returns_nul_and_c1_controls_are_escaped() {
        // U+009B is the one-byte CSI some terminals obey.
        assert_eq!(escape_controls("x\r\0\u{9b}2Jy"), "x\\r\\u{0}\\u{9b}2Jy");
    }

    #[test]
    fn reordering_characters_are_escaped() {
        assert_eq!(
            escape_controls("a\u{202e}b\u{2066}c\u{2028}d"),
            "a\\u{202e}b\\u{2066}c\\u{2028}d"
        );
        // Joiners and ordinary punctuation nearby are left alone.
        assert!(matches!(
            escape_controls("a\u{200d}b\u{2030}"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn terminal_text_keeps_line_breaks_only() {
        assert_eq!(
            terminal_safe("a\nb\u{1b}]52;c;eA==\u{7}\r"),
            "a\nb\\u{1b}]52;c;eA==\\u{7}\\r"
        );
        assert!(matches!(terminal_safe("two\nlines é"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_stays_json_without_raw_controls() {
        let v = serde_json::json!({"msg": "x\u{1b}[2J\u{9b}1m\u{7f}\u{202e}y"});
        let text = v.to_string();
        let safe = json_safe(&text);
        assert!(
            !safe.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn escaped_text_has_no_control_characters_left() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let out = escape_controls(&all);
        assert!(!out.chars().any(needs_escape));
    }
}
