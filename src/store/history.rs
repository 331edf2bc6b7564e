//! The history database: one row per task the service ever accepted, with every request
//! parameter, its last known state, its result URLs and where each image was saved.
//!
//! SQLite in WAL mode with a busy timeout, so that several fouro processes share it; schema
//! versions in `PRAGMA user_version`, each migration in one transaction. A database that
//! cannot be read, or that a newer fouro wrote, is never changed: opening it fails with a
//! message, and only [`move_aside`] (which the person must agree to) puts it out of the way.
//! The API key is never stored: nothing here takes one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, Row, params, params_from_iter};

use crate::api::{Size, Variants};
use crate::store::schema::{MIGRATIONS, migrate, refuse_newer};
use crate::store::search::Plan;

pub use super::entry::{Entry, Image, Params, Query, Reference, Status, StatusFilter};
pub use super::import::move_aside;

/// The database file's name in the data directory.
pub const FILE_NAME: &str = "history.db";
/// The schema this fouro writes; older ones are migrated up to it.
pub const SCHEMA_VERSION: i64 = 5;
/// How long the service keeps a task and its images.
pub const KEEP_DAYS: i64 = 14;
pub(super) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

const _: () = assert!(MIGRATIONS.len() as i64 == SCHEMA_VERSION);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the history database {} cannot be read ({detail}); it was left as it is. Run `fouro history --move-aside` to move it aside and start a fresh history (nothing is deleted), or restore it from a backup",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "the history database {} was written by a newer fouro (schema {found}; this one knows up to {known}); it was left as it is. Update fouro, or run `fouro history --move-aside` to start a fresh history beside it",
        path.display()
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("the history database {}: {detail}", path.display())]
    Other { path: PathBuf, detail: String },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The history, shared by every part of one process (cheap to clone). Every call blocks for
/// at most the busy timeout: async callers run it on the blocking pool.
#[derive(Debug, Clone)]
pub struct History {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const COLUMNS: &str = "task_id, base_url, prompt, refs, mask, size, variants, enhance, fallback, \
     callback_url, status, progress, error_code, error_message, created_at, completed_at, cost";

impl History {
    /// Opens (creating if needed) `<dir>/history.db`, and takes in the task ids the journal
    /// in `dir` kept while the database could not.
    pub fn open_in(dir: &Path) -> Result<History> {
        let history = History::open(&dir.join(FILE_NAME))?;
        history.import_journal(dir);
        Ok(history)
    }

