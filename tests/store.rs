//! The history store on temporary databases: opening, refusing damaged or newer files,
//! recording tasks, listing and searching them, sharing the file, taking in the journal.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use fouro::api::{FallbackModel, GenerateRequest, Size, TaskRecord, TaskStatus, Variants};
use fouro::store::history::{self, FILE_NAME, KEEP_DAYS, SCHEMA_VERSION, move_aside};
use fouro::store::journal::{Journal, JournalEntry};
use fouro::store::{Entry, History, Params, Query, Reference, Status, StatusFilter, StoreError};
use rusqlite::Connection;

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

fn prompt(text: &str) -> Params {
    Params {
        prompt: Some(text.to_owned()),
        ..Params::default()
    }
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
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

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

// ---- recording ----

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

#[test]
fn an_inserted_task_comes_back_with_every_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert("task_4o_1", BASE, &full_params(), NOW).unwrap();
    let e = h.get("task_4o_1").unwrap().unwrap();
    assert_eq!(e.task_id, "task_4o_1");
    assert_eq!(e.base_url, BASE);
    assert_eq!(e.params, full_params());
    assert_eq!(e.status, Status::Generating);
    assert_eq!(e.progress, 0.0);
    assert_eq!(e.created_at, NOW);
    assert_eq!((e.completed_at, e.cost, e.error_code), (None, None, None));
    assert!(e.images.is_empty());
    assert_eq!(h.get("task_4o_2").unwrap(), None);

    // The same id again changes nothing.
    h.insert("task_4o_1", "http://127.0.0.1:1", &prompt("other"), NOW + 5)
        .unwrap();
    assert_eq!(h.get("task_4o_1").unwrap(), Some(e));
    assert_eq!(h.count(&Query::default()).unwrap(), 1);
}

#[test]
fn progress_then_success_with_urls_then_a_changed_url_keeps_the_saved_file() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert("t1", BASE, &prompt("p"), NOW).unwrap();

    assert!(
        h.record(&record("t1", TaskStatus::Generating, 0.4, &[]), NOW + 1)
            .unwrap()
    );
    let e = h.get("t1").unwrap().unwrap();
    assert_eq!(
        (e.status, e.progress, e.completed_at),
        (Status::Generating, 0.4, None)
    );

    let done = TaskRecord {
        complete_time: Some(NOW + 50),
        ..record(
            "t1",
            TaskStatus::Success,
            1.0,
            &["https://r/1.png", "https://r/2.png"],
        )
    };
    assert!(h.record(&done, NOW + 60).unwrap());
    let e = h.get("t1").unwrap().unwrap();
    assert_eq!(e.status, Status::Success);
    assert_eq!(e.progress, 1.0);
    assert_eq!(e.completed_at, Some(NOW + 50));
    let urls: Vec<&str> = e.images.iter().map(|i| i.url.as_str()).collect();
    assert_eq!(urls, ["https://r/1.png", "https://r/2.png"]);
    assert_eq!(e.images.iter().map(|i| i.index).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(e.missing().count(), 2);

    h.image_saved("t1", 0, Path::new("/d/images/t1-1.png"))
        .unwrap();
    let resigned = record(
        "t1",
        TaskStatus::Success,
        1.0,
        &["https://r/1.png?sig=2", "https://r/2.png"],
    );
    assert!(h.record(&resigned, NOW + 90).unwrap());
    let e = h.get("t1").unwrap().unwrap();
    assert_eq!(e.images[0].url, "https://r/1.png?sig=2");
    assert_eq!(
        e.images[0].path.as_deref(),
        Some(Path::new("/d/images/t1-1.png"))
    );
    assert_eq!(e.missing().count(), 1);
    assert_eq!(
        e.completed_at,
        Some(NOW + 50),
        "the first completion time stays"
    );
}

