//! The history database: one row per task the service ever accepted, with every request
//! parameter, its last known state, its result URLs and where each image was saved.
//!
//! SQLite in WAL mode with a busy timeout, so that several fouro processes share it; schema
//! versions in `PRAGMA user_version`, each migration in one transaction. A database that
//! cannot be read, or that a newer fouro wrote, is never changed: opening it fails with a
//! message, and only [`move_aside`] (which the person must agree to) puts it out of the way.
//! The API key is never stored: nothing here takes one.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Row, params, params_from_iter};
use serde::{Deserialize, Serialize};

use crate::api::{FallbackModel, GenerateRequest, Size, TaskRecord, TaskStatus, Variants};
use crate::store::journal::Journal;

/// The database file's name in the data directory.
pub const FILE_NAME: &str = "history.db";
/// The schema this fouro writes; older ones are migrated up to it.
pub const SCHEMA_VERSION: i64 = 1;
/// How long the service keeps a task and its images.
pub const KEEP_DAYS: i64 = 14;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Each entry migrates the schema from its index to the next version.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE tasks (
        task_id       TEXT PRIMARY KEY NOT NULL,
        base_url      TEXT NOT NULL,
        prompt        TEXT,
        refs          TEXT NOT NULL DEFAULT '[]',
        mask          TEXT,
        size          TEXT NOT NULL,
        variants      INTEGER NOT NULL,
        enhance       INTEGER NOT NULL DEFAULT 0,
        fallback      TEXT,
        callback_url  TEXT,
        status        TEXT NOT NULL,
        progress      REAL NOT NULL DEFAULT 0,
        error_code    INTEGER,
        error_message TEXT,
        created_at    INTEGER NOT NULL,
        completed_at  INTEGER,
        cost          REAL,
        updated_at    INTEGER NOT NULL
    );
    CREATE INDEX tasks_newest ON tasks (created_at DESC);
    CREATE INDEX tasks_status ON tasks (status);
    CREATE TABLE images (
        task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
        idx     INTEGER NOT NULL,
        url     TEXT NOT NULL,
        path    TEXT,
        error   TEXT,
        gone    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (task_id, idx)
    );",
];

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

/// A task's state in the history: the service's, or expired (older than the service keeps
/// tasks, never seen to end).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Generating,
    Success,
    CreateTaskFailed,
    GenerateFailed,
    Expired,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Generating,
        Status::Success,
        Status::CreateTaskFailed,
        Status::GenerateFailed,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Generating => "GENERATING",
            Status::Success => "SUCCESS",
            Status::CreateTaskFailed => "CREATE_TASK_FAILED",
            Status::GenerateFailed => "GENERATE_FAILED",
            Status::Expired => "EXPIRED",
        }
    }

    pub fn is_final(self) -> bool {
        self != Status::Generating
    }

    pub fn is_failure(self) -> bool {
        matches!(self, Status::CreateTaskFailed | Status::GenerateFailed)
    }
}

impl From<TaskStatus> for Status {
    fn from(s: TaskStatus) -> Status {
        match s {
            TaskStatus::Generating => Status::Generating,
            TaskStatus::Success => Status::Success,
            TaskStatus::CreateTaskFailed => Status::CreateTaskFailed,
            TaskStatus::GenerateFailed => Status::GenerateFailed,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Status, String> {
        let s = s.trim().to_ascii_uppercase();
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// What a search can narrow the history to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    Generating,
    Success,
    /// Either kind of failure.
    Failed,
    Expired,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 4] = [
        StatusFilter::Generating,
        StatusFilter::Success,
        StatusFilter::Failed,
        StatusFilter::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Generating => "generating",
            StatusFilter::Success => "success",
            StatusFilter::Failed => "failed",
            StatusFilter::Expired => "expired",
        }
    }

    fn statuses(self) -> &'static [Status] {
        match self {
            StatusFilter::Generating => &[Status::Generating],
            StatusFilter::Success => &[Status::Success],
            StatusFilter::Failed => &[Status::CreateTaskFailed, Status::GenerateFailed],
            StatusFilter::Expired => &[Status::Expired],
        }
    }
}

