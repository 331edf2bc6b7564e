//! The history database's schema: the migrations that bring it to the current version.

use std::path::Path;
use std::time::Instant;

use rusqlite::{Connection, TransactionBehavior};

use super::history::{Result, SCHEMA_VERSION, StoreError, classify};

/// Each entry migrates the schema from its index to the next version.
///
/// `tasks_newest` is ascending on purpose: every row of an index ends with the rowid, so read
/// backwards it gives `created_at DESC, rowid DESC`, the order of [`History::page`], with no
/// sorting; `tasks_status` does the same within one status. `images_missing` finds what
/// [`History::unsettled`] and [`History::expire`] look for without reading every image.
///
/// [`History::page`]: super::History::page
/// [`History::unsettled`]: super::History::unsettled
/// [`History::expire`]: super::History::expire
pub(super) const MIGRATIONS: &[&str] = &[
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
    CREATE INDEX tasks_newest ON tasks (created_at);
    CREATE INDEX tasks_status ON tasks (status, created_at);
    CREATE TABLE images (
        task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
        idx     INTEGER NOT NULL,
        url     TEXT NOT NULL,
        path    TEXT,
        error   TEXT,
        gone    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (task_id, idx)
    );
    CREATE INDEX images_missing ON images (task_id) WHERE path IS NULL AND gone = 0;",
    // 1 -> 2: balance readings, for the spending and the balance over time.
    "CREATE TABLE balances (
        base_url TEXT NOT NULL,
        at       INTEGER NOT NULL,
        balance  REAL NOT NULL
    );
    CREATE INDEX balances_at ON balances (base_url, at);",
    // 2 -> 3: submissions whose generate call was made but whose task id is not known yet
    // (a crash mid-call leaves one: a billed task may exist that no client can find).
    "CREATE TABLE in_flight (
        key        TEXT PRIMARY KEY NOT NULL,
        base_url   TEXT NOT NULL,
        request    TEXT NOT NULL,
        started_at INTEGER NOT NULL
    );",
    // 3 -> 4: the app's queue: drafts staged to be submitted later, in order, and whether
    // it is paused (kept so that a quit or a crash leaves it as it was).
    "CREATE TABLE queue (
        key      INTEGER PRIMARY KEY NOT NULL,
        position INTEGER NOT NULL,
        request  TEXT NOT NULL
    );
    CREATE TABLE queue_state (
        name  TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    );",
    // 4 -> 5: the search index. Every three-character piece of the prompt and the task id,
    // so that any part of a word is found without reading every row; kept by triggers, and
    // built here for the rows already there.
    "CREATE VIRTUAL TABLE tasks_text USING fts5 (
        prompt, task_id, content = 'tasks', content_rowid = 'rowid', tokenize = 'trigram'
    );
    INSERT INTO tasks_text (tasks_text) VALUES ('rebuild');
    CREATE TRIGGER tasks_text_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO tasks_text (rowid, prompt, task_id)
        VALUES (new.rowid, new.prompt, new.task_id);
    END;
    CREATE TRIGGER tasks_text_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO tasks_text (tasks_text, rowid, prompt, task_id)
        VALUES ('delete', old.rowid, old.prompt, old.task_id);
    END;
    CREATE TRIGGER tasks_text_update AFTER UPDATE OF prompt, task_id ON tasks BEGIN
        INSERT INTO tasks_text (tasks_text, rowid, prompt, task_id)
        VALUES ('delete', old.rowid, old.prompt, old.task_id);
        INSERT INTO tasks_text (rowid, prompt, task_id)
        VALUES (new.rowid, new.prompt, new.task_id);
    END;",
];

/// A schema this fouro does not know is refused, never touched.
pub(super) fn refuse_newer(version: i64, path: &Path) -> Result<()> {
    if version > SCHEMA_VERSION {
        return Err(StoreError::Newer {
            path: path.to_owned(),
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Brings the schema up to [`SCHEMA_VERSION`], one migration per transaction. Another
/// process migrating at the same time is waited for (the write lock), then seen.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(path, e))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(path, e))?;
        // A newer fouro may have migrated it since `open` looked.
        refuse_newer(version, path)?;
        if version == SCHEMA_VERSION {
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
        let started = announce(&tx, version);
        tx.execute_batch(step).map_err(|e| classify(path, e))?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(|e| classify(path, e))?;
        tx.commit().map_err(|e| classify(path, e))?;
        if let Some(started) = started {
            crate::cli::print::errln!(
                "fouro: the search index is built ({:.1} s).",
                started.elapsed().as_secs_f64()
            );
        }
    }
}

/// The migration that builds the search index (4 -> 5) reads every entry: 2 s at 100,000
/// entries, 25 s at a million. Before it starts on a history that long, stderr says so
/// (the app opens the history before it takes over the terminal); the time it took comes
/// after.
fn announce(tx: &Connection, version: i64) -> Option<Instant> {
    if version != 4 {
        return None;
    }
    let entries: i64 = tx
        .query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0))
        .ok()?;
    (entries >= ANNOUNCED_FROM).then(|| {
        crate::cli::print::errln!(
            "fouro: building the search index of the history's {entries} entries (once, after an update; about 25 s a million)..."
        );
        Instant::now()
    })
}

/// Entries from which building the search index takes long enough to be said (~0.2 s).
const ANNOUNCED_FROM: i64 = 10_000;