#[test]
fn a_failure_keeps_its_code_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    for (id, status) in [
        ("t1", TaskStatus::GenerateFailed),
        ("t2", TaskStatus::CreateTaskFailed),
    ] {
        h.insert(id, BASE, &prompt("p"), NOW).unwrap();
        let failed = TaskRecord {
            error_code: Some(400),
            error_message: Some("content policy".into()),
            ..record(id, status, 0.2, &[])
        };
        assert!(h.record(&failed, NOW + 9).unwrap());
        let e = h.get(id).unwrap().unwrap();
        assert_eq!(e.status, Status::from(status));
        assert_eq!(e.error_code, Some(400));
        assert_eq!(e.error_message.as_deref(), Some("content policy"));
        assert_eq!(e.completed_at, Some(NOW + 9));
    }
}

#[test]
fn a_late_generating_reply_does_not_undo_an_end() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert("t1", BASE, &prompt("p"), NOW).unwrap();
    h.record(
        &record("t1", TaskStatus::Success, 1.0, &["https://r/1.png"]),
        NOW + 5,
    )
    .unwrap();
    assert!(
        h.record(&record("t1", TaskStatus::Generating, 0.3, &[]), NOW + 6)
            .unwrap()
    );
    let e = h.get("t1").unwrap().unwrap();
    assert_eq!((e.status, e.progress), (Status::Success, 1.0));
    assert_eq!(e.images.len(), 1);
}

#[test]
fn a_record_of_an_unknown_task_is_refused_and_odd_progress_is_tamed() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    assert!(
        !h.record(&record("nope", TaskStatus::Success, 1.0, &["u"]), NOW)
            .unwrap()
    );
    assert_eq!(h.get("nope").unwrap(), None);

    h.insert("t1", BASE, &prompt("p"), NOW).unwrap();
    for (given, kept) in [(f64::NAN, 0.0), (7.0, 1.0), (-1.0, 0.0)] {
        assert!(
            h.record(&record("t1", TaskStatus::Generating, given, &[]), NOW)
                .unwrap()
        );
        assert_eq!(h.get("t1").unwrap().unwrap().progress, kept, "{given}");
    }
}

#[test]
fn image_failed_then_saved_and_cost() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert("t1", BASE, &prompt("p"), NOW).unwrap();
    h.record(&record("t1", TaskStatus::Success, 1.0, &["u1", "u2"]), NOW)
        .unwrap();
    h.image_failed("t1", 1, "HTTP 502").unwrap();
    let e = h.get("t1").unwrap().unwrap();
    assert_eq!(e.images[1].error.as_deref(), Some("HTTP 502"));
    assert!(e.images[1].is_missing(), "a failed download is tried again");

    h.image_saved("t1", 1, Path::new("/x/t1-2.png")).unwrap();
    h.set_cost("t1", 6.0).unwrap();
    let e = h.get("t1").unwrap().unwrap();
    assert_eq!(e.images[1].error, None);
    assert_eq!(e.images[1].path.as_deref(), Some(Path::new("/x/t1-2.png")));
    assert_eq!(e.images[0].path, None);
    assert_eq!(e.cost, Some(6.0));
    assert_eq!(e.missing().map(|i| i.index).collect::<Vec<_>>(), [0]);
}

#[test]
fn delete_returns_the_entry_and_removes_its_images() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert("t1", BASE, &prompt("p"), NOW).unwrap();
    h.insert("t2", BASE, &prompt("q"), NOW).unwrap();
    h.record(&record("t1", TaskStatus::Success, 1.0, &["u1", "u2"]), NOW)
        .unwrap();
    h.record(&record("t2", TaskStatus::Success, 1.0, &["v1"]), NOW)
        .unwrap();

    let gone = h.delete("t1").unwrap().unwrap();
    assert_eq!(gone.task_id, "t1");
    assert_eq!(gone.images.len(), 2);
    assert_eq!(h.get("t1").unwrap(), None);
    assert_eq!(h.delete("t1").unwrap(), None);
    let left: Vec<String> = {
        let c = raw(h.path());
        let mut stmt = c.prepare("SELECT task_id FROM images").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(left, ["t2"]);
    assert_eq!(h.count(&Query::default()).unwrap(), 1);
}

