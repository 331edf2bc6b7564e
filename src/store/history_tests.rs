//! The history's own checks: query plans and migrations.

use super::*;

fn plan(conn: &Connection, sql: &str, args: &[Value]) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(3))
        .unwrap();
    rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
}

#[test]
fn pages_are_read_in_index_order_without_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(&dir.path().join(FILE_NAME)).unwrap();
    let queries = [
        Query::default(),
        Query {
            status: Some(StatusFilter::Success),
            ..Query::default()
        },
        Query {
            search: Some("fox".into()),
            size: Some(Size::Portrait),
            ..Query::default()
        },
    ];
    for query in queries {
        let (clause, mut args) = query.clause();
        args.extend([Value::Integer(100), Value::Integer(5_000)]);
        let sql = format!(
            "SELECT {COLUMNS} FROM tasks {}",
            page_tail(&clause, args.len())
        );
        let plan = plan(&h.conn(), &sql, &args);
        if query.search.is_some() {
            // What the search index finds, in order: the matches, not every row.
            assert!(plan.contains("tasks_text"), "{query:?}: {plan}");
            assert!(!plan.contains("SCAN tasks "), "{query:?}: {plan}");
            continue;
        }
        assert!(plan.contains("USING INDEX"), "{query:?}: {plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{query:?}: {plan}");
    }
}

#[test]
fn a_common_text_is_read_newest_first_through_the_index_of_dates() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(&dir.path().join(FILE_NAME)).unwrap();
    let query = Query {
        search: Some("lighthouse".into()),
        ..Query::default()
    };
    let (clause, mut args) = query.clause_for(Plan::Walk);
    args.extend([Value::Integer(100), Value::Integer(0)]);
    let sql = format!(
        "SELECT {COLUMNS} FROM tasks {}",
        page_tail(&clause, args.len())
    );
    let plan = plan(&h.conn(), &sql, &args);
    assert!(plan.contains("tasks_newest"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[test]
fn missing_images_are_found_through_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(&dir.path().join(FILE_NAME)).unwrap();
    let sql = "SELECT task_id FROM images WHERE path IS NULL AND gone = 0";
    let plan = plan(&h.conn(), sql, &[]);
    assert!(plan.contains("images_missing"), "{plan}");
}

#[test]
fn a_failed_migration_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut conn = Connection::open(&path).unwrap();
    // A file that is some other program's: the first migration cannot run on it.
    conn.execute_batch("CREATE TABLE images (x);").unwrap();
    let err = migrate(&mut conn, &path).unwrap_err();
    assert!(matches!(err, StoreError::Other { .. }), "{err:?}");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 0);
    let tasks: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'tasks'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tasks, 0, "the half-done migration was rolled back");
}

#[test]
fn a_newer_schema_met_while_migrating_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let mut conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 3)
        .unwrap();
    match migrate(&mut conn, &path) {
        Err(StoreError::Newer { found, .. }) => assert_eq!(found, SCHEMA_VERSION + 3),
        other => panic!("expected Newer, got {other:?}"),
    }
}

#[test]
fn storage_failures_say_what_to_do() {
    let path = Path::new("/data/history.db");
    let failure = |code| {
        classify(
            path,
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None),
        )
        .to_string()
    };
    let locked = failure(rusqlite::ffi::SQLITE_BUSY);
    assert!(locked.contains("another fouro"), "{locked}");
    let open = failure(rusqlite::ffi::SQLITE_CANTOPEN);
    assert!(open.contains("may write to it"), "{open}");
    let io = failure(rusqlite::ffi::SQLITE_IOERR);
    assert!(io.contains("disk has space"), "{io}");
}

#[test]
fn a_routine_update_is_written_without_waiting_for_the_disk_and_then_it_waits_again() {
    use crate::api::{TaskRecord, TaskStatus};
    let dir = tempfile::tempdir().unwrap();
    let h = History::open(&dir.path().join(FILE_NAME)).unwrap();
    let synchronous = |h: &History| -> i64 {
        h.conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    };
    const FULL: i64 = 2;
    assert_eq!(synchronous(&h), FULL);
    h.insert("task_4o_1", "http://127.0.0.1:9", &Params::default(), 1)
        .unwrap();
    let mut record = TaskRecord {
        task_id: "task_4o_1".into(),
        status: TaskStatus::Generating,
        progress: 0.5,
        result_urls: Vec::new(),
        error_code: None,
        error_message: None,
        create_time: None,
        complete_time: None,
        param_json: None,
    };
    assert!(h.record(&record, 2).unwrap());
    assert_eq!(synchronous(&h), FULL, "back to waiting for the disk");
    assert_eq!(h.get("task_4o_1").unwrap().unwrap().progress, 0.5);
    record.task_id = "task_4o_unknown".into();
    assert!(!h.record(&record, 3).unwrap());
    assert_eq!(synchronous(&h), FULL, "also when nothing was changed");
}
