//! What the service no longer keeps, and what is still to settle: read from the indexes of
//! what is open (`tasks_status`, the partial `images_missing`), never from the tasks by age,
//! so that the cost at every start and `fouro sync` follows what is unsettled, not the size
//! of the history.

use rusqlite::{TransactionBehavior, params};

use super::history::{DAY_MS, Entry, History, KEEP_DAYS, Result};

impl History {
    /// Marks what the service no longer keeps (created before `now` minus 14 days): tasks
    /// never seen to end become EXPIRED, images never saved become gone.
    ///
    /// Returns how many tasks lost something to this call: those now EXPIRED and those with
    /// images now gone, each counted once. A second call at the same `now` returns 0.
    pub fn expire(&self, now: i64) -> Result<usize> {
        let cutoff = now - KEEP_DAYS * DAY_MS;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        // Every statement starts from an index of what is unsettled (`tasks_status`, the
        // partial `images_missing`), never from the tasks by age: the cost follows what is
        // still open, not the size of the history.
        let touched: i64 = tx
            .query_row(EXPIRE_COUNT, params![cutoff], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        tx.execute(EXPIRE_TASKS, params![cutoff, now])
            .map_err(|e| self.err(e))?;
        tx.execute(EXPIRE_IMAGES, params![cutoff])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(usize::try_from(touched).unwrap_or(0))
    }

    /// Tasks to resume: those still generating, and those with results not saved yet,
    /// oldest first.
    pub fn unsettled(&self) -> Result<Vec<Entry>> {
        self.select(UNSETTLED, &[])
    }
}

/// How many tasks created before `?1` [`History::expire`] touches: those still generating
/// (by `tasks_status`) and the others with an image neither saved nor gone (from
/// `images_missing`, each task looked up by its key).
const EXPIRE_COUNT: &str = "SELECT
    (SELECT COUNT(*) FROM tasks WHERE status = 'GENERATING' AND created_at < ?1)
  + (SELECT COUNT(DISTINCT i.task_id)
       FROM images AS i CROSS JOIN tasks AS t ON t.task_id = i.task_id
      WHERE i.path IS NULL AND i.gone = 0
        AND t.created_at < ?1 AND t.status <> 'GENERATING')";

/// Tasks created before `?1` never seen to end: EXPIRED, read from `tasks_status`.
const EXPIRE_TASKS: &str = "UPDATE tasks SET status = 'EXPIRED', updated_at = ?2
     WHERE status = 'GENERATING' AND created_at < ?1";

/// Images of tasks created before `?1` never saved: gone, read from `images_missing`.
const EXPIRE_IMAGES: &str = "UPDATE images SET gone = 1
     WHERE path IS NULL AND gone = 0
       AND EXISTS (SELECT 1 FROM tasks AS t
                    WHERE t.task_id = images.task_id AND t.created_at < ?1)";

/// What follows `SELECT … FROM tasks` for [`History::unsettled`]: the union of two index
/// reads, each task then looked up by its key.
const UNSETTLED: &str = "WHERE task_id IN (
        SELECT task_id FROM tasks WHERE status = 'GENERATING'
        UNION SELECT task_id FROM images WHERE path IS NULL AND gone = 0)
     ORDER BY created_at ASC, rowid ASC";

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::store::history::FILE_NAME;

    /// The plan's steps, one per line.
    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let n = stmt.parameter_count();
        let args = vec![0_i64; n];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn the_start_path_reads_only_indexes_of_what_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join(FILE_NAME)).unwrap();
        let conn = h.conn();
        let unsettled = format!("SELECT task_id FROM tasks {UNSETTLED}");
        for sql in [EXPIRE_COUNT, EXPIRE_TASKS, EXPIRE_IMAGES, &unsettled] {
            let plan = plan(&conn, sql);
            // A scan is allowed only of the partial index, which holds the missing images
            // alone.
            for step in plan.lines().filter(|s| s.starts_with("SCAN")) {
                assert!(
                    step == "SCAN CONSTANT ROW" || step.contains("INDEX images_missing"),
                    "{sql}\nreads a whole table:\n{plan}"
                );
            }
            assert!(
                plan.contains("images_missing") || plan.contains("tasks_status"),
                "{sql}\n{plan}"
            );
        }
        // Tasks by age would grow with the history: never the way in.
        for sql in [EXPIRE_COUNT, EXPIRE_IMAGES] {
            assert!(!plan(&conn, sql).contains("tasks_newest"), "{sql}");
        }
    }
}