// ---- settling ----

#[test]
fn unsettled_is_what_still_runs_or_waits_for_a_download_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    let at = |id: &str, t: i64| h.insert(id, BASE, &prompt(id), t).unwrap();
    // Inserted out of order; two share a time.
    at("unsaved", NOW + 2);
    at("running", NOW + 1);
    at("running-too", NOW + 2);
    at("saved", NOW + 3);
    at("failed", NOW + 4);
    at("old-running", NOW - 20 * DAY);
    at("old-unsaved", NOW - 20 * DAY);
    at("latest", NOW + 5);

    let ok = |id: &str, urls: &[&str]| {
        h.record(&record(id, TaskStatus::Success, 1.0, urls), NOW)
            .unwrap();
    };
    ok("unsaved", &["a", "b"]);
    h.image_saved("unsaved", 0, Path::new("/x/a.png")).unwrap();
    ok("saved", &["c"]);
    h.image_saved("saved", 0, Path::new("/x/c.png")).unwrap();
    ok("old-unsaved", &["d"]);
    h.record(&record("failed", TaskStatus::GenerateFailed, 0.0, &[]), NOW)
        .unwrap();
    h.record(&record("latest", TaskStatus::Generating, 0.5, &[]), NOW)
        .unwrap();

    assert_eq!(
        ids(&h.unsettled().unwrap()),
        [
            "old-running",
            "old-unsaved",
            "running",
            "unsaved",
            "running-too",
            "latest"
        ]
    );
    // Past the service's keeping time, neither is waited for any more.
    assert_eq!(h.expire(NOW).unwrap(), 2);
    assert_eq!(
        ids(&h.unsettled().unwrap()),
        ["running", "unsaved", "running-too", "latest"]
    );
}

#[test]
fn expire_marks_only_what_is_older_than_the_service_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    let old = NOW - KEEP_DAYS * DAY - 1;
    let recent = NOW - KEEP_DAYS * DAY + 1;
    for (id, t) in [
        ("old-running", old),
        ("recent-running", recent),
        ("old-success", old),
        ("recent-success", recent),
        ("old-failed", old),
        ("old-saved", old),
        ("old-unsaved", old),
    ] {
        h.insert(id, BASE, &prompt(id), t).unwrap();
    }
    h.record(
        &record("old-success", TaskStatus::Success, 1.0, &["a", "b"]),
        old,
    )
    .unwrap();
    h.image_saved("old-success", 0, Path::new("/x/a.png"))
        .unwrap();
    h.record(
        &record("recent-success", TaskStatus::Success, 1.0, &["c"]),
        recent,
    )
    .unwrap();
    h.record(
        &record("old-failed", TaskStatus::GenerateFailed, 0.0, &[]),
        old,
    )
    .unwrap();
    h.record(&record("old-saved", TaskStatus::Success, 1.0, &["d"]), old)
        .unwrap();
    h.image_saved("old-saved", 0, Path::new("/x/d.png"))
        .unwrap();
    h.record(
        &record("old-unsaved", TaskStatus::Success, 1.0, &["e", "f"]),
        old,
    )
    .unwrap();

    // One task now EXPIRED, two with images now gone.
    assert_eq!(h.expire(NOW).unwrap(), 3);
    let get = |id: &str| h.get(id).unwrap().unwrap();
    assert_eq!(get("old-running").status, Status::Expired);
    assert_eq!(get("recent-running").status, Status::Generating);
    let e = get("old-success");
    assert_eq!(e.status, Status::Success);
    assert!(!e.images[0].gone, "a saved image is never gone");
    assert!(e.images[1].gone);
    assert_eq!(e.missing().count(), 0);
    assert!(!get("recent-success").images[0].gone);
    assert_eq!(get("old-failed").status, Status::GenerateFailed);
    assert!(!get("old-saved").images[0].gone);
    assert!(get("old-unsaved").images.iter().all(|i| i.gone));

    assert_eq!(h.expire(NOW).unwrap(), 0, "nothing new the second time");
    // Two more days: the recent ones go too.
    assert_eq!(h.expire(NOW + 2 * DAY).unwrap(), 2);
    assert_eq!(get("recent-running").status, Status::Expired);
    assert!(get("recent-success").images[0].gone);
}

