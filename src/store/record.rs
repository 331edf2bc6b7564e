//! Taking in what the service says of a task, writing only what changed.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::history::{History, Result, Status};
use crate::api::TaskRecord;

impl History {
    /// Takes in what the service said of a task: status, progress, error, result URLs.
    /// `now` (ms) is the completion time when the record has none. Returns whether the task
    /// was known.
    ///
    /// A task the history already saw end is not put back to GENERATING: that is a late
    /// reply (another process polled the same task), not news.
    ///
    /// A task the database does not know may be in the journal (kept there when the
    /// database could not take it): the journal is taken in first, then the answer.
    pub fn record(&self, record: &TaskRecord, now: i64) -> Result<bool> {
        if self.record_known(record, now)? {
            return Ok(true);
        }
        if let Some(dir) = self.path().parent() {
            self.import_journal(dir);
        }
        self.record_known(record, now)
    }

    /// A task still generating is a routine update, committed without waiting for the disk
    /// (WAL with `synchronous=NORMAL`): a power cut may lose the last few of them, which the
    /// next poll answers again. The end of a task, with its result URLs, waits for the disk
    /// like the task id does.
    fn record_known(&self, record: &TaskRecord, now: i64) -> Result<bool> {
        let routine = !Status::from(record.status).is_final();
        let mut conn = self.conn();
        let sync = |conn: &Connection, level: &str| {
            conn.pragma_update(None, "synchronous", level)
                .map_err(|e| self.err(e))
        };
        if routine {
            sync(&conn, "NORMAL")?;
        }
        let result = self.record_in(&mut conn, record, now);
        if routine {
            sync(&conn, "FULL")?;
        }
        result
    }

    fn record_in(&self, conn: &mut Connection, record: &TaskRecord, now: i64) -> Result<bool> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let status = Status::from(record.status);
        let completed = status
            .is_final()
            .then(|| record.complete_time.unwrap_or(now));
        // NaN would be stored as NULL, which the column refuses.
        let progress = if record.progress.is_nan() {
            0.0
        } else {
            record.progress.clamp(0.0, 1.0)
        };
        // An answer that says what the row already holds writes nothing: with hundreds of
        // tasks polled, most answers are the same as the last.
        let changed = tx
            .prepare_cached(
                "UPDATE tasks SET status = ?2, progress = ?3, error_code = ?4, error_message = ?5,
                    completed_at = COALESCE(completed_at, ?6), updated_at = ?7
                 WHERE task_id = ?1
                   AND NOT (?2 = 'GENERATING'
                            AND status IN ('SUCCESS', 'CREATE_TASK_FAILED', 'GENERATE_FAILED'))
                   AND (status IS NOT ?2 OR progress IS NOT ?3 OR error_code IS NOT ?4
                        OR error_message IS NOT ?5 OR (completed_at IS NULL AND ?6 IS NOT NULL))",
            )
            .and_then(|mut update| {
                update.execute(params![
                    record.task_id,
                    status.as_str(),
                    progress,
                    record.error_code.filter(|_| status.is_failure()),
                    record
                        .error_message
                        .as_deref()
                        .filter(|_| status.is_failure()),
                    completed,
                    now,
                ])
            })
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            let held: Option<String> = tx
                .prepare_cached("SELECT status FROM tasks WHERE task_id = ?1")
                .and_then(|mut select| {
                    select
                        .query_row(params![record.task_id], |r| r.get(0))
                        .optional()
                })
                .map_err(|e| self.err(e))?;
            let Some(held) = held else {
                return Ok(false);
            };
            // A late reply: its URLs, if any, are not news either.
            let late =
                status == Status::Generating && held.parse::<Status>().is_ok_and(|s| s.is_final());
            if late {
                return Ok(true);
            }
        }
        for (idx, url) in record.result_urls.iter().enumerate() {
            // A URL that changed (a re-signed link) replaces the old one; a saved file stays.
            tx.prepare_cached(
                "INSERT INTO images (task_id, idx, url) VALUES (?1, ?2, ?3)
                 ON CONFLICT (task_id, idx) DO UPDATE SET url = excluded.url
                 WHERE url IS NOT excluded.url",
            )
            .and_then(|mut insert| insert.execute(params![record.task_id, idx as i64, url]))
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
    }
}
