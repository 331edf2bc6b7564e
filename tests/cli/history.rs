//! The history through the `fouro` binary: no generation is lost to a crash, a corrupt or
//! newer database is never changed, and `history`, `sync`, `generate` and `download` keep it.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use chrono::TimeZone;
use common::*;
use fouro::api::{Size, TaskRecord, TaskStatus, Variants};
use fouro::store::{History, Params};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

mod damaged;
mod sync;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn fouro(base_url: &str, data: &Path, key: Option<&str>, args: &[&str]) -> Output {
    Fouro::at(base_url, data, key).run(args).await
}

fn json(o: &Output) -> Value {
    json_out(o)
}

/// The entries `fouro history --json` lists, by task id.
async fn history_ids(base_url: &str, data: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["history", "--json"];
    all.extend_from_slice(args);
    let o = fouro(base_url, data, None, &all).await;
    assert_eq!(code(&o), 0, "{all:?}: {}", stderr(&o));
    json(&o)
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| e["taskId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Where the history keeps image `n` (from 1) of a task created at `created_at` (ms).
fn image_file(data: &Path, id: &str, created_at: i64, n: usize) -> PathBuf {
    let day = chrono::Local
        .timestamp_millis_opt(created_at)
        .single()
        .expect("a valid time")
        .format("%Y-%m-%d")
        .to_string();
    data.join("images").join(day).join(format!("{id}-{n}.png"))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn params(prompt: &str, size: Size, variants: Variants) -> Params {
    Params {
        prompt: Some(prompt.to_owned()),
        size,
        variants,
        ..Params::default()
    }
}

fn record(id: &str, status: TaskStatus, urls: &[&str], error: Option<&str>) -> TaskRecord {
    TaskRecord {
        task_id: id.to_owned(),
        status,
        progress: if status == TaskStatus::Generating {
            0.5
        } else {
            1.0
        },
        result_urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        error_code: error.map(|_| 500),
        error_message: error.map(str::to_owned),
        create_time: None,
        complete_time: None,
        param_json: None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_generate_killed_while_waiting_is_finished_by_sync() {
    let emu = emulator(3_000).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let mut child = Fouro::at(&base, data.path(), Some(KEY))
        .command(&[])
        .args([
            "generate",
            "a lighthouse that survives",
            "--size",
            "3:2",
            "--wait",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("fouro starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let id = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the task id comes in time")
        .expect("stdout readable")
        .expect("a task id line");
    assert!(id.starts_with("task_4o_"), "{id}");
    assert_eq!(
        task(&emu, &id).await["status"],
        "GENERATING",
        "killed while the task runs"
    );
    child.kill().await.expect("SIGKILL");

    let o = fouro(&base, data.path(), Some(KEY), &["sync", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let report = json(&o);
    assert_eq!(report["complete"], true, "{report}");
    let tasks = report["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 1, "{report}");
    assert_eq!(tasks[0]["taskId"], id.as_str());
    assert_eq!(tasks[0]["status"], "SUCCESS", "{report}");
    assert_eq!(tasks[0]["missing"], 0);
    assert_eq!(
        calls(&emu, "generate").await,
        1,
        "nothing was submitted again"
    );

    let o = fouro(&base, data.path(), None, &["history", "--json"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let entries = json(&o);
    let entry = &entries[0];
    assert_eq!(entry["taskId"], id.as_str(), "{entries}");
    assert_eq!(entry["status"], "SUCCESS");
    let created = entry["createdAt"].as_i64().expect("createdAt");
    let file = image_file(data.path(), &id, created, 1);
    assert_eq!(
        entry["images"][0]["path"],
        file.to_str().unwrap(),
        "{entries}"
    );
    assert_eq!(
        tasks[0]["saved"][0],
        file.to_str().unwrap(),
        "sync said where"
    );
    let img = image::open(&file).expect("a decodable PNG");
    assert_eq!((img.width(), img.height()), (1536, 1024));

    // A second sync finds nothing to do.
    let o = fouro(&base, data.path(), Some(KEY), &["sync"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing to sync"), "{}", stdout(&o));
}

#[tokio::test]
async fn the_api_key_never_reaches_the_history() {
    let secret = "sk-fouro-distinctive-5e1f0c7a9d3b2468";
    let emu = emulator_with(|c| {
        c.keys = vec![secret.to_owned()];
        c.duration = Duration::from_millis(300);
    })
    .await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    // Held open, so that the WAL is not folded into the database and removed when the
    // processes end: both files are scanned with content in them.
    let keeper = History::open_in(data.path()).expect("a fresh history");
    let o = fouro(
        &base,
        data.path(),
        Some(secret),
        &["generate", "a key-free cat", "--variants", "2"],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let first = stdout(&o).trim().to_owned();
    let o = fouro(
        &base,
        data.path(),
        Some(secret),
        &["generate", "a key-free dog", "--wait"],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = fouro(&base, data.path(), Some(secret), &["sync"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(&first), "{}", stdout(&o));

    let db = data.path().join("history.db");
    let wal = data.path().join("history.db-wal");
    let mut both = std::fs::read(&db).expect("the database");
    let wal_bytes = std::fs::read(&wal).expect("the WAL");
    assert!(!wal_bytes.is_empty(), "the WAL holds the runs' writes");
    both.extend_from_slice(&wal_bytes);
    assert!(
        contains(&both, first.as_bytes()),
        "the scan sees what was written"
    );
    for file in files_under(data.path()) {
        let bytes = std::fs::read(&file).expect("readable");
        assert!(
            !contains(&bytes, secret.as_bytes()),
            "{} holds the API key",
            file.display()
        );
    }
    drop(keeper);
}

/// A history with five entries of every kind, newest first: t5, t3, t2, t1, t4.
fn seed(data: &Path) -> [String; 5] {
    let h = History::open_in(data).expect("history opens");
    let now = now_ms();
    let base = "http://127.0.0.1:9";
    let ids = ["t1", "t2", "t3", "t4", "t5"].map(|t| format!("task_4o_{t}"));
    let rows = [
        (
            &ids[0],
            "a lighthouse at dusk",
            Size::Landscape,
            now - 3 * 3_600_000,
        ),
        (&ids[1], "a red fox", Size::Square, now - 2 * 3_600_000),
        (
            &ids[2],
            "Lighthouse in fog",
            Size::Portrait,
            now - 3_600_000,
        ),
        (
            &ids[3],
            "100% cotton_shirt",
            Size::Square,
            now - 20 * DAY_MS,
        ),
        (&ids[4], "a small lighthouse", Size::Square, now - 60_000),
    ];
    for (id, prompt, size, at) in rows {
        let variants = if id == &ids[4] {
            Variants::Two
        } else {
            Variants::One
        };
        h.insert(id, base, &params(prompt, size, variants), at)
            .expect("insert");
    }
    h.expire(now).expect("t4 expires");
    h.record(
        &record(
            &ids[0],
            TaskStatus::Success,
            &["http://127.0.0.1:9/a.png"],
            None,
        ),
        now,
    )
    .expect("record");
    h.record(
        &record(
            &ids[1],
            TaskStatus::GenerateFailed,
            &[],
            Some("failed to generate image"),
        ),
        now,
    )
    .expect("record");
    h.record(&record(&ids[2], TaskStatus::Generating, &[], None), now)
        .expect("record");
    h.record(
        &record(
            &ids[4],
            TaskStatus::Success,
            &["http://127.0.0.1:9/b1.png", "http://127.0.0.1:9/b2.png"],
            None,
        ),
        now,
    )
    .expect("record");
    h.image_saved(&ids[4], 0, &data.join("saved-b1.png"))
        .expect("saved");
    ids
}

#[tokio::test]
async fn history_lists_and_narrows_entries_newest_first() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let ids = seed(d);
    let [t1, t2, t3, t4, t5] = [0, 1, 2, 3, 4].map(|i| ids[i].as_str());
    let base = "http://127.0.0.1:9";

    assert_eq!(history_ids(base, d, &[]).await, [t5, t3, t2, t1, t4]);
    assert_eq!(
        history_ids(base, d, &["--search", "lighthouse"]).await,
        [t5, t3, t1],
        "case-insensitive, anywhere in the prompt"
    );
    assert_eq!(history_ids(base, d, &["--search", "t2"]).await, [t2]);
    assert_eq!(
        history_ids(base, d, &["--search", "0% c"]).await,
        [t4],
        "% is itself"
    );
    assert_eq!(history_ids(base, d, &["--status", "failed"]).await, [t2]);
    assert_eq!(history_ids(base, d, &["--status", "expired"]).await, [t4]);
    assert_eq!(
        history_ids(base, d, &["--status", "generating"]).await,
        [t3]
    );
    assert_eq!(
        history_ids(base, d, &["--status", "success"]).await,
        [t5, t1]
    );
    assert_eq!(
        history_ids(base, d, &["--aspect", "1:1"]).await,
        [t5, t2, t4]
    );
    assert_eq!(
        history_ids(
            base,
            d,
            &[
                "--search",
                "lighthouse",
                "--aspect",
                "2:3",
                "--status",
                "generating"
            ]
        )
        .await,
        [t3]
    );
    assert_eq!(history_ids(base, d, &["--limit", "2"]).await, [t5, t3]);
    assert!(
        history_ids(base, d, &["--search", "zebra"])
            .await
            .is_empty()
    );

    // The JSON is the entry, camelCase.
    let o = fouro(base, d, None, &["history", "--json", "--limit", "1"]).await;
    let v = json(&o);
    let e = &v[0];
    assert_eq!(e["params"]["prompt"], "a small lighthouse", "{v}");
    assert_eq!(e["params"]["size"], "1:1");
    assert_eq!(e["params"]["variants"], 2);
    assert_eq!(e["baseUrl"], base);
    assert!(e["createdAt"].is_i64(), "{e}");
    assert_eq!(
        e["images"][0]["path"],
        d.join("saved-b1.png").to_str().unwrap()
    );
    assert_eq!(e["images"][1]["path"], Value::Null);
    assert!(e.get("task_id").is_none(), "{e}");

    // Text: one line per entry, with what is known of its images.
    let o = fouro(base, d, None, &["history"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].contains(t5)
            && lines[0].contains("SUCCESS")
            && lines[0].contains("1:1")
            && lines[0].contains("x2")
            && lines[0].contains("saved-b1.png")
            && lines[0].contains("1 not downloaded"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(t3) && lines[1].contains("not downloaded"),
        "{text}"
    );
    assert!(
        lines[2].contains("GENERATE_FAILED") && lines[2].contains("failed to generate image"),
        "{text}"
    );
    assert!(lines[4].contains("EXPIRED"), "{text}");
    let o = fouro(base, d, None, &["history", "--limit", "2"]).await;
    assert_eq!(stdout(&o).lines().count(), 2);
    assert!(stderr(&o).contains("2 of 5"), "{}", stderr(&o));

    let o = fouro(base, d, None, &["history", "--status", "lost"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = fouro(base, d, None, &["history", "--aspect", "4:3"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[tokio::test]
async fn prompts_are_printed_with_control_characters_escaped_and_cut() {
    let data = tempfile::tempdir().unwrap();
    let h = History::open_in(data.path()).expect("history opens");
    let raw = "\u{1b}[31mred\nline";
    let long = format!("a very long prompt {}", "word ".repeat(60));
    h.insert(
        "task_4o_ctl",
        "http://127.0.0.1:9",
        &params(raw, Size::Square, Variants::One),
        now_ms(),
    )
    .expect("insert");
    h.insert(
        "task_4o_long",
        "http://127.0.0.1:9",
        &params(&long, Size::Square, Variants::One),
        now_ms() - 1_000,
    )
    .expect("insert");
    drop(h);

    let o = fouro("http://127.0.0.1:9", data.path(), None, &["history"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        !text.contains('\u{1b}'),
        "an escape reached the terminal: {text:?}"
    );
    assert_eq!(text.lines().count(), 2, "one line each: {text:?}");
    assert!(text.contains(r"\u{1b}[31mred\nline"), "{text}");
    let long_line = text
        .lines()
        .find(|l| l.contains("task_4o_long"))
        .expect("the long one");
    assert!(
        long_line.contains("a very long prompt") && long_line.contains('…'),
        "{long_line}"
    );
    assert!(!long_line.contains(long.trim()), "cut: {long_line}");

    // JSON keeps the prompt as it was.
    let o = fouro(
        "http://127.0.0.1:9",
        data.path(),
        None,
        &["history", "--json"],
    )
    .await;
    assert_eq!(json(&o)[0]["params"]["prompt"], raw);
}