// ---- listing ----

/// A small history to search: (id, prompt, size, status).
fn searchable(dir: &Path) -> History {
    let h = open(dir);
    let rows: [(&str, &str, Size, TaskStatus); 8] = [
        ("task_4o_aa", "A Red Fox", Size::Square, TaskStatus::Success),
        (
            "task_4o_bb",
            "red-eyed tree frog",
            Size::Landscape,
            TaskStatus::GenerateFailed,
        ),
        (
            "task_4o_cc",
            "100% cotton shirt",
            Size::Square,
            TaskStatus::CreateTaskFailed,
        ),
        (
            "task_4o_dd",
            "100 cotton shirts",
            Size::Portrait,
            TaskStatus::Success,
        ),
        (
            "task_4o_ee",
            "snake_case sign",
            Size::Landscape,
            TaskStatus::Generating,
        ),
        (
            "task_4o_ff",
            "snakeXcase sign",
            Size::Landscape,
            TaskStatus::Success,
        ),
        (
            "task_4o_gg",
            "path C:\\red\\fox",
            Size::Square,
            TaskStatus::Success,
        ),
        (
            "task_4o_RedHat",
            "a plain hat",
            Size::Portrait,
            TaskStatus::Success,
        ),
    ];
    for (i, (id, text, size, status)) in rows.into_iter().enumerate() {
        let params = Params {
            size,
            ..prompt(text)
        };
        h.insert(id, BASE, &params, NOW + i as i64).unwrap();
        h.record(&record(id, status, 1.0, &[]), NOW).unwrap();
    }
    h
}

fn search(text: &str) -> Query {
    Query {
        search: Some(text.to_owned()),
        ..Query::default()
    }
}

/// `page` and `count` agree, and `page` is what the caller gets.
fn listed(h: &History, q: &Query) -> Vec<String> {
    let page = h.page(q, 0, 100).unwrap();
    assert_eq!(h.count(q).unwrap(), page.len(), "{q:?}");
    page.into_iter().map(|e| e.task_id).collect()
}

#[test]
fn search_is_case_insensitive_and_matches_task_ids() {
    let dir = tempfile::tempdir().unwrap();
    let h = searchable(dir.path());
    assert_eq!(
        listed(&h, &search("RED")),
        ["task_4o_RedHat", "task_4o_gg", "task_4o_bb", "task_4o_aa"]
    );
    assert_eq!(listed(&h, &search("  fox ")), ["task_4o_gg", "task_4o_aa"]);
    assert_eq!(listed(&h, &search("4o_cc")), ["task_4o_cc"]);
    assert_eq!(listed(&h, &search("nothing like it")), Vec::<String>::new());
    assert_eq!(
        listed(&h, &search("")).len(),
        8,
        "an empty search is no search"
    );
    assert_eq!(listed(&h, &search("   ")).len(), 8);
}

#[test]
fn percent_underscore_and_backslash_in_a_search_are_literal() {
    let dir = tempfile::tempdir().unwrap();
    let h = searchable(dir.path());
    assert_eq!(listed(&h, &search("100%")), ["task_4o_cc"]);
    assert_eq!(listed(&h, &search("%")), ["task_4o_cc"]);
    assert_eq!(listed(&h, &search("e_c")), ["task_4o_ee"]);
    // Every id has `_`; no prompt without one matches on the prompt.
    assert_eq!(listed(&h, &search("_")).len(), 8);
    assert_eq!(listed(&h, &search("\\red\\")), ["task_4o_gg"]);
    assert_eq!(listed(&h, &search("\\")), ["task_4o_gg"]);
}

