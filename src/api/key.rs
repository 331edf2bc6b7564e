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

/// The shortest run of the key's characters masked wherever it appears, even inside a word.
pub const MIN_ECHO: usize = 8;

/// The shortest run of the key's characters masked where it stands as a token of its own.
pub const MIN_FRAGMENT: usize = 4;

/// Segments of letters longer than this are not taken for words (see [`scrub`]).
const LONGEST_WORD: usize = 12;

const MASK: &str = "<API key>";

/// `text` with every echo of `key` replaced by `<API key>`. The rule:
///
/// - A run of [`MIN_ECHO`] (8) or more consecutive characters of the key (the whole key, a
///   prefix, a suffix, a fragment) is masked wherever it appears, even inside a longer word.
/// - A run of 4 to 7 characters of the key is masked where it stands as a token: the
///   characters either side of it are not letters or digits, or are masked themselves, or
///   there are none (`…wxyz.`, `key=wxyz&`, `"wxyz"`, `sk-ab****`), and it holds at least one
///   character of the key's secret part.
/// - The key's secret part is every letter and digit of it outside its word-like segments. A
///   segment is a run of letters and digits between other characters (`sk`, `live` and
///   `0aB3…` in `sk-live-0aB3…`); it is word-like when it is letters only, at most 12 of
///   them, in lower case, upper case or capitalized.
///
/// So the last four characters of a random key are masked, while `live` or `test` in
/// ordinary text stay with the key `sk-live-…` or `test-key-…`. A key made of words only
/// ("task", "key", one letter) is masked as a run of 8 or more characters and nothing
/// shorter, so it never mangles ordinary text. A fragment of 4 to 7 characters glued to
/// other letters or digits (`wxyz` in `awxyzb`) is taken for a different word and kept.
pub fn scrub<'a>(text: &'a str, key: &str) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    let mut out = scrub_once(text, key);
    // A run masked on the right of a short one makes that one stand alone: look again until
    // nothing changes (a few rounds at most: each one masks what the last left standing).
    for _ in 0..8 {
        let next = match scrub_once(&out, key) {
            Cow::Borrowed(_) => break,
            Cow::Owned(next) => next,
        };
        out = Cow::Owned(next);
    }
    out
}

