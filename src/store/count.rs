//! Counts of the entries a query matches that cost no more for a common word than a rare one.

use rusqlite::params_from_iter;
use rusqlite::types::Value;

use super::history::{History, Query, Result};
use super::search::Plan;

/// How many matches of a search are counted past those shown (`10,000+`).
pub const COUNT_PAST: usize = 10_000;

impl History {
    /// How many entries match: exactly without a search text; with one, no further than
    /// `past` entries after `from` (where the list is read), so that a common word costs the
    /// same as a rare one. The bool says more match than the number.
    /// Whether the history holds more than `n` entries (reading no more than `n + 1`).
    pub fn holds_more_than(&self, n: usize) -> Result<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM tasks LIMIT 1 OFFSET ?1)",
                [i64::try_from(n).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    pub fn count_shown(&self, query: &Query, from: usize, past: usize) -> Result<(usize, bool)> {
        if query.search.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Ok((self.count(query)?, false));
        }
        let cap = from.saturating_add(past);
        let n = self.count_upto(query, cap)?;
        Ok((n.min(cap), n > cap))
    }

    /// How many entries match, counting no further than `cap`: `cap + 1` says "more than
    /// `cap`". A text found in most entries costs no more to count than a rare one.
    pub fn count_upto(&self, query: &Query, cap: usize) -> Result<usize> {
        let common = query.phrase().is_some() && !self.is_rare(query)?;
        if common && let Some(n) = self.count_recent(query, cap)? {
            return Ok(n);
        }
        // A common text among the few entries of a status: those read through their index.
        let walk = common && self.few_of_status(query)?;
        let limit = Value::Integer(i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX));
        let (sql, args) = match query.phrase().filter(|_| !walk) {
            // The index's matches read one by one, stopping at the limit: `rowid IN (...)`
            // would gather every match first. Each is tested as a page tests it.
            Some(phrase) => {
                let (clause, mut args) = query.clause_for(Plan::Walk);
                args.push(phrase.into());
                let matched = args.len();
                args.push(limit);
                let sql = format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM \
                     (SELECT rowid AS hit FROM tasks_text WHERE tasks_text MATCH ?{matched}) \
                     CROSS JOIN tasks ON tasks.rowid = hit {clause} LIMIT ?{})",
                    args.len()
                );
                (sql, args)
            }
            None => {
                let (clause, mut args) = query.clause_for(Plan::Walk);
                args.push(limit);
                let sql = format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM tasks {clause} LIMIT ?{})",
                    args.len()
                );
                (sql, args)
            }
        };
        let n: i64 = self
            .conn()
            .query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }
}

/// Rows of the newest a search's count first looks through, per match it counts to: a text
/// found in half the entries or more is counted from them, without the index.
const RECENT_PER_MATCH: usize = 2;
/// Up to how many entries of the statuses filtered for are read through their index rather
/// than the search index's matches.
const FEW_OF_STATUS: usize = 20_000;

impl History {
    /// Whether `query` filters by status and few entries have it.
    fn few_of_status(&self, query: &Query) -> Result<bool> {
        if query.status.is_none() {
            return Ok(false);
        }
        let only = Query {
            search: None,
            size: None,
            ..query.clone()
        };
        Ok(self.count_upto(&only, FEW_OF_STATUS)? <= FEW_OF_STATUS)
    }

    /// The count of [`History::count_upto`] from the newest rows (by when they were
    /// written), when they hold more than `cap` matches or are the whole history; `None`
    /// when the rest must be read.
    fn count_recent(&self, query: &Query, cap: usize) -> Result<Option<usize>> {
        let rows = i64::try_from(cap.saturating_add(1).saturating_mul(RECENT_PER_MATCH))
            .unwrap_or(i64::MAX);
        let (first, last): (Option<i64>, Option<i64>) = self
            .conn()
            // Two subqueries: each reads one end of the table, `MIN(..), MAX(..)` all of it.
            .query_row(
                "SELECT (SELECT MIN(rowid) FROM tasks), (SELECT MAX(rowid) FROM tasks)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(Some(0));
        };
        let from = last.saturating_sub(rows);
        let (clause, mut args) = query.clause_for(Plan::Walk);
        args.push(from.into());
        let from_arg = args.len();
        let clause = match clause.strip_prefix("WHERE ") {
            Some(rest) => format!("WHERE rowid > ?{from_arg} AND {rest}"),
            None => format!("WHERE rowid > ?{from_arg}"),
        };
        args.push(Value::Integer(
            i64::try_from(cap.saturating_add(1)).unwrap_or(i64::MAX),
        ));
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM tasks {clause} LIMIT ?{})",
            args.len()
        );
        let n: i64 = self
            .conn()
            .query_row(&sql, params_from_iter(args.iter()), |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let n = usize::try_from(n).unwrap_or(0);
        Ok((n > cap || from < first).then_some(n))
    }
}
