//! The history through the `fouro` binary: no generation is lost to a crash, a corrupt or
//! newer database is never changed, and `history`, `sync`, `generate` and `download` keep it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use chrono::TimeZone;
use common::*;
use fouro::api::{Size, TaskRecord, TaskStatus, Variants};
use fouro::store::{History, Params};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The binary with a private data directory and nothing else from the environment.
fn command(base_url: &str, data: &Path, key: Option<&str>) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FOURO_DATA_DIR", data)
        // Never a config.toml of the machine's: its profile would change what is sent.
        .env("FOURO_CONFIG_DIR", data.join("config"))
        .env("FOURO_BASE_URL", base_url)
        .arg("--retries")
        .arg("1")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // Image folders are named by the local date: the child must see the same zone.
    if let Some(tz) = std::env::var_os("TZ") {
        cmd.env("TZ", tz);
    }
    if let Some(k) = key {
        cmd.env("FOURO_API_KEY", k);
    }
    cmd
}

async fn fouro(base_url: &str, data: &Path, key: Option<&str>, args: &[&str]) -> Output {
    let out = command(base_url, data, key)
        .args(args)
        .output()
        .await
        .expect("fouro runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "fouro {args:?} panicked: {err}");
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}
fn json(o: &Output) -> Value {
    serde_json::from_str(stdout(o).trim())
        .unwrap_or_else(|e| panic!("not one JSON value ({e}): {}\n{}", stdout(o), stderr(o)))
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

/// Pseudo-random bytes that are surely not an SQLite header.
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

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).expect("readable dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_generate_killed_while_waiting_is_finished_by_sync() {
    let emu = emulator(3_000).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let mut child = command(&base, data.path(), Some(KEY))
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

#[tokio::test]
async fn a_corrupt_database_is_refused_left_alone_and_can_be_moved_aside() {
    let emu = emulator(300).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let db = d.join("history.db");
    let garbage = noise(16 * 1024);
    std::fs::write(&db, &garbage).unwrap();
    let leaf = asset("ref-leaf.png");

    let runs: [&[&str]; 3] = [
        &["history"],
        &["sync"],
        &[
            "generate",
            "must not be billed",
            "--ref",
            leaf.to_str().unwrap(),
        ],
    ];
    for args in runs {
        let o = fouro(&base, d, Some(KEY), args).await;
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("cannot be read") && err.contains("fouro history --move-aside"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read(&db).unwrap(),
            garbage,
            "{args:?} changed the file"
        );
        assert_eq!(
            files_under(d),
            std::slice::from_ref(&db),
            "{args:?} left files behind"
        );
    }
    assert_eq!(calls(&emu, "generate").await, 0, "no credit was spent");
    assert_eq!(calls(&emu, "upload").await, 0, "nothing was uploaded");

    let o = fouro(&base, d, None, &["history", "--move-aside"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!db.exists(), "moved");
    let moved: Vec<PathBuf> = files_under(d);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        stdout(&o).contains(moved[0].to_str().unwrap()) && stdout(&o).contains("fresh"),
        "says where it went: {}",
        stdout(&o)
    );
    assert_eq!(std::fs::read(&moved[0]).unwrap(), garbage, "kept as it was");

    assert!(history_ids(&base, d, &[]).await.is_empty());
    let o = fouro(&base, d, None, &["history", "--move-aside"]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("nothing was moved"), "{}", stdout(&o));
    assert!(db.exists(), "a healthy database stays");
}

#[tokio::test]
async fn a_database_from_a_newer_fouro_is_refused_and_left_alone() {
    let emu = emulator(300).await;
    let base = emu.base_url();
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let db = d.join("history.db");
    let h = History::open_in(d).expect("history opens");
    h.insert(
        "task_4o_kept",
        &base,
        &params("kept", Size::Square, Variants::One),
        now_ms(),
    )
    .expect("insert");
    drop(h);
    {
        let conn = rusqlite::Connection::open(&db).expect("sqlite opens");
        conn.pragma_update(None, "user_version", 99)
            .expect("version set");
    }
    let before = std::fs::read(&db).unwrap();

    let runs: [&[&str]; 3] = [&["history"], &["sync"], &["generate", "not now"]];
    for args in runs {
        let o = fouro(&base, d, Some(KEY), args).await;
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("newer fouro"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(&db).unwrap(), before, "{args:?} changed it");
    }
    assert_eq!(calls(&emu, "generate").await, 0);
    assert_eq!(calls(&emu, "record-info").await, 0);
}

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
        command(&base, d, Some(KEY))
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

    // A task submitted without --wait is downloaded into the history by `download`.
    let o = fouro(&base, d, Some(KEY), &["generate", "fetched later"]).await;
    let later = stdout(&o).trim().to_owned();
    until_ended(&emu, &later).await;
    // The service's first answer for a fresh task can be empty: wait until it has the record.
    let api = client(&emu);
    for _ in 0..10 {
        if api
            .record_info(&later)
            .await
            .expect("record-info")
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
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
