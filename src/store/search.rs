//! How a search text is found: which entries match, and which of two ways of reading them
//! costs less for this text.
//!
//! An entry matches when its prompt or task id holds the text, letters A-Z in either case
//! (`LIKE`), or other letters in either case as well when the search index agrees (its
//! trigram pieces fold case the way SQLite does; the cheap Rust test `fouro_folds` comes
//! first so that the index is asked only about the few rows it could be true of). Every
//! match is thus in the index, so both ways find the same entries:
//!
//! - [`Plan::Index`]: the index's matches, tested and sorted by date. Its cost follows how
//!   many entries hold the text: the way for a rare text.
//! - [`Plan::Walk`]: the history newest first through `tasks_newest`, each row tested, until
//!   the page is full. Its cost follows how far apart the matches are: the way for a text
//!   found in many entries, which the index would have to sort.
//!
//! A page of a common text is first looked for among the newest rows, and one deep in its
//! matches, nearer their end, is read from the oldest.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension};

use super::history::{Entry, History, Query, Result, page_tail};

/// The shortest search text the search index answers (it holds three-character pieces).
pub(super) const INDEXED: usize = 3;

/// How many of the newest entries the app searches for a text shorter than [`INDEXED`]
/// (which only a reading of every row could answer): a third character searches them all.
pub const SHORT_SEARCH_SCOPE: usize = 20_000;

/// Whether `text` (trimmed) is too short for the search index.
pub fn is_short(text: &str) -> bool {
    (1..INDEXED).contains(&text.trim().chars().count())
}

/// Up to how many matches in the index a text is a rare one, read through the index at once.
const RARE: usize = 1_000;

/// How a page of a search is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    Index,
    Walk,
}

/// Registers `fouro_folds(prompt, task_id, lowered)` on a connection: whether the prompt or
/// the task id, in lower case, holds `lowered`. Only asked about rows with a character
/// outside ASCII (fewer characters than bytes) that `LIKE` found no match in.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "fouro_folds",
        3,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let text = |i: usize| match ctx.get_raw(i) {
                ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
                _ => "",
            };
            let lowered = text(2);
            let holds = |s: &str| !s.is_ascii() && s.to_lowercase().contains(lowered);
            Ok(!lowered.is_empty() && (holds(text(0)) || holds(text(1))))
        },
    )
}

/// The search text `text` (trimmed, not empty) as a condition on `tasks`, its parameters
/// pushed onto `args`. With [`Plan::Index`] the condition starts with the index's matches.
pub(super) fn condition(text: &str, plan: Plan, args: &mut Vec<Value>) -> String {
    // `%` and `_` are themselves, not wildcards.
    let pattern = format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    args.push(pattern.into());
    let like = args.len();
    let ascii = format!("prompt LIKE ?{like} ESCAPE '\\' OR task_id LIKE ?{like} ESCAPE '\\'");
    let Some(phrase) = phrase(text) else {
        // Too short for the index: `LIKE` alone, on every row.
        return format!("({ascii})");
    };
    args.push(phrase.into());
    let phrase = args.len();
    args.push(text.to_lowercase().into());
    let lowered = args.len();
    let exact = format!(
        "({ascii} OR ((length(prompt) < octet_length(prompt) \
         OR length(task_id) < octet_length(task_id)) \
         AND fouro_folds(prompt, task_id, ?{lowered}) AND EXISTS (SELECT 1 FROM tasks_text \
         WHERE tasks_text MATCH ?{phrase} AND rowid = tasks.rowid)))"
    );
    match plan {
        Plan::Walk => exact,
        Plan::Index => format!(
            "rowid IN (SELECT rowid FROM tasks_text WHERE tasks_text MATCH ?{phrase}) AND {exact}"
        ),
    }
}

/// The text as one phrase of the search index, when it is long enough for it.
pub(super) fn phrase(text: &str) -> Option<String> {
    (text.chars().count() >= INDEXED).then(|| format!("\"{}\"", text.replace('"', "\"\"")))
}