#[test]
fn status_and_size_filters_alone_and_combined() {
    let dir = tempfile::tempdir().unwrap();
    let h = searchable(dir.path());
    let by = |status: Option<StatusFilter>, size: Option<Size>, text: Option<&str>| Query {
        search: text.map(str::to_owned),
        status,
        size,
    };
    assert_eq!(
        listed(&h, &by(Some(StatusFilter::Failed), None, None)),
        ["task_4o_cc", "task_4o_bb"],
        "both kinds of failure"
    );
    assert_eq!(
        listed(&h, &by(Some(StatusFilter::Generating), None, None)),
        ["task_4o_ee"]
    );
    assert_eq!(
        listed(&h, &by(Some(StatusFilter::Expired), None, None)).len(),
        0
    );
    assert_eq!(
        listed(&h, &by(None, Some(Size::Landscape), None)),
        ["task_4o_ff", "task_4o_ee", "task_4o_bb"]
    );
    assert_eq!(
        listed(
            &h,
            &by(Some(StatusFilter::Success), Some(Size::Square), None)
        ),
        ["task_4o_gg", "task_4o_aa"]
    );
    assert_eq!(
        listed(
            &h,
            &by(Some(StatusFilter::Success), Some(Size::Square), Some("fox"))
        ),
        ["task_4o_gg", "task_4o_aa"]
    );
    assert_eq!(
        listed(&h, &by(Some(StatusFilter::Failed), None, Some("cotton"))),
        ["task_4o_cc"]
    );
    assert_eq!(
        listed(
            &h,
            &by(
                Some(StatusFilter::Success),
                Some(Size::Portrait),
                Some("cotton")
            )
        ),
        ["task_4o_dd"]
    );
    assert_eq!(
        listed(
            &h,
            &by(
                Some(StatusFilter::Failed),
                Some(Size::Portrait),
                Some("cotton")
            )
        ),
        Vec::<String>::new()
    );
}

/// Inserts `n` tasks in one transaction through plain SQLite (10,000 synced commits would
/// take the test minutes); the columns are those `History::insert` fills.
fn bulk_insert(path: &Path, n: usize, created_at: impl Fn(usize) -> i64) {
    let mut c = raw(path);
    let tx = c.transaction().unwrap();
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO tasks (task_id, base_url, prompt, size, variants, status,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, '1:1', 1, 'GENERATING', ?4, ?4)",
            )
            .unwrap();
        for i in 0..n {
            stmt.execute(rusqlite::params![
                format!("task_{i:05}"),
                BASE,
                format!("prompt {i}"),
                created_at(i)
            ])
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

#[test]
fn paging_ten_thousand_rows_newest_first_with_ties_in_a_stable_order() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    // Three tasks share each time, and the times are not in insertion order.
    let created_at = |i: usize| NOW + ((i / 3) as i64 * 7919) % 10_007;
    bulk_insert(h.path(), 10_000, created_at);
    let mut order: Vec<usize> = (0..10_000).collect();
    // Newest first; of those created together, the last inserted first.
    order.sort_by_key(|&i| std::cmp::Reverse((created_at(i), i)));
    let expected: Vec<String> = order.iter().map(|i| format!("task_{i:05}")).collect();

    let all = Query::default();
    assert_eq!(h.count(&all).unwrap(), 10_000);
    for offset in [0, 1, 5_000, 9_990] {
        let page = h.page(&all, offset, 10).unwrap();
        assert_eq!(ids(&page), expected[offset..offset + 10], "offset {offset}");
        for w in page.windows(2) {
            assert!(w[0].created_at >= w[1].created_at);
        }
    }
    assert_eq!(ids(&h.page(&all, 9_995, 10).unwrap()), expected[9_995..]);
    assert!(h.page(&all, 10_000, 10).unwrap().is_empty());
    assert!(h.page(&all, usize::MAX, 10).unwrap().is_empty());
    assert!(h.page(&all, 0, 0).unwrap().is_empty());
    // The same page twice is the same page.
    assert_eq!(
        h.page(&all, 5_000, 100).unwrap(),
        h.page(&all, 5_000, 100).unwrap()
    );

    // With a search, the same order over the matches.
    let q = search("prompt 99");
    let matching: Vec<String> = order
        .iter()
        .filter(|i| format!("prompt {i}").contains("prompt 99"))
        .map(|i| format!("task_{i:05}"))
        .collect();
    assert_eq!(matching.len(), 111);
    assert_eq!(h.count(&q).unwrap(), matching.len());
    assert_eq!(ids(&h.page(&q, 0, 1_000).unwrap()), matching);
}

