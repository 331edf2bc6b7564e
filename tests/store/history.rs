//! The history store on temporary databases: opening, refusing damaged or newer files,
//! recording tasks, listing and searching them, sharing the file, taking in the journal.

use crate::common::{self, noise};
use crate::{prompt, search};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use fouro::api::{FallbackModel, GenerateRequest, Size, TaskRecord, TaskStatus, Variants};
use fouro::store::history::{self, FILE_NAME, KEEP_DAYS, SCHEMA_VERSION, move_aside};
use fouro::store::journal::{Journal, JournalEntry};
use fouro::store::{Entry, History, Params, Query, Reference, Status, StatusFilter, StoreError};
use rusqlite::Connection;

mod journal;
mod listing;
mod recording;

const DAY: i64 = 24 * 60 * 60 * 1000;
/// 2026-03-07, in milliseconds.
const NOW: i64 = 1_772_841_600_000;
const BASE: &str = "http://127.0.0.1:9";

fn db_in(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

fn open(dir: &Path) -> History {
    History::open(&db_in(dir)).expect("a fresh history opens")
}

fn record(id: &str, status: TaskStatus, progress: f64, urls: &[&str]) -> TaskRecord {
    TaskRecord {
        task_id: id.to_owned(),
        status,
        progress,
        result_urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        error_code: None,
        error_message: None,
        create_time: None,
        complete_time: None,
        param_json: None,
    }
}

fn ids(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.task_id.as_str()).collect()
}

fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("the file opens with plain SQLite")
}

fn quick_check(path: &Path) -> String {
    raw(path)
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .expect("quick_check runs")
}

/// Bytes that are not a database (no SQLite header), the same every run.

// ---- opening ----

#[test]
fn a_fresh_database_is_at_the_schema_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    assert_eq!(h.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(h.path(), db_in(dir.path()));
    let c = raw(&db_in(dir.path()));
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn reopening_is_idempotent_and_keeps_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let schema = |path: &Path| -> Vec<String> {
        let c = raw(path);
        let mut stmt = c
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let h = open(dir.path());
    h.insert("task_4o_1", BASE, &prompt("a fox"), NOW).unwrap();
    drop(h);
    let first = schema(&db_in(dir.path()));
    assert!(!first.is_empty());
    for _ in 0..3 {
        let h = open(dir.path());
        assert_eq!(h.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(h.count(&Query::default()).unwrap(), 1);
    }
    assert_eq!(schema(&db_in(dir.path())), first);
}

#[test]
fn the_parent_directory_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/history.db");
    let h = History::open(&path).unwrap();
    assert_eq!(h.count(&Query::default()).unwrap(), 0);
    assert!(path.is_file());
}

fn assert_corrupt(err: StoreError, path: &Path) {
    let message = err.to_string();
    match err {
        StoreError::Corrupt { path: p, .. } => assert_eq!(p, path),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("fouro history --move-aside"), "{message}");
    assert!(message.contains("left as it is"), "{message}");
}

#[test]
fn random_bytes_open_as_corrupt_and_are_left_as_they_are() {
    for len in [64, 4096, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = db_in(dir.path());
        let bytes = noise(len);
        std::fs::write(&path, &bytes).unwrap();
        let err = History::open(&path).unwrap_err();
        assert_corrupt(err, &path);
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{len} bytes");
        // And again: a second attempt changes nothing either.
        assert!(History::open_in(dir.path()).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{len} bytes");
    }
}

/// A history of `n` tasks with long prompts, closed cleanly (everything in the main file).
fn filled(dir: &Path, n: usize) -> PathBuf {
    let h = open(dir);
    for i in 0..n {
        let text = format!(
            "{i}: {}",
            "a lighthouse on a cliff at dusk, oil on canvas. ".repeat(8)
        );
        h.insert(
            &format!("task_4o_{i:05}"),
            BASE,
            &prompt(&text),
            NOW + i as i64,
        )
        .unwrap();
    }
    drop(h);
    let path = db_in(dir);
    assert!(!dir.join(format!("{FILE_NAME}-wal")).exists());
    path
}

#[test]
fn a_truncated_database_opens_as_corrupt_and_is_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = filled(dir.path(), 300);
    let whole = std::fs::read(&path).unwrap();
    assert!(whole.len() > 64 * 1024, "{} bytes", whole.len());
    let cut = whole[..whole.len() / 2].to_vec();
    std::fs::write(&path, &cut).unwrap();

    let err = History::open(&path).unwrap_err();
    assert_corrupt(err, &path);
    assert_eq!(std::fs::read(&path).unwrap(), cut);
}

#[test]
fn move_aside_moves_the_database_with_its_wal_and_shm_and_a_fresh_one_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(dir.path());
    let bytes = noise(4096);
    std::fs::write(&path, &bytes).unwrap();
    let side = |p: &Path, s: &str| PathBuf::from(format!("{}{s}", p.display()));
    std::fs::write(side(&path, "-wal"), b"wal bytes").unwrap();
    std::fs::write(side(&path, "-shm"), b"shm bytes").unwrap();
    assert!(History::open(&path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(std::fs::read(side(&path, "-wal")).unwrap(), b"wal bytes");

    let moved = move_aside(&path).unwrap();
    assert_eq!(moved.parent(), path.parent());
    let name = moved.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("history.db.moved-"), "{name}");
    assert_eq!(std::fs::read(&moved).unwrap(), bytes);
    assert_eq!(std::fs::read(side(&moved, "-wal")).unwrap(), b"wal bytes");
    // The shared-memory index is SQLite's to rebuild; it only has to travel along.
    assert!(side(&moved, "-shm").exists());
    for s in ["", "-wal", "-shm"] {
        assert!(!side(&path, s).exists(), "{s} was left behind");
    }

    let h = History::open(&path).unwrap();
    assert_eq!(h.count(&Query::default()).unwrap(), 0);
    h.insert("task_4o_1", BASE, &prompt("fresh"), NOW).unwrap();
    assert_eq!(quick_check(&path), "ok");
}

#[test]
fn move_aside_keeps_uncheckpointed_commits_with_their_database() {
    let dir = tempfile::tempdir().unwrap();
    let copy = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    for i in 0..5 {
        h.insert(&format!("task_4o_{i}"), BASE, &prompt("p"), NOW)
            .unwrap();
    }
    // The files as a crash would leave them, the commits still in the WAL.
    for s in ["", "-wal", "-shm"] {
        let name = format!("{FILE_NAME}{s}");
        std::fs::copy(dir.path().join(&name), copy.path().join(&name)).unwrap();
    }
    drop(h);
    let moved = move_aside(&db_in(copy.path())).unwrap();
    let n: i64 = raw(&moved)
        .query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 5);
}

