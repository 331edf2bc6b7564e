//! The queue as a person works it, in the real binary: the app in tmux (private socket, its
//! own data and config directories) against an emulator of this test's own. Six entries are
//! staged (two prompts in three aspects), reordered, started and paused, the app quits and
//! starts again, the queue comes back paused and in its order, and is resumed: every entry
//! ends SUCCESS with its image, in the queue's order, the emulator never saw more tasks
//! generating at once than `queue_parallel`, and no call was refused with a 429. Every wait
//! polls until a condition holds or a deadline passes.
//!
//! tmux must be installed: without it this test fails (it does not skip).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fouro::emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

const KEY: &str = "k-queue-e2e-5c1d";
/// At most this many tasks generating at once (`queue_parallel` in the test's config).
const PARALLEL: u64 = 2;

/// A tmux server of our own, running `command` in its one pane; killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(dir: &Path, command: &str) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.as_ref().is_ok_and(|o| o.status.success()),
            "tmux is not on PATH ({:?}): install it (e.g. `apt-get install tmux`)",
            found.err()
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmux = Tmux {
            socket: format!("fouro-queue-{}-{nanos}", std::process::id()),
        };
        let dir = dir.to_str().expect("a UTF-8 path");
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "110",
            "-y",
            "34",
            "-c",
            dir,
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The pane stays after the app quits, so that it can be started again in it.
        tmux.run(&["set", "-g", "remain-on-exit", "on"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", "main", "-l", text]);
        assert!(out.status.success(), "send-keys -l {text:?}");
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    fn wait_for(&self, what: &str, within: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {within:?} for {what}; the screen was:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("{text:?}"), Duration::from_secs(30), |s| {
            s.contains(text)
        })
    }

    /// Whether the pane's process has exited.
    fn dead(&self) -> bool {
        let out = self.run(&["display", "-p", "-t", "main", "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    fn respawn(&self, command: &str) {
        let out = self.run(&["respawn-pane", "-k", "-t", "main", command]);
        assert!(
            out.status.success(),
            "respawn-pane: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn private_dir(dir: &Path) {
    std::fs::create_dir_all(dir).expect("a dir");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .expect("a private dir");
    }
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

async fn stats(base: &str) -> Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
        .get(format!("{base}/emulator/stats"))
        .send()
        .await
        .expect("stats answered")
        .json()
        .await
        .expect("stats are JSON")
}

/// Stages the prompt in the editor in all three aspects (one variant each).
fn stage_three(tmux: &Tmux, prompt: &str) {
    tmux.keys(&["M-k"]);
    tmux.type_text(prompt);
    tmux.wait_text(&format!("{} chars", prompt.chars().count()));
    tmux.keys(&["M-s"]);
    tmux.wait_text("Stage in the queue");
    tmux.keys(&["Right", "Space", "Right", "Space"]);
    tmux.wait_text("3 entries: 3 images");
    tmux.keys(&["Enter"]);
    tmux.wait_text("staged 3 entries");
}

#[test]
fn a_queue_is_staged_reordered_paused_kept_over_a_restart_and_resumed_in_tmux() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            keys: vec![KEY.to_owned()],
            duration: Duration::from_secs(1),
            ..EmulatorConfig::default()
        }))
        .expect("the emulator starts");
    let base = emulator.base_url();
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    private_dir(&config);
    let file = config.join("config.toml");
    std::fs::write(&file, format!("queue_parallel = {PARALLEL}\n")).expect("the config file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            .expect("a private file");
    }
    let command = format!(
        "env FOURO_DATA_DIR='{}' FOURO_CONFIG_DIR='{}' FOURO_API_KEY='{KEY}' FOURO_BASE_URL='{base}' FOURO_IMAGE_PROTOCOL=blocks TERM=xterm-256color '{}'",
        data.display(),
        config.display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmux = Tmux::start(&repo, &command);
    tmux.wait_text("100 credits");

    // Two prompts in three aspects: six entries, nothing spent.
    stage_three(&tmux, "alpha fox");
    stage_three(&tmux, "beta owl");
    tmux.wait_text("queue 6 ⏸ paused");
    let stats_now = runtime.block_on(stats(&base));
    assert_eq!(stats_now["tasks"], 0, "staging spends nothing");

    // In the tasks pane: the fourth entry (beta owl 1:1) moves to the top, the last one
    // (beta owl 2:3) one place up.
    tmux.keys(&["Tab", "Tab", "Tab"]);
    tmux.wait_text("↑↓  task");
    tmux.keys(&["Down"]);
    tmux.wait_text("↓  tasks");
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
    let screen = tmux.wait_for("the new order", Duration::from_secs(10), |s| {
        queue_rows(s) == order
    });
    assert!(screen.contains("queue 6 ⏸ paused"), "{screen}");

    // Start: the estimate first; then pause as soon as it runs.
    tmux.keys(&["P"]);
    tmux.wait_text("Start the queue: 6 entries.");
    tmux.wait_text("6 images, cost not known yet");
    tmux.keys(&["y"]);
    tmux.wait_text("▶ running");
    tmux.keys(&["P"]);
    tmux.wait_text("queue paused");
    // What was sent finishes; then quit (nothing generates: no question).
    let screen = tmux.wait_for("the sent tasks to end", Duration::from_secs(30), |s| {
        !s.contains("GENERATING") && !s.contains("SENDING") && s.contains("SUCCESS")
    });
    let done_before = screen.matches("SUCCESS").count();
    assert!(
        (1..6).contains(&done_before),
        "paused part-way: {done_before} done\n{screen}"
    );
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !tmux.dead() {
        assert!(Instant::now() < deadline, "the app did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Started again: the rest of the queue is back, paused, in its order.
    tmux.respawn(&command);
    let screen = tmux.wait_for("the kept queue", Duration::from_secs(30), |s| {
        s.contains(&format!("queue {} ⏸ paused", 6 - done_before))
    });
    assert_eq!(queue_rows(&screen), order[done_before..], "{screen}");
    assert!(!screen.contains("Start the queue?"), "a paused queue waits");

    // Resume (F6 works from the prompt, where the focus is): everything ends.
    tmux.keys(&["F6"]);
    tmux.wait_text(&format!("Start the queue: {} entries.", 6 - done_before));
    tmux.keys(&["y"]);
    tmux.wait_for("the queue to finish", Duration::from_secs(60), |s| {
        s.contains("the queue is done") && !s.contains("GENERATING")
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let tasks = loop {
        let tasks = history(&data);
        if tasks.len() == 6 && tasks.iter().all(|t| t.2 == "SUCCESS" && t.3 == 1) {
            break tasks;
        }
        assert!(
            Instant::now() < deadline,
            "six tasks with their images: {tasks:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let ran: Vec<String> = tasks.iter().map(|t| format!("{} {}", t.0, t.1)).collect();
    assert_eq!(ran, order, "the tasks ran in the queue's order");

    let stats_end = runtime.block_on(stats(&base));
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
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            keys: vec![KEY.to_owned()],
            duration: Duration::from_secs(1),
            ..EmulatorConfig::default()
        }))
        .expect("the emulator starts");
    let base = emulator.base_url();
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    private_dir(&config);
    let pid_file = dir.path().join("fouro.pid");
    // `exec` keeps the shell's pid, so the file names fouro's own process.
    let command = format!(
        "sh -c 'echo $$ > {}; exec env FOURO_DATA_DIR={} FOURO_CONFIG_DIR={} FOURO_API_KEY={KEY} FOURO_BASE_URL={base} FOURO_IMAGE_PROTOCOL=blocks TERM=xterm-256color {}'",
        pid_file.display(),
        data.display(),
        config.display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmux = Tmux::start(&repo, &command);
    tmux.wait_text("100 credits");
    stage_three(&tmux, "gamma cat");
    tmux.keys(&["Tab", "Tab", "Tab"]);
    tmux.wait_text("↑↓  task");
    tmux.keys(&["Down"]);
    tmux.wait_text("↓  tasks");
    tmux.keys(&["J"]);
    let order = ["gamma cat 3:2", "gamma cat 1:1", "gamma cat 2:3"];
    tmux.wait_for("the new order", Duration::from_secs(10), |s| {
        queue_rows(s) == order
    });
    // The save is on disk before the kill (the writer is asynchronous).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kept = fouro::store::History::open(&data.join("history.db"))
            .and_then(|h| h.queue())
            .map(|q| {
                q.entries
                    .iter()
                    .map(|e| e.request.size.as_str().to_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if kept == ["3:2", "1:1", "2:3"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queue was not kept: {kept:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = std::fs::read_to_string(&pid_file).expect("the pid file");
    let killed = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !tmux.dead() {
        assert!(Instant::now() < deadline, "the app did not die");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The terminal is left as the killed app left it: start again in a fresh pane.
    tmux.respawn(&command);
    let screen = tmux.wait_for("the kept queue", Duration::from_secs(30), |s| {
        s.contains("queue 3 ⏸ paused")
    });
    assert_eq!(queue_rows(&screen), order, "{screen}");
    let stats_end = runtime.block_on(stats(&base));
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
/// Ignored by default (it takes about 100 s): `cargo test --test app_tmux_queue -- --ignored
/// --nocapture` prints the figures.
#[test]
#[ignore = "a measured run of about 100 s"]
fn two_hundred_queued_entries_finish_at_the_service_pace() {
    const ENTRIES: usize = 200;
    let parallel: u64 = std::env::var("QUEUE_BENCH_PARALLEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let emulator = runtime
        .block_on(Emulator::start(EmulatorConfig {
            keys: vec![KEY.to_owned()],
            duration: Duration::from_secs(1),
            credits: 1_000_000,
            ..EmulatorConfig::default()
        }))
        .expect("the emulator starts");
    let base = emulator.base_url();
    let dir = tempfile::tempdir().expect("a temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("config");
    private_dir(&config);
    private_dir(&data);
    let file = config.join("config.toml");
    std::fs::write(&file, format!("queue_parallel = {parallel}\n")).expect("the config file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            .expect("a private file");
    }
    // The queue as a person would have staged it, kept paused.
    let store = fouro::store::History::open(&data.join("history.db")).expect("a history");
    let entries = (0..ENTRIES)
        .map(|i| fouro::store::queue::Queued {
            key: i as i64 + 1,
            request: fouro::tasks::Request {
                prompt: Some(format!("entry {i}")),
                refs: Vec::new(),
                mask: None,
                size: fouro::api::Size::Square,
                variants: fouro::api::Variants::One,
                enhance: false,
                fallback: None,
            },
        })
        .collect();
    store
        .save_queue(&fouro::store::queue::Saved {
            entries,
            paused: true,
        })
        .expect("the queue is kept");
    drop(store);

    let command = format!(
        "env FOURO_DATA_DIR='{}' FOURO_CONFIG_DIR='{}' FOURO_API_KEY='{KEY}' FOURO_BASE_URL='{base}' FOURO_IMAGE_PROTOCOL=blocks TERM=xterm-256color '{}'",
        data.display(),
        config.display(),
        env!("CARGO_BIN_EXE_fouro")
    );
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmux = Tmux::start(&repo, &command);
    tmux.wait_text(&format!("queue {ENTRIES} ⏸ paused"));
    tmux.keys(&["F6"]);
    tmux.wait_text(&format!("Start the queue: {ENTRIES} entries."));
    tmux.keys(&["y"]);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    loop {
        let tasks = history(&data);
        if tasks.len() == ENTRIES && tasks.iter().all(|t| t.2 == "SUCCESS" && t.3 == 1) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {ENTRIES} tasks done",
            tasks.iter().filter(|t| t.3 == 1).count()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = started.elapsed();
    let windows = (ENTRIES as u64 - 1) / 20;
    let allowed = Duration::from_secs(windows * 10 + 1);
    let stats = runtime.block_on(stats(&base));
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