// ---- sharing ----

/// Inserts and records `n` tasks named `<prefix>-<i>`; every call must succeed.
fn write_tasks(h: &History, prefix: &str, n: usize) {
    for i in 0..n {
        let id = format!("{prefix}-{i}");
        h.insert(&id, BASE, &prompt(&id), NOW + i as i64)
            .unwrap_or_else(|e| panic!("insert {id}: {e}"));
        let urls = [format!("https://r/{id}.png")];
        let rec = TaskRecord {
            result_urls: urls.to_vec(),
            ..record(&id, TaskStatus::Success, 1.0, &[])
        };
        assert!(
            h.record(&rec, NOW)
                .unwrap_or_else(|e| panic!("record {id}: {e}"))
        );
    }
}

fn assert_all_there(path: &Path, prefixes: &[&str], n: usize) {
    let h = History::open(path).unwrap();
    assert_eq!(h.count(&Query::default()).unwrap(), prefixes.len() * n);
    for p in prefixes {
        for i in [0, n / 2, n - 1] {
            let e = h.get(&format!("{p}-{i}")).unwrap().unwrap();
            assert_eq!((e.status, e.images.len()), (Status::Success, 1));
        }
    }
    assert_eq!(quick_check(path), "ok");
}

#[test]
fn two_threads_with_their_own_connections_write_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(dir.path());
    let start = Arc::new(Barrier::new(2));
    let writers: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|prefix| {
            let (path, start) = (path.clone(), start.clone());
            std::thread::spawn(move || {
                // Both open the fresh file at once: one creates the schema, the other waits.
                start.wait();
                let h = History::open(&path).unwrap_or_else(|e| panic!("open: {e}"));
                write_tasks(&h, prefix, 300);
            })
        })
        .collect();
    for w in writers {
        w.join().expect("a writer failed");
    }
    assert_all_there(&path, &["a", "b"], 300);
}

#[test]
fn a_fresh_database_opened_by_several_at_once_opens_for_all() {
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = db_in(dir.path());
        let start = Arc::new(Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    History::open(&path).map(|h| h.schema_version())
                })
            })
            .collect();
        for o in openers {
            match o.join().expect("an opener panicked") {
                Ok(Ok(v)) => assert_eq!(v, SCHEMA_VERSION),
                Ok(Err(e)) | Err(e) => panic!("round {round}: {e}"),
            }
        }
    }
}

#[test]
fn one_handle_shared_by_threads() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    std::thread::scope(|s| {
        for prefix in ["x", "y", "z"] {
            let h = h.clone();
            s.spawn(move || write_tasks(&h, prefix, 50));
        }
    });
    assert_all_there(h.path(), &["x", "y", "z"], 50);
}

const WRITER_ENV: &str = "FOURO_STORE_TEST_WRITER";