    /// Opens (creating if needed) the database at `path` and migrates it to this version.
    pub fn open(path: &Path) -> Result<History> {
        let other = |detail: String| StoreError::Other {
            path: path.to_owned(),
            detail,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            super::private::create_dir(dir).map_err(|e| {
                other(format!(
                    "cannot create {}: {}",
                    dir.display(),
                    crate::api::error::plain_io(&e)
                ))
            })?;
        }
        // Private whatever the umask: SQLite gives the -wal and -shm files the database's mode.
        super::private::ensure_file(path).map_err(|e| {
            other(format!(
                "cannot make it private: {}",
                crate::api::error::plain_io(&e)
            ))
        })?;
        for side in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(side);
            let _ = super::private::restrict(Path::new(&p));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| classify(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| classify(path, e))?;
        // Until the file is known to be sound and ours, closing must not write to it: by
        // default the last connection to close copies the WAL into the database and deletes
        // the WAL.
        let no_checkpoint = |conn: &Connection, on: bool| {
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, on)
                .map_err(|e| classify(path, e))
        };
        no_checkpoint(&conn, true)?;
        // Reading the header first tells a file that is not a database from one that is.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(path, e))?;
        refuse_newer(version, path)?;
        // Reading the schema checks the first page and that the file is as long as its
        // header says; a whole-file check would grow with the history, so it is left to
        // `fouro history --check` ([`History::check`]).
        conn.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| classify(path, e))?;
        no_checkpoint(&conn, false)?;
        let mode = enable_wal(&conn, path)?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Some network file systems cannot share memory; the history still works, but
            // a second fouro then waits for the first one's writes.
            tracing::warn!(
                "the history database {} is in {mode} mode, not WAL",
                path.display()
            );
        }
        // Every commit reaches the disk before the call returns (a task id is never lost),
        // but a routine progress update (see `record_known`).
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| classify(path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| classify(path, e))?;
        super::search::register(&conn).map_err(|e| classify(path, e))?;
        let mut conn = conn;
        migrate(&mut conn, path)?;
        Ok(History {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_owned()),
        })
    }

    /// Runs `f` on the blocking pool: every call may wait for another process's lock, and
    /// async callers must not block their thread.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&History) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let h = self.clone();
        let path = h.path().to_owned();
        tokio::task::spawn_blocking(move || f(&h))
            .await
            .map_err(|e| StoreError::Other {
                path,
                detail: format!("internal error: {e}"),
            })?
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held leaves SQLite consistent (each call is one
        // statement or one transaction), so the poison is ignored.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e)
    }

    /// Records a task the service just accepted. Committed (and synced) when this returns.
    /// An id already recorded is left as it is.
    pub fn insert(
        &self,
        task_id: &str,
        base_url: &str,
        params: &Params,
        created_at: i64,
    ) -> Result<()> {
        let refs = serde_json::to_string(&params.refs).unwrap_or_else(|_| "[]".into());
        let mask = params
            .mask
            .as_ref()
            .and_then(|m| serde_json::to_string(m).ok());
        self.conn()
            .execute(
                "INSERT INTO tasks (task_id, base_url, prompt, refs, mask, size, variants,
                    enhance, fallback, callback_url, status, progress, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'GENERATING', 0, ?11, ?11)
                 ON CONFLICT (task_id) DO NOTHING",
                params![
                    task_id,
                    base_url,
                    params.prompt,
                    refs,
                    mask,
                    params.size.as_str(),
                    params.variants.count(),
                    params.enhance,
                    params.fallback.map(|f| f.as_str()),
                    params.callback_url,
                    created_at,
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records where image `index` of a task was saved.
    pub fn image_saved(&self, task_id: &str, index: usize, path: &Path) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE images SET path = ?3, error = NULL WHERE task_id = ?1 AND idx = ?2",
                params![task_id, index as i64, path.to_string_lossy()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records why downloading image `index` of a task failed (it is tried again later).
    pub fn image_failed(&self, task_id: &str, index: usize, error: &str) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE images SET error = ?3 WHERE task_id = ?1 AND idx = ?2",
                params![task_id, index as i64, error],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records what a task cost.
    pub fn set_cost(&self, task_id: &str, cost: f64) -> Result<()> {
        self.conn()
            .execute(
                "UPDATE tasks SET cost = ?2 WHERE task_id = ?1",
                params![task_id, cost],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    pub fn get(&self, task_id: &str) -> Result<Option<Entry>> {
        Ok(self
            .select("WHERE task_id = ?1", &[task_id.to_owned().into()])?
            .into_iter()
            .next())
    }

    /// How many entries match.
    pub fn count(&self, query: &Query) -> Result<usize> {
        let (clause, args) = query.clause();
        let n: i64 = self
            .conn()
            .query_row(
                &format!("SELECT COUNT(*) FROM tasks {clause}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Entries `offset..offset + limit` of those matching, newest first. A search is read
    /// the way that costs less for its text (the same entries either way).
    pub fn page(&self, query: &Query, offset: usize, limit: usize) -> Result<Vec<Entry>> {
        // Past any history SQLite can hold (the page that asks only for a whole count).
        if i64::try_from(offset).is_err() {
            return Ok(Vec::new());
        }
        let plan = if query.phrase().is_none() || self.is_rare(query)? {
            Plan::Index
        } else if let Some(entries) = self.page_recent(query, offset, limit)? {
            return Ok(entries);
        } else if let Some(entries) = self.page_from_end(query, offset, limit)? {
            return Ok(entries);
        } else {
            self.plan(query, offset.saturating_add(limit))?
        };
        let (clause, mut args) = query.clause_for(plan);
        args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        self.select(&page_tail(&clause, args.len()), &args)
    }

    /// Removes an entry (its images' rows too) and returns it, so that the caller can
    /// delete its files if asked to. Files are not touched here.
    pub fn delete(&self, task_id: &str) -> Result<Option<Entry>> {
        let entry = self.get(task_id)?;
        if entry.is_some() {
            self.conn()
                .execute("DELETE FROM tasks WHERE task_id = ?1", params![task_id])
                .map_err(|e| self.err(e))?;
        }
        Ok(entry)
    }

    /// The entries `SELECT … FROM tasks <tail>` finds, with their images: two queries read
    /// in one snapshot, however many entries.
    pub(super) fn select(&self, tail: &str, args: &[Value]) -> Result<Vec<Entry>> {
        let conn = self.conn();
        let snapshot = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let mut entries = snapshot
            .prepare_cached(&format!("SELECT {COLUMNS} FROM tasks {tail}"))
            .and_then(|mut stmt| {
                stmt.query_map(params_from_iter(args.iter()), entry_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))?;
        if entries.is_empty() {
            return Ok(entries);
        }
        let ids: Vec<&str> = entries.iter().map(|e| e.task_id.as_str()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Other {
            path: self.path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let mut images: HashMap<String, Vec<Image>> = HashMap::new();
        snapshot
            .prepare_cached(
                "SELECT task_id, idx, url, path, error, gone FROM images
                 WHERE task_id IN (SELECT value FROM json_each(?1))
                 ORDER BY task_id, idx",
            )
            .and_then(|mut stmt| {
                let mut rows = stmt.query(params![ids])?;
                while let Some(r) = rows.next()? {
                    let image = Image {
                        index: usize::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                        url: r.get(2)?,
                        path: r.get::<_, Option<String>>(3)?.map(PathBuf::from),
                        error: r.get(4)?,
                        gone: r.get(5)?,
                    };
                    images.entry(r.get(0)?).or_default().push(image);
                }
                Ok(())
            })
            .map_err(|e| self.err(e))?;
        for entry in &mut entries {
            entry.images = images.remove(&entry.task_id).unwrap_or_default();
        }
        Ok(entries)
    }

    /// Reads the whole file and checks every page, index and constraint: the problems
    /// found, none when the database is sound. Its cost grows with the history, so it runs
    /// only when asked (`fouro history --check`), never on the way to opening.
    pub fn check(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| self.err(e))?;
        let found = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        match found.map_err(|e| self.err(e)) {
            Ok(found) => Ok(found.into_iter().filter(|line| line != "ok").collect()),
            // Damage bad enough to stop the check is its finding.
            Err(StoreError::Corrupt { detail, .. }) => Ok(vec![detail]),
            Err(e) => Err(e),
        }
    }

    /// The database's schema version.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

/// What follows `SELECT … FROM tasks` for a page: the filter, newest first (the later
/// inserted first among those created together), and the limit and offset as the last two of
/// `n` parameters.
pub(super) fn page_tail(clause: &str, n: usize) -> String {
    format!(
        "{clause} ORDER BY created_at DESC, rowid DESC LIMIT ?{} OFFSET ?{n}",
        n - 1
    )
}

/// A row into an Entry; values another version may have written oddly fall back to defaults
/// rather than failing the whole list.
fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let refs: String = r.get(3)?;
    let mask: Option<String> = r.get(4)?;
    let size: String = r.get(5)?;
    let variants: i64 = r.get(6)?;
    let fallback: Option<String> = r.get(8)?;
    let status: String = r.get(10)?;
    Ok(Entry {
        task_id: r.get(0)?,
        base_url: r.get(1)?,
        params: Params {
            prompt: r.get(2)?,
            refs: serde_json::from_str(&refs).unwrap_or_default(),
            mask: mask.and_then(|m| serde_json::from_str(&m).ok()),
            size: size.parse().unwrap_or(Size::Square),
            variants: u64::try_from(variants)
                .ok()
                .and_then(Variants::from_count)
                .unwrap_or(Variants::One),
            enhance: r.get(7)?,
            fallback: fallback.and_then(|f| f.parse().ok()),
            callback_url: r.get(9)?,
        },
        status: status.parse().unwrap_or(Status::Generating),
        progress: r.get(11)?,
        error_code: r.get(12)?,
        error_message: r.get(13)?,
        created_at: r.get(14)?,
        completed_at: r.get(15)?,
        cost: r.get(16)?,
        images: Vec::new(),
    })
}

/// Switches the database to WAL (a no-op once it is) and returns the mode it is in.
///
/// The switch turns a read lock into a write lock, which SQLite does not wait for (two
/// connections waiting so would wait for each other): when several fouros open a fresh
/// history at once, all but one are told "database is locked". They try again here, within
/// the busy timeout, instead.
fn enable_wal(conn: &Connection, path: &Path) -> Result<String> {
    let started = Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result.map_err(|e| classify(path, e)),
        }
    }
}

/// A damaged file is `Corrupt`; anything else (locked, disk full, permissions) is `Other`.
pub(super) fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    let corrupt = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    );
    if corrupt {
        StoreError::Corrupt {
            path: path.to_owned(),
            detail: e.to_string(),
        }
    } else {
        let advice = match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                "another fouro (or another program) is writing it: let it finish, or close it, and try again"
            }
            Some(ErrorCode::CannotOpen) => {
                "check that the data directory exists and that you may write to it (FOURO_DATA_DIR chooses another)"
            }
            Some(ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
                "check the file's and the data directory's owner and permissions"
            }
            Some(ErrorCode::DiskFull) => "the disk is full: free some space and try again",
            Some(ErrorCode::SystemIoFailure) => {
                "reading or writing the disk failed: check that the disk has space and is healthy, then try again"
            }
            _ => "try again; if it persists, check the disk and the data directory",
        };
        StoreError::Other {
            path: path.to_owned(),
            detail: format!("{e}: {advice}"),
        }
    }
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
