//! The API key, kept out of every log line, error message and screen.

use std::fmt;

/// An API key. `Debug` and `Display` show it masked; only [`ApiKey::expose`] gives the secret,
/// and only the request builder calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Trims the key; `None` for an empty one.
    pub fn new(key: impl Into<String>) -> Option<ApiKey> {
        let key = key.into().trim().to_owned();
        (!key.is_empty()).then_some(ApiKey(key))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// At most the first 3 and last 4 characters, and only when the key is long enough that
    /// they give little away.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        if chars.len() < 16 {
            return "•".repeat(8);
        }
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{head}…{tail}")
    }
}

/// The shortest run of the key's characters that counts as an echo of it: shorter runs occur
/// in ordinary words too often to be told apart from the key.
pub const MIN_ECHO: usize = 8;

/// `text` with every echo of `key` replaced by `<API key>`: the whole key, and any run of 8 or
/// more of its consecutive characters (a prefix, a suffix, a fragment). A key shorter than 8
/// characters is masked only where it stands alone as a word, and not at all below 4: a
/// one-letter key must not turn "task" into "tas<API key>".
pub fn scrub<'a>(text: &'a str, key: &str) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    const MASK: &str = "<API key>";
    let key = key.trim();
    if key.len() < MIN_ECHO {
        if key.chars().count() < 4 {
            return Cow::Borrowed(text);
        }
        let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut rest = text;
        while let Some(at) = rest.find(key) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + key.len()..].chars().next();
            out.push_str(&rest[..at]);
            if before.is_none_or(|c| !word(c)) && after.is_none_or(|c| !word(c)) {
                out.push_str(MASK);
                changed = true;
            } else {
                out.push_str(key);
            }
            rest = &rest[at + key.len()..];
        }
        out.push_str(rest);
        return if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(text)
        };
    }
    // Every window of MIN_ECHO bytes of the key: a run in the text starts only at one of them.
    let windows: std::collections::HashSet<&[u8]> = key.as_bytes().windows(MIN_ECHO).collect();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let (mut i, mut copied) = (0, 0);
    while i + MIN_ECHO <= bytes.len() {
        if !text.is_char_boundary(i) || !windows.contains(&bytes[i..i + MIN_ECHO]) {
            i += 1;
            continue;
        }
        // The longest run from here that is still part of the key.
        let mut end = i + MIN_ECHO;
        while end < bytes.len() && key.contains_bytes(&bytes[i..=end]) {
            end += 1;
        }
        if !text.is_char_boundary(end) {
            i += 1;
            continue;
        }
        out.push_str(&text[copied..i]);
        out.push_str(MASK);
        changed = true;
        copied = end;
        i = end;
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

trait ContainsBytes {
    fn contains_bytes(&self, needle: &[u8]) -> bool;
}

impl ContainsBytes for str {
    fn contains_bytes(&self, needle: &[u8]) -> bool {
        self.as_bytes().windows(needle.len()).any(|w| w == needle)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_long_and_short_keys() {
        let k = ApiKey::new("sk-test-0123456789abcdefghij1234").unwrap();
        assert_eq!(k.masked(), "sk-…1234");
        assert!(!format!("{k:?}").contains("0123456789"));
        let short = ApiKey::new(" k ").unwrap();
        assert_eq!(short.expose(), "k");
        assert!(!short.masked().contains('k'));
        assert!(ApiKey::new("  ").is_none());
    }

    #[test]
    fn every_echo_of_the_key_is_masked() {
        let key = "sk-live-0123456789abcdefXYZ";
        for echo in [
            "key sk-live-0123456789abcdefXYZ is invalid",
            "key sk-live-0123 is invalid",
            "key ...456789abcdefXYZ is invalid",
            "key 0123456789ab is invalid",
        ] {
            let out = scrub(echo, key);
            assert!(
                out.contains("<API key>") && out.ends_with(" is invalid"),
                "{out}"
            );
            assert!(
                !out.contains("01234567") && !out.contains("9abcdefX"),
                "{out}"
            );
        }
        // Short pieces that any text may hold stay.
        assert_eq!(
            scrub("task sk-l 0123 not found", key),
            "task sk-l 0123 not found"
        );
        assert_eq!(scrub("héllo wörld", key), "héllo wörld");
    }

    #[test]
    fn a_short_key_never_mangles_words() {
        assert_eq!(scrub("task t_1 not found", "k"), "task t_1 not found");
        assert_eq!(
            scrub("task t_1 not found", "task"),
            "<API key> t_1 not found"
        );
        assert_eq!(scrub("tasks t_1", "task"), "tasks t_1");
        assert_eq!(scrub("bad key abc1234!", "abc1234"), "bad key <API key>!");
    }
}
