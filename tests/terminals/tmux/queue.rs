//! The queue as a person works it, in the real binary: the app in tmux (private socket, its
//! own data and config directories) against an emulator of this test's own. Six entries are
//! staged (two prompts in three aspects), reordered, started and paused, the app quits and
//! starts again, the queue comes back paused and in its order, and is resumed: every entry
//! ends SUCCESS with its image, in the queue's order, the emulator never saw more tasks
//! generating at once than `queue_parallel`, and no call was refused with a 429. Every wait
//! polls until a condition holds or a deadline passes.
//!
//! tmux must be installed: without it this test fails (it does not skip).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fouro::emulator::Emulator;

use super::*;
use crate::common::{self, emulator_with, until_blocking};

const KEY: &str = "k-queue-e2e-5c1d";
/// At most this many tasks generating at once (`queue_parallel` in the test's config).
const PARALLEL: u64 = 2;
/// The pane's size: columns, rows.
const SIZE: (u16, u16) = (110, 34);
/// How long one step may take to show.
const STEP: Duration = Duration::from_secs(30);

/// An emulator of the test's own, its tasks taking a second each.
fn emulator(runtime: &tokio::runtime::Runtime, credits: i64) -> Emulator {
    runtime.block_on(emulator_with(|c| {
        c.keys = vec![KEY.to_owned()];
        c.duration = Duration::from_secs(1);
        c.credits = credits;
    }))
}

/// The app in `dir`'s data and config directories against `base`.
fn app_command(dir: &Path, base: &str) -> String {
    format!(
        "env FOURO_DATA_DIR={} FOURO_CONFIG_DIR={} FOURO_API_KEY={KEY} FOURO_BASE_URL={base} FOURO_IMAGE_PROTOCOL=blocks TERM=xterm-256color {}",
        dir.join("data").display(),
        dir.join("config").display(),
        env!("CARGO_BIN_EXE_fouro")
    )
}

/// `command` in a tmux pane of its own; the pane stays after the app quits, so that it can be
/// started again in it.
fn start(command: &str) -> Tmux {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmux = Tmux::start_command(&repo, command, SIZE);
    tmux.run(&["set", "-g", "remain-on-exit", "on"]);
    tmux
}

/// The emulator's counts.
fn stats(runtime: &tokio::runtime::Runtime, emulator: &Emulator) -> serde_json::Value {
    runtime.block_on(common::stats(emulator))
}

/// Waits until the history holds `count` tasks, each ended SUCCESS with its image saved.
fn until_done(data: &Path, count: usize, within: Duration) -> Vec<(String, String, String, i64)> {
    until_blocking(&format!("{count} tasks with their images"), within, || {
        let tasks = history(data);
        (tasks.len() == count && tasks.iter().all(|t| t.2 == "SUCCESS" && t.3 == 1))
            .then_some(tasks)
    })
}

/// Waits until the pane's program has exited.
fn until_dead(tmux: &Tmux, what: &str) {
    until_blocking(what, Duration::from_secs(20), || tmux.dead().then_some(()));
}

/// The queue's rows on screen, as "prompt size" in their order.
fn queue_rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            let state = ["PAUSED ", "QUEUED ", "SENDING "]
                .into_iter()
                .find_map(|s| l.split_once(s))?;
            let rest = state.1.split(['┃', '│']).next()?.trim();
            let (size, rest) = rest.split_once(' ')?;
            let (_, prompt) = rest.split_once(' ')?;
            Some(format!("{prompt} {size}"))
        })
        .collect()
}

/// Every task in the history, oldest first: (prompt, size, status, images saved).
fn history(data: &Path) -> Vec<(String, String, String, i64)> {
    let conn = rusqlite::Connection::open(data.join("history.db")).expect("the history opens");
    let mut statement = conn
        .prepare(
            "SELECT t.prompt, t.size, t.status,
                    (SELECT count(*) FROM images i WHERE i.task_id = t.task_id AND i.path IS NOT NULL)
             FROM tasks t ORDER BY t.created_at, t.rowid",
        )
        .expect("a query");
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .expect("the tasks")
}

/// Stages the prompt in the editor in all three aspects (one variant each).
fn stage_three(tmux: &Tmux, prompt: &str) {
    tmux.keys(&["M-k"]);
    tmux.type_text(prompt);
    tmux.wait_text(&format!("{} chars", prompt.chars().count()), STEP);
    tmux.keys(&["M-s"]);
    tmux.wait_text("Stage in the queue", STEP);
    tmux.keys(&["Right", "Space", "Right", "Space"]);
    tmux.wait_text("3 entries: 3 images", STEP);
    tmux.keys(&["Enter"]);
    tmux.wait_text("staged 3 entries", STEP);
}

