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
}
