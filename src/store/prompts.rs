//! The prompts written before, for recalling them in the app's editor.

use rusqlite::params;

use super::history::{History, Result};

impl History {
    /// The distinct prompts of every task, the most recently used first, at most `limit`
    /// (prompts of blanks only are left out). The text is as stored: escape it before it
    /// reaches a terminal.
    pub fn recent_prompts(&self, limit: usize) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut statement = conn
            .prepare_cached(
                "SELECT prompt FROM tasks
             WHERE prompt IS NOT NULL AND trim(prompt) != ''
             GROUP BY prompt
             ORDER BY max(created_at) DESC, max(rowid) DESC
             LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        statement
            .query_map(params![limit], |row| row.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{Size, Variants};
    use crate::store::{History, Params};

    fn params(prompt: Option<&str>) -> Params {
        Params {
            prompt: prompt.map(str::to_owned),
            refs: Vec::new(),
            mask: None,
            size: Size::Square,
            variants: Variants::One,
            enhance: false,
            fallback: None,
            callback_url: None,
        }
    }

    #[test]
    fn newest_first_each_prompt_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let h = History::open_in(dir.path())?;
        let base = "http://127.0.0.1:1";
        h.insert("t1", base, &params(Some("a cat")), 1_000)?;
        h.insert("t2", base, &params(Some("a dog")), 2_000)?;
        h.insert("t3", base, &params(Some("a cat")), 3_000)?;
        h.insert("t4", base, &params(None), 4_000)?;
        h.insert("t5", base, &params(Some("  ")), 5_000)?;
        assert_eq!(h.recent_prompts(10)?, ["a cat", "a dog"]);
        assert_eq!(h.recent_prompts(1)?, ["a cat"]);
        Ok(())
    }
}
