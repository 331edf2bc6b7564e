//! `fouro batch` against the emulator: the plan before anything is spent, bad lines, the
//! budget, exit codes, and a batch killed twice and resumed with exactly one task per line.

use crate::common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use common::*;
use fouro::emulator::Emulator;
use serde_json::Value;

/// The binary with a private data directory, talking to `emu` with its key.
fn batch(emu: &Emulator, data: &Path) -> Fouro {
    Fouro::at(&emu.base_url(), data, Some(KEY))
}

/// Runs it to the end; `args` after the globals.
async fn fouro(emu: &Emulator, data: &Path, args: &[&str]) -> Output {
    batch(emu, data).run(args).await
}

/// The same, to spawn and watch.
fn command(emu: &Emulator, data: &Path, args: &[&str]) -> tokio::process::Command {
    batch(emu, data).command(args)
}

fn write_input(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn records(manifest: &Path) -> Vec<Value> {
    std::fs::read_to_string(manifest)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn count(records: &[Value], event: &str) -> usize {
    records.iter().filter(|r| r["event"] == event).count()
}

/// Waits (bounded) until the manifest satisfies `ready`.
async fn until_manifest(manifest: &Path, what: &str, ready: impl Fn(&[Value]) -> bool) {
    until(
        &format!("the manifest to show {what}"),
        Duration::from_secs(60),
        || std::future::ready(ready(&records(manifest))),
    )
    .await;
}

/// SIGKILLs the batch while no generate call is under way: stopped (SIGSTOP) so that nothing
/// moves, it is killed when every `submitting` has its answer written and the history holds no
/// in-flight call; otherwise it goes on (SIGCONT) and is stopped again a moment later. A kill
/// during a call is the one case a batch cannot settle alone (the service may have made a task
/// whose id was lost); `a_cut_off_call_is_not_submitted_again_unless_asked` covers it.
async fn kill_between_calls(child: &mut tokio::process::Child, data: &Path, manifest: &Path) {
    let pid = child.id().expect("the batch runs").to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    };
    let db = data.join(fouro::store::history::FILE_NAME);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        signal("-STOP");
        let r = records(manifest);
        let calls_open =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM in_flight", [], |row| {
                        row.get::<_, i64>(0)
                    })
                })
                .unwrap_or(1);
        if calls_open == 0
            && count(&r, "submitting") == count(&r, "submitted") + count(&r, "refused")
        {
            child.start_kill().expect("the batch is killed");
            child.wait().await.expect("the batch ends");
            return;
        }
        signal("-CONT");
        assert!(
            std::time::Instant::now() < deadline,
            "the batch was never between two calls"
        );
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// A line per kind: plain prompts, and JSON objects with a size, a count or an enhance.
fn fifty_lines() -> Vec<String> {
    let mut lines = vec!["# fifty tasks, mixed".to_owned(), String::new()];
    for i in 1..=50 {
        lines.push(match i % 3 {
            0 => format!("a plain prompt number {i}"),
            1 => format!(r#"{{"prompt": "a JSON prompt number {i}", "size": "3:2"}}"#),
            _ => format!(
                r#"{{"prompt": "a JSON prompt number {i}", "variants": 2, "enhance": true}}"#
            ),
        });
    }
    lines
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_lines_killed_twice_and_resumed_make_one_task_each() {
    let emu = emulator_with(|c| {
        c.duration = Duration::from_millis(400);
        c.credits = 100_000;
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let input = write_input(data.path(), "fifty.txt", &fifty_lines());
    let manifest = data.path().join("fifty.txt.manifest.jsonl");
    let args = ["batch", input.to_str().unwrap(), "--yes"];

    // Killed (SIGKILL) twice while tasks are generating, each time between two submissions.
    for submitted in [8, 26] {
        let mut child = command(&emu, data.path(), &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("fouro starts");
        until_manifest(&manifest, "enough tasks submitted", |r| {
            count(r, "submitted") >= submitted
        })
        .await;
        kill_between_calls(&mut child, data.path(), &manifest).await;
        let r = records(&manifest);
        assert!(
            count(&r, "ended") < 50,
            "killed before the end: {} ended",
            count(&r, "ended")
        );
    }

    let out = fouro(&emu, data.path(), &args).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // The tasks the last kill left generating are followed, not submitted again.
    let err = stderr(&out);
    let following: usize = err
        .lines()
        .find_map(|l| l.split(", ").find_map(|p| p.strip_suffix(" to follow")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no tasks to follow: {err}"));
    assert!(following >= 1, "{err}");
    // Tasks made, not calls: a restarted batch's first window may meet the emulator's 429
    // (the killed run's generates still count there), and a refused call makes no task.
    assert_eq!(
        stats(&emu).await["tasks"].as_u64(),
        Some(50),
        "one task per line, none twice"
    );

    // Every line has exactly one task, which succeeded with its images on disk.
    let r = records(&manifest);
    let mut by_line: BTreeMap<u64, HashSet<String>> = BTreeMap::new();
    for rec in r.iter().filter(|x| x["taskId"].is_string()) {
        by_line
            .entry(rec["line"].as_u64().unwrap())
            .or_default()
            .insert(rec["taskId"].as_str().unwrap().to_owned());
    }
    assert_eq!(by_line.len(), 50, "{by_line:?}");
    assert!(by_line.values().all(|ids| ids.len() == 1), "{by_line:?}");
    let ended: Vec<&Value> = r.iter().filter(|x| x["event"] == "ended").collect();
    assert_eq!(ended.len(), 50);
    for e in &ended {
        assert_eq!(e["status"], "SUCCESS", "{e}");
        let images = e["images"].as_array().unwrap();
        assert_eq!(images.len() as u64, e["variants"].as_u64().unwrap(), "{e}");
        for p in images {
            assert!(Path::new(p.as_str().unwrap()).is_file(), "{p}");
        }
    }

    // The manifest matches the history.
    let out = fouro(&emu, data.path(), &["history", "--json", "--limit", "100"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let history: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(history.len(), 50);
    let in_history: HashSet<String> = history
        .iter()
        .map(|e| e["taskId"].as_str().unwrap().to_owned())
        .collect();
    let in_manifest: HashSet<String> = by_line.values().flatten().cloned().collect();
    assert_eq!(in_history, in_manifest);
    for e in &ended {
        let h = history.iter().find(|h| h["taskId"] == e["taskId"]).unwrap();
        assert_eq!(h["status"], "SUCCESS");
        assert_eq!(h["params"]["size"], e["size"]);
    }

    // Run once more: nothing is left to do, nothing is sent.
    let before = calls(&emu, "generate").await;
    let out = fouro(&emu, data.path(), &args).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(calls(&emu, "generate").await, before);
    assert_eq!(stats(&emu).await["tasks"].as_u64(), Some(50));
}

#[tokio::test]
async fn the_plan_comes_first_and_nothing_is_spent_without_a_yes() {
    let emu = emulator(200).await;
    let data = tempfile::tempdir().unwrap();
    let lines = ["a red fox".to_owned(), "a blue whale".to_owned()];
    let input = write_input(data.path(), "two.txt", &lines);
    let file = input.to_str().unwrap();

    // No terminal to ask on, no --yes: refused after the plan.
    let out = fouro(&emu, data.path(), &["batch", file, "--size", "1:1,3:2"]).await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("batch: 4 task(s), 4 image(s)"), "{err}");
    assert!(err.contains("cost not known yet"), "{err}");
    assert!(err.contains("balance: 100 credits"), "{err}");
    assert!(err.contains("pass --yes"), "{err}");

    // On a terminal, answered "n".
    let cmd = format!(
        "{} --retries 1 batch {file} --size 1:1,3:2",
        env!("CARGO_BIN_EXE_fouro")
    );
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &cmd, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FOURO_DATA_DIR", data.path())
        .env("FOURO_CONFIG_DIR", data.path().join("config"))
        .env("FOURO_BASE_URL", emu.base_url())
        .env("FOURO_API_KEY", KEY)
        .env("TERM", "dumb");
    let mut child = tokio::process::Command::from(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("script runs");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"n\n").await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    let seen = stdout(&out);
    assert!(seen.contains("to submit: 4 task(s)"), "{seen}");
    assert!(seen.contains("submit 4 task(s)? [y/N]"), "{seen}");
    assert!(seen.contains("nothing was submitted"), "{seen}");
    assert_eq!(code(&out), 9, "{seen}");
    assert_eq!(calls(&emu, "generate").await, 0);
}

#[tokio::test]
async fn a_bad_line_is_refused_with_its_number_before_anything_is_sent() {
    let emu = emulator(200).await;
    let data = tempfile::tempdir().unwrap();
    let lines = [
        "a red fox".to_owned(),
        "# a comment".to_owned(),
        r#"{"prompt": "a whale", "size": "16:9"}"#.to_owned(),
        r#"{"prompt": "a whale", "colour": "blue"}"#.to_owned(),
    ];
    let input = write_input(data.path(), "bad.txt", &lines);
    let out = fouro(
        &emu,
        data.path(),
        &["batch", input.to_str().unwrap(), "--yes"],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("2 line(s)"), "{err}");
    assert!(
        err.contains("line 3: size must be 1:1, 3:2 or 2:3, not \"16:9\""),
        "{err}"
    );
    assert!(err.contains("line 4: unknown field `colour`"), "{err}");
    assert!(err.contains("nothing was submitted"), "{err}");
    assert_eq!(calls(&emu, "generate").await, 0);
    assert_eq!(calls(&emu, "credit").await, 0, "not even the balance");
    assert!(!data.path().join("bad.txt.manifest.jsonl").exists());
}

#[tokio::test]
async fn max_credits_stops_submitting_before_the_estimate_passes_it() {
    let emu = emulator_with(|c| {
        c.duration = Duration::from_millis(200);
        c.credits = 1000;
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (1..=10).map(|i| format!("prompt {i}")).collect();
    let input = write_input(data.path(), "ten.txt", &lines);
    let file = input.to_str().unwrap();

    // No cost observed yet: a budget cannot be kept, so nothing starts.
    let out = fouro(
        &emu,
        data.path(),
        &["batch", file, "--yes", "--max-credits", "30"],
    )
    .await;
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("--max-credits needs a cost per image"));
    assert_eq!(calls(&emu, "generate").await, 0);

    // One task alone shows what an image costs (6 credits on this emulator).
    let out = fouro(&emu, data.path(), &["generate", "a seed", "--wait"]).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));

    let out = fouro(
        &emu,
        data.path(),
        &["batch", file, "--yes", "--max-credits", "30"],
    )
    .await;
    assert_eq!(code(&out), 8, "some succeeded: {}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("~60 credits (6 per image, as observed)"),
        "{err}"
    );
    assert!(
        err.contains("the next task would take the estimate to ~36 credits, past --max-credits 30"),
        "{err}"
    );
    assert!(
        err.contains("--max-credits 30: the first 5 of them fit (~30 credits"),
        "the plan says so first: {err}"
    );
    assert!(err.contains("5 succeeded"), "{err}");
    assert_eq!(calls(&emu, "generate").await, 1 + 5);

    // The budget counts what the manifest says was submitted: nothing more fits.
    let out = fouro(
        &emu,
        data.path(),
        &["batch", file, "--yes", "--max-credits", "30"],
    )
    .await;
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert_eq!(calls(&emu, "generate").await, 1 + 5);
    // A larger budget goes on with the rest.
    let out = fouro(
        &emu,
        data.path(),
        &["batch", file, "--yes", "--max-credits", "60"],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(calls(&emu, "generate").await, 1 + 10);
}

#[tokio::test]
async fn none_succeeded_and_stdin_gets_a_manifest_in_the_data_directory() {
    let emu = emulator_with(|c| {
        c.duration = Duration::from_millis(200);
        c.fail_rate = 1.0;
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let out = batch(&emu, data.path())
        .stdin("a red fox\n{\"prompt\": \"a whale\"}\n")
        .run(&["batch", "-", "--yes"])
        .await;
    assert_eq!(code(&out), 9, "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.matches("GENERATE_FAILED").count(), 2, "{text}");
    let err = stderr(&out);
    let shown = err
        .lines()
        .find_map(|l| l.strip_prefix("manifest: "))
        .expect("the manifest's place is said");
    assert!(shown.starts_with(data.path().to_str().unwrap()), "{err}");
    assert_eq!(count(&records(Path::new(shown)), "ended"), 2);
}

#[tokio::test]
async fn a_cut_off_call_is_not_submitted_again_unless_asked() {
    let emu = emulator(200).await;
    let data = tempfile::tempdir().unwrap();
    let lines = ["first".to_owned(), "second".to_owned(), "third".to_owned()];
    let input = write_input(data.path(), "cut.txt", &lines);
    let file = input.to_str().unwrap();
    let manifest = data.path().join("cut.txt.manifest.jsonl");
    // A batch died during line 1's generate call (the workflow's in-flight record is there)
    // and just before line 2's (no call was made).
    let since = chrono::Utc::now().timestamp_millis() - 1000;
    let started = |line: usize, text: &str| {
        format!(
            r#"{{"line":{line},"text":"{text}","size":"1:1","variants":1,"event":"submitting","at":{since}}}"#
        )
    };
    std::fs::write(
        &manifest,
        format!("{}\n{}\n", started(1, "first"), started(2, "second")),
    )
    .unwrap();
    let history = fouro::store::History::open_in(data.path()).unwrap();
    let request = fouro::api::GenerateRequest {
        prompt: Some("first".into()),
        ..Default::default()
    };
    history
        .begin_in_flight("k", &emu.base_url(), &request, since + 10)
        .unwrap();
    drop(history);

    let out = fouro(&emu, data.path(), &["batch", file, "--yes"]).await;
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("line 1 (1:1 x1): its generate call was cut off"),
        "{err}"
    );
    assert!(err.contains("--resubmit-unknown"), "{err}");
    assert_eq!(
        calls(&emu, "generate").await,
        2,
        "lines 2 and 3, never line 1"
    );

    let out = fouro(
        &emu,
        data.path(),
        &["batch", file, "--yes", "--resubmit-unknown"],
    )
    .await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(calls(&emu, "generate").await, 3);
}

#[tokio::test]
async fn ctrl_c_stops_submitting_and_says_how_to_go_on() {
    let emu = emulator_with(|c| {
        c.duration = Duration::from_millis(1500);
        c.credits = 1000;
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (1..=12).map(|i| format!("prompt {i}")).collect();
    let input = write_input(data.path(), "twelve.txt", &lines);
    let manifest = data.path().join("twelve.txt.manifest.jsonl");
    let args = ["batch", input.to_str().unwrap(), "--yes", "--parallel", "2"];
    let child = command(&emu, data.path(), &args).spawn().unwrap();
    until_manifest(&manifest, "two tasks submitted", |r| {
        count(r, "submitted") >= 2
    })
    .await;
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().await.unwrap();
    let err = stderr(&out);
    assert!(matches!(code(&out), 8 | 9), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(err.contains("to go on: `fouro batch"), "{err}");
    assert!(
        err.contains("--parallel") || err.contains("--resume"),
        "{err}"
    );
    let submitted = count(&records(&manifest), "submitted");
    assert!(submitted < 12, "stopped submitting: {submitted}");
    assert_eq!(calls(&emu, "generate").await as usize, submitted);

    // Resumed with more at once: the interrupted tasks are followed, the rest submitted.
    let resume = [
        "batch",
        input.to_str().unwrap(),
        "--yes",
        "--resume",
        "--parallel",
        "12",
    ];
    let out = fouro(&emu, data.path(), &resume).await;
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(calls(&emu, "generate").await, 12);
}
