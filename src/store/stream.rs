//! Every entry of a query, read a batch at a time: `fouro history --json` of a million rows
//! holds one batch in memory, never the whole list.

use rusqlite::params;
use rusqlite::types::Value;

use super::history::{Entry, History, Query, Result};

/// Entries read at once: enough that a batch costs little per entry, few enough that its
/// memory does not count.
const BATCH: usize = 500;

impl History {
    /// The entries matching `query`, newest first (the order of [`History::page`]), at most
    /// `limit`, handed to `each` one batch at a time; `each` returns false to stop. Each batch
    /// continues where the last one ended (by the index, not by an offset), so the cost of a
    /// batch does not grow with how far the reading has gone.
    pub fn for_each_batch(
        &self,
        query: &Query,
        limit: usize,
        mut each: impl FnMut(Vec<Entry>) -> bool,
    ) -> Result<()> {
        let (clause, args) = query.clause();
        let mut after: Option<(i64, i64)> = None;
        let mut left = limit;
        while left > 0 {
            let n = left.min(BATCH);
            let mut args = args.clone();
            let tail = batch_tail(&clause, &mut args, after, n);
            let batch = self.select(&tail, &args)?;
            let Some(last) = batch.last() else {
                return Ok(());
            };
            let rowid: i64 = self
                .conn()
                .query_row(
                    "SELECT rowid FROM tasks WHERE task_id = ?1",
                    params![last.task_id],
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            after = Some((last.created_at, rowid));
            let full = batch.len() == n;
            left -= batch.len();
            if !each(batch) || !full {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// What follows `SELECT … FROM tasks` for one batch of at most `n`: the filter, and the rows
/// after `after` (created_at, rowid) in the order of the `tasks_newest` index read backwards.
fn batch_tail(clause: &str, args: &mut Vec<Value>, after: Option<(i64, i64)>, n: usize) -> String {
    let mut filter = clause.to_owned();
    if let Some((created_at, rowid)) = after {
        args.push(Value::Integer(created_at));
        args.push(Value::Integer(rowid));
        let keyset = format!(
            "(created_at, rowid) < (?{}, ?{})",
            args.len() - 1,
            args.len()
        );
        filter = if filter.is_empty() {
            format!("WHERE {keyset}")
        } else {
            format!("{filter} AND {keyset}")
        };
    }
    format!("{filter} ORDER BY created_at DESC, rowid DESC LIMIT {n}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Size, Variants};
    use crate::store::history::FILE_NAME;
    use crate::store::{Params, StatusFilter};

    fn params(prompt: &str) -> Params {
        Params {
            prompt: Some(prompt.to_owned()),
            size: Size::Square,
            variants: Variants::One,
            ..Params::default()
        }
    }

    #[test]
    fn batches_give_every_entry_once_in_the_order_of_pages() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join(FILE_NAME)).unwrap();
        // Several created in the same millisecond, across batch boundaries.
        for i in 0..1_203_i64 {
            h.insert(
                &format!("task_4o_{i:05}"),
                "http://127.0.0.1:9",
                &params(&format!("fox {i}")),
                1_000 + i / 7,
            )
            .unwrap();
        }
        let query = Query::default();
        for limit in [1, 500, 1_000, 1_203, 5_000] {
            let mut seen = Vec::new();
            let mut batches = 0;
            h.for_each_batch(&query, limit, |batch| {
                assert!(batch.len() <= BATCH);
                batches += 1;
                seen.extend(batch.into_iter().map(|e| e.task_id));
                true
            })
            .unwrap();
            let page: Vec<String> = h
                .page(&query, 0, limit)
                .unwrap()
                .into_iter()
                .map(|e| e.task_id)
                .collect();
            assert_eq!(seen, page, "limit {limit}");
            assert!(batches <= limit.div_ceil(BATCH), "limit {limit}: {batches}");
        }
        // Stopping early stops.
        let mut batches = 0;
        h.for_each_batch(&query, 5_000, |_| {
            batches += 1;
            false
        })
        .unwrap();
        assert_eq!(batches, 1);
        // A filter holds in every batch.
        let generating = Query {
            status: Some(StatusFilter::Generating),
            ..Query::default()
        };
        let mut n = 0;
        h.for_each_batch(&generating, usize::MAX, |b| {
            n += b.len();
            true
        })
        .unwrap();
        assert_eq!(n, 1_203);
    }

    #[test]
    fn a_batch_after_the_first_reads_the_index_without_sorting() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join(FILE_NAME)).unwrap();
        let mut args = Vec::new();
        let tail = batch_tail("", &mut args, Some((5, 7)), BATCH);
        let conn = h.conn();
        let mut stmt = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN SELECT task_id FROM tasks {tail}"
            ))
            .unwrap();
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let plan = plan.join("\n");
        assert!(plan.contains("tasks_newest"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
