//! How close `fouro batch` comes to the service's pace: 200 one-image tasks against the
//! emulator with tasks that take 1 s. The service allows 20 generates per 10 s, so the last
//! of 200 cannot start before 90 s, and the batch cannot end before ~91 s; the goal is at most
//! 1.1 times that, so that the limit is the only thing slowing a batch down.
//!
//! One run takes about 100 s, so this is a single measured run, not a criterion sample:
//! `cargo bench --bench batch` (`BATCH_TASKS=40` for a shorter run).

use std::process::Stdio;
use std::time::{Duration, Instant};

use fouro::emulator::{Emulator, EmulatorConfig};

const KEY: &str = "bench-key-0123456789abcdef";
const TASK: Duration = Duration::from_secs(1);
const PER_WINDOW: u64 = 20;
const WINDOW: Duration = Duration::from_secs(10);

fn main() {
    // `cargo bench` passes `--bench`; a filter naming another bench skips this one.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .any(|a| !a.starts_with("--") && !"batch".contains(a.as_str()))
    {
        return;
    }
    let tasks: u64 = std::env::var("BATCH_TASKS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(measure(tasks));
}

async fn measure(tasks: u64) {
    let emu = Emulator::start(EmulatorConfig {
        keys: vec![KEY.to_owned()],
        credits: 1_000_000,
        cost: 6,
        duration: TASK,
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts on 127.0.0.1");
    let data = tempfile::tempdir().expect("a temp dir");
    let input = data.path().join("batch.txt");
    let lines: Vec<String> = (1..=tasks)
        .map(|i| format!("benchmark prompt {i}"))
        .collect();
    std::fs::write(&input, lines.join("\n")).expect("the input is written");

    let start = Instant::now();
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_fouro"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FOURO_DATA_DIR", data.path())
        .env("FOURO_CONFIG_DIR", data.path().join("config"))
        .env("FOURO_BASE_URL", emu.base_url())
        .env("FOURO_API_KEY", KEY)
        .args(["batch", "--yes", "--parallel", "20"])
        .arg(&input)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .await
        .expect("fouro runs");
    let took = start.elapsed();
    assert!(status.success(), "the batch failed: {status}");
    fouro::install_tls_provider();
    let stats: serde_json::Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
        .get(format!("{}/emulator/stats", emu.base_url()))
        .send()
        .await
        .expect("the stats")
        .json()
        .await
        .expect("the stats as JSON");
    let refused = stats["rate_limited"].as_u64().unwrap_or(u64::MAX);
    assert_eq!(refused, 0, "the service's limit was passed: {stats}");

    // The last window's generates start at (windows - 1) x 10 s; the batch ends a task later.
    let windows = tasks.div_ceil(PER_WINDOW);
    let floor = WINDOW * u32::try_from(windows - 1).unwrap_or(u32::MAX) + TASK;
    let ratio = took.as_secs_f64() / floor.as_secs_f64();
    println!(
        "batch/{tasks} tasks, {} s each: {:.1} s; the 20-per-10 s limit allows {:.1} s: {ratio:.2}x (goal <= 1.10x); 0 refused by the limit",
        TASK.as_secs(),
        took.as_secs_f64(),
        floor.as_secs_f64()
    );
}