fn scrub_once<'a>(text: &'a str, key: &str) -> std::borrow::Cow<'a, str> {
    use std::borrow::Cow;
    let key = key.trim();
    if key.len() < MIN_FRAGMENT {
        return Cow::Borrowed(text);
    }
    let echoes = Echoes::of(key);
    let long = echoes.long_runs(text);
    let mut masked = echoes.short_runs(text, &long);
    if long.is_empty() && masked.is_empty() {
        return Cow::Borrowed(text);
    }
    masked.extend(long);
    masked.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (start, end) in masked {
        out.push_str(&text[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// What [`scrub`] looks for: the key, its 4-byte windows (a run starts only at one of them)
/// and which of its bytes are secret.
struct Echoes<'k> {
    key: &'k [u8],
    starts: std::collections::HashSet<&'k [u8]>,
    secret: Vec<bool>,
}

impl<'k> Echoes<'k> {
    fn of(key: &'k str) -> Echoes<'k> {
        let mut secret = vec![false; key.len()];
        let mut segment_start = None;
        for (at, c) in key.char_indices().chain([(key.len(), ' ')]) {
            match (c.is_alphanumeric(), segment_start) {
                (true, None) => segment_start = Some(at),
                (false, Some(from)) => {
                    if !word_like(&key[from..at]) {
                        secret[from..at].fill(true);
                    }
                    segment_start = None;
                }
                _ => {}
            }
        }
        Echoes {
            key: key.as_bytes(),
            starts: key.as_bytes().windows(MIN_FRAGMENT).collect(),
            secret,
        }
    }

    /// Where the longest run of the key's bytes starting at `i` ends (on a character
    /// boundary), if it is at least [`MIN_FRAGMENT`] bytes long.
    fn run_end(&self, text: &str, i: usize) -> Option<usize> {
        let bytes = text.as_bytes();
        if !text.is_char_boundary(i)
            || i + MIN_FRAGMENT > bytes.len()
            || !self.starts.contains(&bytes[i..i + MIN_FRAGMENT])
        {
            return None;
        }
        let mut end = i + MIN_FRAGMENT;
        while end < bytes.len() && self.position(&bytes[i..=end]).next().is_some() {
            end += 1;
        }
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        (end >= i + MIN_FRAGMENT).then_some(end)
    }

    /// Every position of `run` in the key.
    fn position<'r>(&'r self, run: &'r [u8]) -> impl Iterator<Item = usize> + 'r {
        self.key
            .windows(run.len())
            .enumerate()
            .filter(move |(_, w)| *w == run)
            .map(|(at, _)| at)
    }

    fn holds_secret(&self, run: &[u8]) -> bool {
        self.position(run)
            .any(|at| self.secret[at..at + run.len()].contains(&true))
    }

    /// The runs of [`MIN_ECHO`] or more bytes, longest first from the left.
    fn long_runs(&self, text: &str) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i + MIN_ECHO <= text.len() {
            match self.run_end(text, i) {
                Some(end) if end - i >= MIN_ECHO => {
                    runs.push((i, end));
                    i = end;
                }
                _ => i += 1,
            }
        }
        runs
    }

    /// The shorter runs that stand as tokens and hold a secret character, in the gaps
    /// between the `long` runs.
    fn short_runs(&self, text: &str, long: &[(usize, usize)]) -> Vec<(usize, usize)> {
        let token = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        let mut runs = Vec::new();
        let mut gap_start = 0;
        for &(gap_end, next_gap) in long.iter().chain([&(text.len(), text.len())]) {
            let mut i = gap_start;
            // Where the last masked run ended: what follows it stands after a masked character.
            let mut masked_end = gap_start;
            while i < gap_end {
                let found = self.run_end(text, i).and_then(|end| {
                    // Standing alone: after no letter or digit, or right after a masked run.
                    let before = text.get(..i).and_then(|t| t.chars().next_back());
                    if i != masked_end && token(before) {
                        return None;
                    }
                    (i + MIN_FRAGMENT..=end.min(gap_end)).rev().find(|&e| {
                        let after = text.get(e..).map(|t| t.chars().next());
                        after.is_some_and(|after| e == gap_end && e < text.len() || !token(after))
                            && self.holds_secret(&text.as_bytes()[i..e])
                    })
                });
                match found {
                    Some(end) => {
                        runs.push((i, end));
                        i = end;
                        masked_end = end;
                    }
                    None => i += 1,
                }
            }
            gap_start = next_gap;
        }
        runs
    }
}

/// Whether a segment of the key reads like a word: letters only, at most [`LONGEST_WORD`],
/// in one case or capitalized.
fn word_like(segment: &str) -> bool {
    let mut rest = segment.chars();
    let first = rest.next();
    segment.chars().count() <= LONGEST_WORD
        && segment.chars().all(char::is_alphabetic)
        && (segment.chars().all(char::is_uppercase)
            || first.is_some() && rest.all(char::is_lowercase))
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
        assert_eq!(scrub("héllo wörld", key), "héllo wörld");
    }

    #[test]
    fn fragments_of_four_or_more_are_masked_where_they_stand_alone() {
        let key = "sk-live-Q7vX2mPa9LkTz4Wb";
        for (text, want) in [
            // Prefix, suffix and a middle fragment, as services echo them.
            ("key sk-live-Q7vX… refused", "key <API key>… refused"),
            ("key sk-Q7vX refused", "key sk-<API key> refused"),
            ("key ending in z4Wb.", "key ending in <API key>."),
            ("key ending in 4Wb.", "key ending in 4Wb."),
            ("key …2mPa… refused", "key …<API key>… refused"),
            ("sk-l*******z4Wb", "sk-l*******<API key>"),
            // In URLs, JSON and error text.
            (
                "GET https://h/x?key=Q7vX&n=1",
                "GET https://h/x?key=<API key>&n=1",
            ),
            (r#"{"apiKey":"Tz4Wb"}"#, r#"{"apiKey":"<API key>"}"#),
            (
                "Error: invalid key (9LkTz)",
                "Error: invalid key (<API key>)",
            ),
            ("https://h/Q7vX2mPa9L/x", "https://h/<API key>/x"),
            // Glued to the key's longer echo, the short run is part of it.
            ("Q7vX2mPa9LkTz4Wbz4Wb", "<API key><API key>"),
            // Glued to other letters, a short run is a different word.
            ("xQ7vXy and Q7vXy", "xQ7vXy and Q7vXy"),
            // Right after a masked short run, the next one stands alone too.
            ("2mPa9LkT", "<API key>"),
            ("Q7vX-Q7vX2", "<API key><API key>"),
        ] {
            assert_eq!(scrub(text, key), want, "{text}");
        }
        // Found by the property test: a short run whose left neighbour was just masked.
        let key = "sk-223QJND.bq2dE63.rLvMP1YIQ.Test";
        for (text, want) in [("sk-2-223", "<API key><API key>"), ("4O0W-uYy", "4O0W-uYy")] {
            assert_eq!(scrub(text, key), want, "{text}");
        }
        // And one whose right neighbour was masked after it was passed over.
        let key = "3e8Pb0xiXVK9aXaqs69210-x";
        for (text, want) in [
            ("210-3e8P", "<API key><API key>"),
            ("a 3e8P.", "a <API key>."),
        ] {
            assert_eq!(scrub(text, key), want, "{text}");
        }
    }

    #[test]
    fn ordinary_words_stay_whatever_the_key() {
        let text = "test task key live failed: task t_1 not found (2024), retry";
        for key in [
            "k",
            "key",
            "task",
            "test-key",
            "test-key-Q7vX2mPa9LkT",
            "sk-live-Q7vX2mPa9L",
        ] {
            assert_eq!(scrub(text, key), text, "{key}");
        }
        assert_eq!(scrub("tasks t_1", "task"), "tasks t_1");
        assert_eq!(scrub("bad key abc1234!", "abc1234"), "bad key <API key>!");
        // A key made of words is still masked as a run of 8 or more.
        assert_eq!(
            scrub("key correct-horse refused", "correct-horse-battery"),
            "key <API key> refused"
        );
    }

    #[test]
    fn the_secret_part_leaves_out_word_like_segments() {
        for (segment, word) in [
            ("live", true),
            ("TEST", true),
            ("Proj", true),
            ("sk", true),
            ("aBcd", false),
            ("0123", false),
            ("abc1", false),
            ("qwzxkjhgfdsaq", false),
        ] {
            assert_eq!(word_like(segment), word, "{segment}");
        }
    }
}