impl FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<StatusFilter, String> {
        let s = s.trim().to_ascii_lowercase();
        StatusFilter::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                format!("{s:?} is not a status: use generating, success, failed or expired")
            })
    }
}

impl std::fmt::Display for StatusFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference image (or mask): where the person took it from, and the URL the service got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// A local path or a URL, as given.
    pub origin: String,
    /// The URL sent to the service (the upload's, for a local file).
    pub url: String,
}

/// Everything a generation was asked with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Params {
    pub prompt: Option<String>,
    pub refs: Vec<Reference>,
    pub mask: Option<Reference>,
    pub size: Size,
    pub variants: Variants,
    pub enhance: bool,
    pub fallback: Option<FallbackModel>,
    pub callback_url: Option<String>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            prompt: None,
            refs: Vec::new(),
            mask: None,
            size: Size::Square,
            variants: Variants::One,
            enhance: false,
            fallback: None,
            callback_url: None,
        }
    }
}

impl Params {
    /// The generate call these parameters make.
    pub fn request(&self) -> GenerateRequest {
        GenerateRequest {
            prompt: self.prompt.clone(),
            files_url: self.refs.iter().map(|r| r.url.clone()).collect(),
            size: self.size,
            n_variants: Some(self.variants),
            mask_url: self.mask.as_ref().map(|m| m.url.clone()),
            is_enhance: self.enhance.then_some(true),
            enable_fallback: self.fallback.is_some().then_some(true),
            fallback_model: self.fallback,
            upload_cn: None,
            call_back_url: self.callback_url.clone(),
        }
    }

    /// Parameters from a request alone (its references known only by URL).
    pub fn from_request(req: &GenerateRequest) -> Params {
        let by_url = |u: &String| Reference {
            origin: u.clone(),
            url: u.clone(),
        };
        Params {
            prompt: req.prompt.clone(),
            refs: req.files_url.iter().map(by_url).collect(),
            mask: req.mask_url.as_ref().map(by_url),
            size: req.size,
            variants: req.n_variants.unwrap_or(Variants::One),
            enhance: req.is_enhance.unwrap_or(false),
            fallback: req.fallback_model.filter(|_| req.enable_fallback == Some(true)),
            callback_url: req.call_back_url.clone(),
        }
    }
}

/// One result image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Image {
    pub index: usize,
    pub url: String,
    /// Where it was saved, once it was.
    pub path: Option<PathBuf>,
    /// Why the last download failed.
    pub error: Option<String>,
    /// The service no longer has it (older than it keeps images) and it was never saved.
    pub gone: bool,
}

impl Image {
    pub fn is_missing(&self) -> bool {
        self.path.is_none() && !self.gone
    }
}

/// One task as the history knows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub task_id: String,
    pub base_url: String,
    pub params: Params,
    pub status: Status,
    /// 0.0 ..= 1.0.
    pub progress: f64,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub completed_at: Option<i64>,
    /// Credits the task cost, when observed.
    pub cost: Option<f64>,
    pub images: Vec<Image>,
}

impl Entry {
    /// Result images not saved yet (and still on the service).
    pub fn missing(&self) -> impl Iterator<Item = &Image> {
        self.images.iter().filter(|i| i.is_missing())
    }
}

/// What to list: all, or narrowed by text, status and aspect.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Matched, case-insensitively for ASCII, anywhere in the prompt or the task id.
    pub search: Option<String>,
    pub status: Option<StatusFilter>,
    pub size: Option<Size>,
}