#[test]
fn a_queue_is_staged_reordered_paused_kept_over_a_restart_and_resumed_in_tmux() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let emulator = emulator(&runtime, 100);
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    private_config(
        &dir.path().join("config"),
        &format!("queue_parallel = {PARALLEL}\n"),
    );
    let command = app_command(dir.path(), &emulator.base_url());
    let tmux = start(&command);
    tmux.wait_text("100 credits", STEP);

    // Two prompts in three aspects: six entries, nothing spent.
    stage_three(&tmux, "alpha fox");
    stage_three(&tmux, "beta owl");
    tmux.wait_text("queue 6 ⏸ paused", STEP);
    let stats_now = stats(&runtime, &emulator);
    assert_eq!(stats_now["tasks"], 0, "staging spends nothing");

    // In the tasks pane: the fourth entry (beta owl 1:1) moves to the top, the last one
    // (beta owl 2:3) one place up.
    tmux.keys(&["Tab", "Tab", "Tab"]);
    tmux.wait_text("↑↓  task", STEP);
    tmux.keys(&["Down"]);
    tmux.wait_text("↓  tasks", STEP);
    tmux.keys(&["Down", "Down", "Down", "K", "K", "K"]);
    tmux.keys(&["Down", "Down", "Down", "Down", "Down", "K"]);
    let order = [
        "beta owl 1:1",
        "alpha fox 1:1",
        "alpha fox 3:2",
        "alpha fox 2:3",
        "beta owl 2:3",
        "beta owl 3:2",
    ];
    let screen = tmux.wait_for("the new order", Duration::from_secs(10), false, |s| {
        queue_rows(s) == order
    });
    assert!(screen.contains("queue 6 ⏸ paused"), "{screen}");

    // Start: the estimate first; then pause as soon as it runs.
    tmux.keys(&["P"]);
    tmux.wait_text("Start the queue: 6 entries.", STEP);
    tmux.wait_text("6 images, cost not known yet", STEP);
    tmux.keys(&["y"]);
    tmux.wait_text("▶ running", STEP);
    tmux.keys(&["P"]);
    tmux.wait_text("queue paused", STEP);
    // What was sent finishes; then quit (nothing generates: no question).
    let screen = tmux.wait_for(
        "the sent tasks to end",
        Duration::from_secs(30),
        false,
        |s| !s.contains("GENERATING") && !s.contains("SENDING") && s.contains("SUCCESS"),
    );
    let done_before = screen.matches("SUCCESS").count();
    assert!(
        (1..6).contains(&done_before),
        "paused part-way: {done_before} done\n{screen}"
    );
    tmux.keys(&["q"]);
    until_dead(&tmux, "the app to quit");

    // Started again: the rest of the queue is back, paused, in its order.
    tmux.respawn(&command);
    let screen = tmux.wait_for("the kept queue", Duration::from_secs(30), false, |s| {
        s.contains(&format!("queue {} ⏸ paused", 6 - done_before))
    });
    assert_eq!(queue_rows(&screen), order[done_before..], "{screen}");
    assert!(!screen.contains("Start the queue?"), "a paused queue waits");

    // Resume (F6 works from the prompt, where the focus is): everything ends.
    tmux.keys(&["F6"]);
    tmux.wait_text(
        &format!("Start the queue: {} entries.", 6 - done_before),
        STEP,
    );
    tmux.keys(&["y"]);
    tmux.wait_for("the queue to finish", Duration::from_secs(60), false, |s| {
        s.contains("the queue is done") && !s.contains("GENERATING")
    });
    let tasks = until_done(&data, 6, Duration::from_secs(30));
    let ran: Vec<String> = tasks.iter().map(|t| format!("{} {}", t.0, t.1)).collect();
    assert_eq!(ran, order, "the tasks ran in the queue's order");

    let stats_end = stats(&runtime, &emulator);
    assert_eq!(stats_end["tasks"], 6, "{stats_end}");
    assert_eq!(stats_end["rate_limited"], 0, "{stats_end}");
    let most = stats_end["max_generating"].as_u64().expect("a count");
    assert!(
        (1..=PARALLEL).contains(&most),
        "at most {PARALLEL} generating at once, the emulator saw {most}"
    );
    tmux.keys(&["q"]);
    runtime.block_on(emulator.shutdown());
}