#[test]
fn moving_aside_twice_in_one_second_replaces_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(dir.path());
    let mut moved = Vec::new();
    for content in [b"first".as_slice(), b"second", b"third"] {
        std::fs::write(&path, content).unwrap();
        moved.push((move_aside(&path).unwrap(), content));
    }
    for (p, content) in &moved {
        assert_eq!(std::fs::read(p).unwrap(), *content, "{}", p.display());
    }
    assert!(move_aside(&path).is_err(), "nothing left to move");
}

#[test]
fn a_database_from_a_newer_fouro_is_refused_and_left_byte_for_byte() {
    for wal in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = db_in(dir.path());
        {
            let c = raw(&path);
            if wal {
                c.pragma_update(None, "journal_mode", "WAL").unwrap();
            }
            c.execute_batch("CREATE TABLE tasks (task_id TEXT PRIMARY KEY, future BLOB);")
                .unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
                .unwrap();
        }
        let bytes = std::fs::read(&path).unwrap();

        let err = History::open_in(dir.path()).unwrap_err();
        let message = err.to_string();
        match err {
            StoreError::Newer { found, known, .. } => {
                assert_eq!((found, known), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
            }
            other => panic!("expected Newer, got {other:?}"),
        }
        assert!(message.contains("newer fouro"), "{message}");
        assert!(message.contains("Update fouro"), "{message}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "wal: {wal}");
    }
}

fn full_params() -> Params {
    Params {
        prompt: Some("a fox in the snow".into()),
        refs: vec![
            Reference {
                origin: "/home/me/fox.png".into(),
                url: "https://files.example/fox.png".into(),
            },
            Reference {
                origin: "https://example.com/snow.jpg".into(),
                url: "https://example.com/snow.jpg".into(),
            },
        ],
        mask: Some(Reference {
            origin: "mask.png".into(),
            url: "https://files.example/mask.png".into(),
        }),
        size: Size::Portrait,
        variants: Variants::Four,
        enhance: true,
        fallback: Some(FallbackModel::GptImage1),
        callback_url: Some("https://example.com/hook".into()),
    }
}
