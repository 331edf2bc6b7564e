//! `sync`, concurrent `generate`s and where images are saved.

use super::*;

#[tokio::test]
async fn sync_expires_old_tasks_without_asking_and_skips_other_services() {
    let emu = emulator(300).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let other = "http://127.0.0.1:9";
    let h = History::open_in(d).expect("history opens");
    h.insert(
        "task_4o_ancient",
        &base,
        &params("long ago", Size::Square, Variants::One),
        now_ms() - 15 * DAY_MS,
    )
    .expect("insert");
    h.insert(
        "task_4o_elsewhere",
        other,
        &params("elsewhere", Size::Square, Variants::One),
        now_ms(),
    )
    .expect("insert");
    drop(h);

    // No key: nothing of this service needs the network.
    let o = fouro(&base, d, None, &["sync", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report = json(&o);
    assert_eq!(report["expired"], 1, "{report}");
    assert_eq!(report["tasks"], serde_json::json!([]), "{report}");
    assert_eq!(report["skipped"][0]["taskId"], "task_4o_elsewhere");
    assert_eq!(report["skipped"][0]["baseUrl"], other);
    assert_eq!(
        calls(&emu, "record-info").await,
        0,
        "the old task was not polled"
    );
    assert_eq!(
        history_ids(&base, d, &["--status", "expired"]).await,
        ["task_4o_ancient"]
    );

    let o = fouro(&base, d, None, &["sync"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("task_4o_elsewhere")
            && stdout(&o).contains(&format!("--base-url {other}")),
        "{}",
        stdout(&o)
    );
    assert_eq!(calls(&emu, "record-info").await, 0);
}

#[tokio::test]
async fn sync_says_when_tasks_are_left_unsettled() {
    let emu = emulator(300).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let o = fouro(&base, d, Some(KEY), &["generate", "later"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let id = stdout(&o).trim().to_owned();

    let o = fouro(&base, d, None, &["sync"]).await;
    assert_eq!(code(&o), 3, "no key: {}", stderr(&o));
    assert!(
        stderr(&o).contains("FOURO_API_KEY") && stderr(&o).contains("fouro sync"),
        "{}",
        stderr(&o)
    );

    let o = fouro(&base, d, Some("sk-wrong-key-for-sync"), &["sync"]).await;
    assert_eq!(code(&o), 3, "refused key: {}", stderr(&o));
    assert!(stdout(&o).contains(&id), "the task's line: {}", stdout(&o));
    assert!(
        stderr(&o).contains("run `fouro sync` again"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        history_ids(&base, d, &["--status", "generating"]).await,
        [id.as_str()]
    );

    let o = fouro(&base, d, Some(KEY), &["sync"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let line = stdout(&o)
        .lines()
        .find(|l| l.starts_with(&id))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(
        line.contains("SUCCESS") && line.contains("1 saved"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        history_ids(&base, d, &["--status", "success"]).await,
        [id.as_str()]
    );
}

#[tokio::test]
async fn two_generates_at_once_both_reach_the_history() {
    let emu = emulator(500).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let run = |prompt: &'static str| {
        Fouro::at(&base, d, Some(KEY))
            .command(&[])
            .args(["generate", prompt, "--wait"])
            .output()
    };
    let (a, b) = tokio::join!(run("first of two"), run("second of two"));
    let (a, b) = (a.expect("first runs"), b.expect("second runs"));
    assert_eq!(code(&a), 0, "{}", stderr(&a));
    assert_eq!(code(&b), 0, "{}", stderr(&b));
    let first = stdout(&a).lines().next().unwrap_or_default().to_owned();
    let second = stdout(&b).lines().next().unwrap_or_default().to_owned();
    assert_ne!(first, second);

    let o = fouro(&base, d, None, &["history", "--json"]).await;
    let entries = json(&o);
    let entries = entries.as_array().expect("array");
    assert_eq!(entries.len(), 2, "{entries:?}");
    for id in [&first, &second] {
        let e = entries
            .iter()
            .find(|e| e["taskId"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} is in the history: {entries:?}"));
        assert_eq!(e["status"], "SUCCESS");
        let path = e["images"][0]["path"].as_str().unwrap_or_default();
        assert!(Path::new(path).is_file(), "{e}");
    }
    assert!(
        !d.join("tasks.jsonl").exists(),
        "both went straight into the database"
    );
}

#[tokio::test]
async fn generate_and_download_save_into_the_data_dir_and_copy_to_out() {
    let emu = emulator(300).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();

    // Without --out, the paths printed are the history's.
    let o = fouro(
        &base,
        d,
        Some(KEY),
        &["generate", "two foxes", "--variants", "2", "--wait"],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let id = lines[0].to_owned();
    let entry = History::open_in(d)
        .expect("history opens")
        .get(&id)
        .expect("readable")
        .expect("recorded");
    for (i, (line, image)) in lines[1..].iter().zip(&entry.images).enumerate() {
        let file = image_file(d, &id, entry.created_at, i + 1);
        assert_eq!(*line, file.to_str().unwrap(), "{text}");
        assert_eq!(image.path.as_deref(), Some(file.as_path()));
        assert!(file.is_file());
    }
    assert_eq!(entry.images.len(), 2);

    // download reuses what is saved and copies it where asked.
    let out = tempfile::tempdir().unwrap();
    let links = calls(&emu, "download-url").await;
    let o = fouro(
        &base,
        d,
        Some(KEY),
        &["download", &id, "--out", out.path().to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let copy = out.path().join(format!("{id}-1.png"));
    assert_eq!(stdout(&o).lines().next(), copy.to_str());
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        std::fs::read(image_file(d, &id, entry.created_at, 1)).unwrap()
    );
    assert_eq!(
        calls(&emu, "download-url").await,
        links,
        "saved images are not fetched again"
    );

    // A task submitted without --wait is downloaded into the history by `download` (the
    // service's empty first answer for a fresh task is turned off: it is not what is tested).
    null_data(&emu, false).await;
    let o = fouro(&base, d, Some(KEY), &["generate", "fetched later"]).await;
    let later = stdout(&o).trim().to_owned();
    until_ended(&emu, &later).await;
    let o = fouro(&base, d, Some(KEY), &["download", &later]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let entry = History::open_in(d)
        .expect("history opens")
        .get(&later)
        .expect("readable")
        .expect("recorded");
    assert_eq!(entry.status.as_str(), "SUCCESS");
    let file = image_file(d, &later, entry.created_at, 1);
    assert_eq!(entry.images[0].path.as_deref(), Some(file.as_path()));
    assert_eq!(stdout(&o).trim(), file.to_str().unwrap());
    let img = image::open(&file).expect("decodable");
    assert_eq!((img.width(), img.height()), (1024, 1024));
}