/// Run as a child process by the test below: writes its share and exits.
#[test]
fn two_processes_write_at_once() {
    if let Ok(spec) = std::env::var(WRITER_ENV) {
        let (path, prefix) = spec.split_once('|').expect("path|prefix");
        let h = History::open(Path::new(path)).unwrap_or_else(|e| panic!("open: {e}"));
        write_tasks(&h, prefix, 300);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(dir.path());
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["p", "q"]
        .into_iter()
        .map(|prefix| {
            std::process::Command::new(&exe)
                .args(["two_processes_write_at_once", "--exact", "--test-threads=1"])
                .env(WRITER_ENV, format!("{}|{prefix}", path.display()))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a writer process failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The child ran the test, not nothing.
        assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
    }
    assert_all_there(&path, &["p", "q"], 300);
}

// ---- the journal ----

fn journal_entry(id: &str, text: &str) -> JournalEntry {
    JournalEntry {
        task_id: id.to_owned(),
        base_url: BASE.to_owned(),
        submitted_at: NOW,
        request: GenerateRequest {
            prompt: Some(text.to_owned()),
            size: Size::Landscape,
            n_variants: Some(Variants::Two),
            files_url: vec!["https://files.example/ref.png".into()],
            ..GenerateRequest::default()
        },
        submission: None,
    }
}

fn journals(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    found.sort();
    found
}

#[test]
fn the_journal_is_taken_in_once_and_renamed_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::in_dir(dir.path());
    journal.append(&journal_entry("j1", "a fox")).unwrap();
    journal.append(&journal_entry("j2", "a hare")).unwrap();
    let content = std::fs::read(journal.path()).unwrap();

    let h = History::open_in(dir.path()).unwrap();
    let e = h.get("j1").unwrap().unwrap();
    assert_eq!(e.params.prompt.as_deref(), Some("a fox"));
    assert_eq!(e.params.size, Size::Landscape);
    assert_eq!(e.params.variants, Variants::Two);
    assert_eq!(e.params.refs[0].url, "https://files.example/ref.png");
    assert_eq!((e.created_at, e.status), (NOW, Status::Generating));
    assert!(h.get("j2").unwrap().is_some());
    assert!(!journal.path().exists());
    let imported = journals(dir.path(), "tasks-imported-");
    assert_eq!(imported.len(), 1);
    assert_eq!(std::fs::read(&imported[0]).unwrap(), content);
    h.record(&record("j1", TaskStatus::Success, 1.0, &["u"]), NOW)
        .unwrap();
    drop(h);

    // Opening again takes in nothing twice; a known id keeps what the history knows.
    journal.append(&journal_entry("j1", "changed")).unwrap();
    journal.append(&journal_entry("j3", "an owl")).unwrap();
    let h = History::open_in(dir.path()).unwrap();
    assert_eq!(h.count(&Query::default()).unwrap(), 3);
    let e = h.get("j1").unwrap().unwrap();
    assert_eq!(
        (e.params.prompt.as_deref(), e.status),
        (Some("a fox"), Status::Success)
    );
    assert_eq!(journals(dir.path(), "tasks-imported-").len(), 2);
    drop(h);
    let h = History::open_in(dir.path()).unwrap();
    assert_eq!(h.count(&Query::default()).unwrap(), 3);
    assert!(journals(dir.path(), "tasks-importing-").is_empty());
}

#[test]
fn a_journal_left_half_imported_is_taken_in_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let left = Journal::at(
        &dir.path()
            .join("tasks-importing-20260307-120000000-1.jsonl"),
    );
    left.append(&journal_entry("j1", "a fox")).unwrap();
    let h = History::open_in(dir.path()).unwrap();
    assert!(h.get("j1").unwrap().is_some());
    assert!(journals(dir.path(), "tasks-importing-").is_empty());
    assert_eq!(journals(dir.path(), "tasks-imported-").len(), 1);
}

#[test]
fn a_journal_is_not_touched_when_the_database_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(db_in(dir.path()), noise(4096)).unwrap();
    let journal = Journal::in_dir(dir.path());
    journal.append(&journal_entry("j1", "a fox")).unwrap();
    assert!(History::open_in(dir.path()).is_err());
    assert_eq!(journal.entries().unwrap().len(), 1);
    assert!(journals(dir.path(), "tasks-imp").is_empty());
}