impl History {
    /// How to read entries `..want` of `query`'s matches. The index's matches are counted up
    /// to where sorting them would cost as much as walking the history to the `want`th
    /// match (their count in the whole history tells how far apart they are): a few
    /// thousand for the first page of a million entries.
    pub(super) fn plan(&self, query: &Query, want: usize) -> Result<Plan> {
        let Some(phrase) = query.phrase() else {
            return Ok(Plan::Index);
        };
        let conn = self.conn();
        let rows: i64 = conn
            .query_row("SELECT COALESCE(MAX(rowid), 0) FROM tasks", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))?;
        drop(conn);
        let probe = (want.max(1) as f64 * rows.max(0) as f64).sqrt() as usize;
        Ok(
            if self.matches_upto(&phrase, probe.max(RARE))? > probe.max(RARE) {
                Plan::Walk
            } else {
                Plan::Index
            },
        )
    }

    /// Whether the search index holds few matches of `query`'s text (none without one).
    pub(super) fn is_rare(&self, query: &Query) -> Result<bool> {
        match query.phrase() {
            Some(phrase) => Ok(self.matches_upto(&phrase, RARE)? <= RARE),
            None => Ok(false),
        }
    }

    /// How many rows the search index matches `phrase` in, counting no further than `cap + 1`.
    fn matches_upto(&self, phrase: &str, cap: usize) -> Result<usize> {
        let n: i64 = self
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM (SELECT 1 FROM tasks_text WHERE tasks_text MATCH ?1 LIMIT ?2)",
                rusqlite::params![phrase, i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// Rows of the newest a page of a search first looks through, per entry wanted: a text
/// found in one entry in twenty or more fills its page from them, without the index.
const RECENT_PER_ENTRY: usize = 20;
/// The fewest and most rows looked through so.
const RECENT_ROWS: (usize, usize) = (2_000, 50_000);
/// How deep in a common text's matches a page may be read from their end.
const FROM_THE_END: usize = 10_000;

impl History {
    /// Entries `offset..offset + limit` of a search, when the newest rows hold them all
    /// (always the case for a text found in most entries); `None` when the rest of the
    /// history must be read for them. They are the page itself: the rows looked through
    /// come first in the list's order.
    pub(super) fn page_recent(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>> {
        let want = offset.saturating_add(limit);
        let rows = want
            .saturating_mul(RECENT_PER_ENTRY)
            .clamp(RECENT_ROWS.0, RECENT_ROWS.1);
        let since: Option<i64> = self
            .conn()
            .query_row(
                "SELECT created_at FROM tasks ORDER BY created_at DESC, rowid DESC
                 LIMIT 1 OFFSET ?1",
                [i64::try_from(rows).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let (clause, mut args) = query.clause_for(Plan::Walk);
        let clause = match since {
            Some(at) => {
                args.push(at.into());
                let at = args.len();
                match clause.strip_prefix("WHERE ") {
                    Some(rest) => format!("WHERE created_at >= ?{at} AND {rest}"),
                    None => format!("WHERE created_at >= ?{at}"),
                }
            }
            None => clause,
        };
        args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        let entries = self.select(&page_tail(&clause, args.len()), &args)?;
        // The whole history was looked through, or the page is full.
        Ok((since.is_none() || entries.len() == limit).then_some(entries))
    }

    /// Entries `offset..offset + limit` of a common text, deep in its matches and nearer
    /// their end than their start, read from the oldest: every match counted first (a
    /// scan, 0.1-0.3 s at a million), then the rows after the page skipped instead of
    /// those before it. `None` when the page is not so deep.
    pub(super) fn page_from_end(
        &self,
        query: &Query,
        offset: usize,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>> {
        if offset < FROM_THE_END {
            return Ok(None);
        }
        let total = self.count_upto(query, usize::MAX)?;
        if offset >= total {
            return Ok(Some(Vec::new()));
        }
        let end = offset.saturating_add(limit).min(total);
        let after = total - end;
        if after >= offset {
            return Ok(None);
        }
        let (clause, mut args) = query.clause_for(Plan::Walk);
        args.push(Value::Integer(
            i64::try_from(end - offset).unwrap_or(i64::MAX),
        ));
        args.push(Value::Integer(i64::try_from(after).unwrap_or(i64::MAX)));
        let n = args.len();
        let tail = format!(
            "{clause} ORDER BY created_at ASC, rowid ASC LIMIT ?{} OFFSET ?{n}",
            n - 1
        );
        let mut entries = self.select(&tail, &args)?;
        entries.reverse();
        Ok(Some(entries))
    }
}