/// A crash leaves the queue as it was: staged and reordered, the app is killed (SIGKILL) and
/// started again; the queue is back, paused, in its order, and nothing was sent.
#[test]
fn a_killed_app_leaves_the_queue_as_it_was() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let emulator = emulator(&runtime, 100);
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    private_dir(&dir.path().join("config"));
    let pid_file = dir.path().join("fouro.pid");
    // `exec` keeps the shell's pid, so the file names fouro's own process.
    let command = format!(
        "sh -c 'echo $$ > {}; exec {}'",
        pid_file.display(),
        app_command(dir.path(), &emulator.base_url())
    );
    let tmux = start(&command);
    tmux.wait_text("100 credits", STEP);
    stage_three(&tmux, "gamma cat");
    tmux.keys(&["Tab", "Tab", "Tab"]);
    tmux.wait_text("↑↓  task", STEP);
    tmux.keys(&["Down"]);
    tmux.wait_text("↓  tasks", STEP);
    tmux.keys(&["J"]);
    let order = ["gamma cat 3:2", "gamma cat 1:1", "gamma cat 2:3"];
    tmux.wait_for("the new order", Duration::from_secs(10), false, |s| {
        queue_rows(s) == order
    });
    // The save is on disk before the kill (the writer is asynchronous).
    until_blocking("the queue to be kept", Duration::from_secs(10), || {
        let kept = fouro::store::History::open(&data.join("history.db"))
            .and_then(|h| h.queue())
            .map(|q| {
                q.entries
                    .iter()
                    .map(|e| e.request.size.as_str().to_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        (kept == ["3:2", "1:1", "2:3"]).then_some(())
    });
    let pid = std::fs::read_to_string(&pid_file).expect("the pid file");
    let killed = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    until_dead(&tmux, "the app to die");
    // The terminal is left as the killed app left it: start again in a fresh pane.
    tmux.respawn(&command);
    let screen = tmux.wait_for("the kept queue", Duration::from_secs(30), false, |s| {
        s.contains("queue 3 ⏸ paused")
    });
    assert_eq!(queue_rows(&screen), order, "{screen}");
    let stats_end = stats(&runtime, &emulator);
    assert_eq!(stats_end["tasks"], 0, "nothing was sent: {stats_end}");
    tmux.keys(&["q"]);
    runtime.block_on(emulator.shutdown());
}

/// The measured run: 200 entries against an emulator whose tasks take 1 s finish within
/// 1.1 × the time the service's limit (20 generates per 10 s) allows them: the 200th
/// generate can go out at 90 s at the earliest, and ends a second later. The pace is the
/// client's limiter (a margin of 0.5 s per window). `queue_parallel` is 20 here (set another
/// with `QUEUE_BENCH_PARALLEL`), so that the limit is the only thing that holds the queue
/// back: with fewer, the first window's 20 generates are spread over the seconds the first
/// tasks take, and every later window shifts by as much (8 measured 100.9 s, 1.11 ×).
///
/// Ignored by default (it takes about 100 s): `cargo test --locked --test terminals
/// tmux::queue -- --ignored --nocapture` prints the figures.
#[test]
#[ignore = "a measured run of about 100 s"]
fn two_hundred_queued_entries_finish_at_the_service_pace() {
    const ENTRIES: usize = 200;
    let parallel: u64 = std::env::var("QUEUE_BENCH_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let emulator = emulator(&runtime, 1_000_000);
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    private_config(
        &dir.path().join("config"),
        &format!("queue_parallel = {parallel}\n"),
    );
    private_dir(&data);
    // The queue as a person would have staged it, kept paused.
    let store = fouro::store::History::open(&data.join("history.db")).expect("a history");
    let entries = (0..ENTRIES)
        .map(|i| fouro::store::queue::Queued {
            key: i as i64 + 1,
            request: common::app::draft(&format!("entry {i}"), fouro::api::Size::Square),
        })
        .collect();
    store
        .save_queue(&fouro::store::queue::Saved {
            entries,
            paused: true,
        })
        .expect("the queue is kept");
    drop(store);

    let tmux = start(&app_command(dir.path(), &emulator.base_url()));
    tmux.wait_text(&format!("queue {ENTRIES} ⏸ paused"), STEP);
    tmux.keys(&["F6"]);
    tmux.wait_text(&format!("Start the queue: {ENTRIES} entries."), STEP);
    tmux.keys(&["y"]);
    let started = Instant::now();
    until_done(&data, ENTRIES, Duration::from_secs(300));
    let took = started.elapsed();
    let windows = (ENTRIES as u64 - 1) / 20;
    let allowed = Duration::from_secs(windows * 10 + 1);
    let stats = stats(&runtime, &emulator);
    println!(
        "{ENTRIES} entries, queue_parallel {parallel}: {:.1} s; the limit allows {:.1} s; ratio {:.3}; max generating {}; 429s {}",
        took.as_secs_f64(),
        allowed.as_secs_f64(),
        took.as_secs_f64() / allowed.as_secs_f64(),
        stats["max_generating"],
        stats["rate_limited"],
    );
    assert_eq!(stats["rate_limited"], 0, "{stats}");
    assert_eq!(stats["tasks"], ENTRIES as u64, "{stats}");
    assert!(stats["max_generating"].as_u64().unwrap_or(u64::MAX) <= parallel);
    assert!(
        took.as_secs_f64() <= allowed.as_secs_f64() * 1.1,
        "{took:?} is more than 1.1 × {allowed:?}"
    );
    tmux.keys(&["q"]);
    runtime.block_on(emulator.shutdown());
}