// ---- what `fouro history --json` prints ----

#[test]
fn an_entry_serializes_with_camel_case_fields_and_upper_case_status() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert("task_4o_1", BASE, &full_params(), NOW).unwrap();
    let done = TaskRecord {
        error_code: None,
        complete_time: Some(NOW + 1),
        ..record("task_4o_1", TaskStatus::Success, 1.0, &["https://r/1.png"])
    };
    h.record(&done, NOW).unwrap();
    h.image_saved("task_4o_1", 0, Path::new("/d/x-1.png"))
        .unwrap();
    let entry = h.get("task_4o_1").unwrap().unwrap();
    let json = serde_json::to_value(&entry).unwrap();

    assert_eq!(json["taskId"], "task_4o_1");
    assert_eq!(json["baseUrl"], BASE);
    assert_eq!(json["createdAt"], NOW);
    assert_eq!(json["completedAt"], NOW + 1);
    assert_eq!(json["status"], "SUCCESS");
    assert!(json["errorCode"].is_null() && json["errorMessage"].is_null());
    assert_eq!(json["params"]["size"], "2:3");
    assert_eq!(json["params"]["variants"], 4);
    assert_eq!(json["params"]["fallback"], "GPT_IMAGE_1");
    assert_eq!(json["params"]["callbackUrl"], "https://example.com/hook");
    assert_eq!(json["params"]["refs"][0]["origin"], "/home/me/fox.png");
    assert_eq!(json["images"][0]["path"], "/d/x-1.png");
    assert_eq!(json["images"][0]["gone"], false);

    fn snake_keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    if k.contains('_') {
                        out.push(k.clone());
                    }
                    snake_keys(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| snake_keys(v, out)),
            _ => {}
        }
    }
    let mut snake = Vec::new();
    snake_keys(&json, &mut snake);
    assert!(snake.is_empty(), "snake_case keys: {snake:?}");

    for status in Status::ALL {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    assert_eq!(history::Status::GenerateFailed.as_str(), "GENERATE_FAILED");
}

// ---- saving an image, against the emulator on 127.0.0.1 ----

#[tokio::test]
async fn a_saved_image_is_whole_on_disk_and_recorded() {
    use fouro::api::poll::{PollOptions, wait_for_task};
    use fouro::store::files::{image_path, save_image};

    let emu = common::emulator(100).await;
    let client = common::client(&emu);
    let req = GenerateRequest {
        prompt: Some("a lighthouse".into()),
        n_variants: Some(Variants::Two),
        ..GenerateRequest::default()
    };
    let id = client.generate(&req).await.unwrap();
    let opts = PollOptions {
        first_interval: Duration::from_millis(30),
        max_interval: Duration::from_millis(100),
        give_up_after: Duration::from_secs(30),
    };
    let done = wait_for_task(&client, &id, &opts, |_| {}).await.unwrap();
    assert_eq!(done.result_urls.len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert(&id, &emu.base_url(), &Params::from_request(&req), NOW)
        .unwrap();
    h.record(&done, NOW).unwrap();
    let saved = save_image(
        &client,
        Some(&h),
        dir.path(),
        &id,
        NOW,
        1,
        &done.result_urls[1],
    )
    .await
    .unwrap();
    assert_eq!(saved, image_path(dir.path(), &id, NOW, 1));
    let bytes = std::fs::read(&saved).unwrap();
    let expected = client
        .download_result(&id, &done.result_urls[1])
        .await
        .unwrap();
    assert_eq!(bytes, expected.as_ref());
    let leftovers: Vec<_> = std::fs::read_dir(saved.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let e = h.get(&id).unwrap().unwrap();
    assert_eq!(e.images[1].path.as_deref(), Some(saved.as_path()));
    assert_eq!(e.missing().map(|i| i.index).collect::<Vec<_>>(), [0]);
}