impl Query {
    /// The WHERE clause and its parameters.
    fn clause(&self) -> (String, Vec<String>) {
        let mut parts = Vec::new();
        let mut args = Vec::new();
        if let Some(text) = self.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            let pattern = format!(
                "%{}%",
                text.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            args.push(pattern);
            parts.push(format!(
                "(prompt LIKE ?{n} ESCAPE '\\' OR task_id LIKE ?{n} ESCAPE '\\')",
                n = args.len()
            ));
        }
        if let Some(filter) = self.status {
            let mut marks = Vec::new();
            for s in filter.statuses() {
                args.push(s.as_str().to_owned());
                marks.push(format!("?{}", args.len()));
            }
            parts.push(format!("status IN ({})", marks.join(", ")));
        }
        if let Some(size) = self.size {
            args.push(size.as_str().to_owned());
            parts.push(format!("size = ?{}", args.len()));
        }
        if parts.is_empty() {
            (String::new(), args)
        } else {
            (format!("WHERE {}", parts.join(" AND ")), args)
        }
    }
}

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
        history.import_journal(&Journal::in_dir(dir));
        Ok(history)
    }

    /// Inserts every journal entry not known yet, then renames the journal (never deletes
    /// it). A failure leaves the journal in place for the next try.
    fn import_journal(&self, journal: &Journal) {
        if !journal.path().exists() {
            return;
        }
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S%3f");
        let taken = journal.path().with_file_name(format!("tasks-imported-{stamp}.jsonl"));
        // Renamed first: a process appending meanwhile starts a new journal.
        if let Err(e) = std::fs::rename(journal.path(), &taken) {
            tracing::warn!("could not take in {}: {e}", journal.path().display());
            return;
        }
        let entries = match Journal::at(&taken).entries() {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!("could not read {}: {e}", taken.display());
                return;
            }
        };
        for e in &entries {
            let params = Params::from_request(&e.request);
            if let Err(err) = self.insert(&e.task_id, &e.base_url, &params, e.submitted_at) {
                tracing::warn!(task_id = %e.task_id, "could not take in a journal entry: {err}");
            }
        }
        tracing::info!(count = entries.len(), "took in the journal {}", taken.display());
    }

    /// Opens (creating if needed) the database at `path` and migrates it to this version.
    pub fn open(path: &Path) -> Result<History> {
        let other = |detail: String| StoreError::Other {
            path: path.to_owned(),
            detail,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| other(format!("cannot create {}: {e}", dir.display())))?;
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
        // Reading the header first tells a file that is not a database from one that is.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(path, e))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Newer {
                path: path.to_owned(),
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| classify(path, e))?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: check,
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| classify(path, e))?;
        // Every commit reaches the disk before the call returns: a task id is never lost.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| classify(path, e))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| classify(path, e))?;
        let mut conn = conn;
        migrate(&mut conn, path)?;
        Ok(History {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_owned()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held leaves SQLite consistent (each call is one
        // statement or one transaction), so the poison is ignored.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
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
                "INSERT OR IGNORE INTO tasks (task_id, base_url, prompt, refs, mask, size, variants,
                    enhance, fallback, callback_url, status, progress, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'GENERATING', 0, ?11, ?11)",
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

    /// Takes in what the service said of a task: status, progress, error, result URLs.
    /// `now` (ms) is the completion time when the record has none. Returns whether the task
    /// was known.
    pub fn record(&self, record: &TaskRecord, now: i64) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let status = Status::from(record.status);
        let completed = status.is_final().then(|| record.complete_time.unwrap_or(now));
        let changed = tx
            .execute(
                "UPDATE tasks SET status = ?2, progress = ?3, error_code = ?4, error_message = ?5,
                    completed_at = COALESCE(completed_at, ?6), updated_at = ?7
                 WHERE task_id = ?1",
                params![
                    record.task_id,
                    status.as_str(),
                    record.progress.clamp(0.0, 1.0),
                    record.error_code.filter(|_| status.is_failure()),
                    record.error_message.as_deref().filter(|_| status.is_failure()),
                    completed,
                    now,
                ],
            )
            .map_err(|e| self.err(e))?;
        if changed == 0 {
            return Ok(false);
        }
        for (idx, url) in record.result_urls.iter().enumerate() {
            // A URL that changed (a re-signed link) replaces the old one; a saved file stays.
            tx.execute(
                "INSERT INTO images (task_id, idx, url) VALUES (?1, ?2, ?3)
                 ON CONFLICT (task_id, idx) DO UPDATE SET url = excluded.url",
                params![record.task_id, idx as i64, url],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(true)
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

    /// Marks what the service no longer keeps (created before `now` minus 14 days): tasks
    /// never seen to end become EXPIRED, images never saved become gone. Returns how many
    /// tasks changed.
    pub fn expire(&self, now: i64) -> Result<usize> {
        let cutoff = now - KEEP_DAYS * DAY_MS;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let tasks = tx
            .execute(
                "UPDATE tasks SET status = 'EXPIRED', updated_at = ?2
                 WHERE status = 'GENERATING' AND created_at < ?1",
                params![cutoff, now],
            )
            .map_err(|e| self.err(e))?;
        let images = tx
            .execute(
                "UPDATE images SET gone = 1
                 WHERE path IS NULL AND gone = 0
                   AND task_id IN (SELECT task_id FROM tasks WHERE created_at < ?1)",
                params![cutoff],
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(tasks + images.min(1))
    }

    /// Tasks to resume: those still generating, and those with results not saved yet,
    /// oldest first.
    pub fn unsettled(&self) -> Result<Vec<Entry>> {
        self.select(
            "WHERE status = 'GENERATING'
                OR task_id IN (SELECT task_id FROM images WHERE path IS NULL AND gone = 0)
             ORDER BY created_at ASC, rowid ASC",
            &[],
        )
    }

    pub fn get(&self, task_id: &str) -> Result<Option<Entry>> {
        Ok(self
            .select("WHERE task_id = ?1", &[task_id.to_owned()])?
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

    /// Entries `offset..offset + limit` of those matching, newest first.
    pub fn page(&self, query: &Query, offset: usize, limit: usize) -> Result<Vec<Entry>> {
        let (clause, mut args) = query.clause();
        args.push(limit.to_string());
        args.push(offset.to_string());
        let n = args.len();
        self.select(
            &format!(
                "{clause} ORDER BY created_at DESC, rowid DESC LIMIT ?{} OFFSET ?{n}",
                n - 1
            ),
            &args,
        )
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

    fn select(&self, tail: &str, args: &[String]) -> Result<Vec<Entry>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM tasks {tail}"))
            .map_err(|e| self.err(e))?;
        let mut entries = stmt
            .query_map(params_from_iter(args.iter()), entry_from_row)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        let mut images = conn
            .prepare_cached(
                "SELECT idx, url, path, error, gone FROM images WHERE task_id = ?1 ORDER BY idx",
            )
            .map_err(|e| self.err(e))?;
        for entry in &mut entries {
            entry.images = images
                .query_map(params![entry.task_id], |r| {
                    Ok(Image {
                        index: usize::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        url: r.get(1)?,
                        path: r.get::<_, Option<String>>(2)?.map(PathBuf::from),
                        error: r.get(3)?,
                        gone: r.get(4)?,
                    })
                })
                .map_err(|e| self.err(e))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.err(e))?;
        }
        Ok(entries)
    }

    /// The database's schema version.
    pub fn schema_version(&self) -> Result<i64> {
        self.conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
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

/// Brings the schema up to [`SCHEMA_VERSION`], one migration per transaction. Another
/// process migrating at the same time is waited for (the write lock), then seen.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| classify(path, e))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(path, e))?;
        if version >= SCHEMA_VERSION {
            return Ok(());
        }
        let Some(step) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Err(StoreError::Corrupt {
                path: path.to_owned(),
                detail: format!("unknown schema version {version}"),
            });
        };
        tx.execute_batch(step).map_err(|e| classify(path, e))?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(|e| classify(path, e))?;
        tx.commit().map_err(|e| classify(path, e))?;
    }
}

/// A damaged file is `Corrupt`; anything else (locked, disk full, permissions) is `Other`.
fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
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
        StoreError::Other {
            path: path.to_owned(),
            detail: e.to_string(),
        }
    }
}

/// Moves the database (and its WAL and shared-memory files) aside to
/// `<name>.moved-<timestamp>`, so that a fresh one can be made. Nothing is deleted. Returns
/// the new path of the database file.
pub fn move_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| FILE_NAME.to_owned());
    let target = path.with_file_name(format!("{name}.moved-{stamp}"));
    std::fs::rename(path, &target)?;
    for suffix in ["-wal", "-shm"] {
        let side = path.with_file_name(format!("{name}{suffix}"));
        if side.exists() {
            let _ = std::fs::rename(&side, target.with_file_name(format!(
                "{}{suffix}",
                target.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
            )));
        }
    }
    Ok(target)
}
