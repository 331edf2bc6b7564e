//! Recording tasks and settling them: parameters, progress, results, failures, costs, deletes.

use super::*;

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
fn an_answer_that_changes_nothing_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let h = open(dir.path());
    h.insert("t1", BASE, &prompt("p"), NOW).unwrap();
    let wal = || {
        std::fs::metadata(dir.path().join("history.db-wal"))
            .unwrap()
            .len()
    };
    let updated = || -> i64 {
        raw(h.path())
            .query_row(
                "SELECT updated_at FROM tasks WHERE task_id = 't1'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let generating = record("t1", TaskStatus::Generating, 0.25, &[]);
    assert!(h.record(&generating, NOW + 1).unwrap());
    let (size, at) = (wal(), updated());
    assert_eq!(at, NOW + 1);
    for i in 2..50 {
        assert!(h.record(&generating, NOW + i).unwrap(), "still known");
    }
    assert_eq!((wal(), updated()), (size, at), "the same answer again");

    let done = record("t1", TaskStatus::Success, 1.0, &["https://r/1.png"]);
    assert!(h.record(&done, NOW + 60).unwrap());
    let (size, at) = (wal(), updated());
    assert!(size > 0 && at == NOW + 60);
    for i in 61..70 {
        assert!(h.record(&done, NOW + i).unwrap());
    }
    assert_eq!((wal(), updated()), (size, at), "the same end again");
    let late = record("t1", TaskStatus::Generating, 0.5, &[]);
    assert!(h.record(&late, NOW + 70).unwrap());
    assert_eq!((wal(), updated()), (size, at), "a late reply");

    // A re-signed URL alone is news.
    let resigned = record("t1", TaskStatus::Success, 1.0, &["https://r/1.png?sig=2"]);
    assert!(h.record(&resigned, NOW + 80).unwrap());
    assert!(wal() > size);
    let e = h.get("t1").unwrap().unwrap();
    assert_eq!(e.images[0].url, "https://r/1.png?sig=2");
    assert!(
        !h.record(&record("t9", TaskStatus::Generating, 0.1, &[]), NOW)
            .unwrap()
    );
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
