//! The journal taken in, what `fouro history --json` prints, and saving an image from the emulator.

use super::*;

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
