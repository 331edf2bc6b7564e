//! Listing and searching the history, and two processes sharing the file.

use super::*;

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
        newest: None,
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
    // This test's own name in the harness: its module path without the crate.
    let (_, module) = module_path!().split_once("::").unwrap();
    let name = format!("{module}::two_processes_write_at_once");
    let children: Vec<_> = ["p", "q"]
        .into_iter()
        .map(|prefix| {
            std::process::Command::new(&exe)
                .args([name.as_str(), "--exact", "--test-threads=1"])
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
