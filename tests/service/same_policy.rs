//! The same scenario through `fouro generate --wait` and through the app's worker: both go
//! through the one workflow, so they record the same statuses and the same costs, and both
//! keep following through a burst of status errors.

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::app::run_until;
use common::*;
use fouro::api::TaskStatus;
use fouro::emulator::Emulator;
use fouro::store::{History, Query};
use fouro::tui::action::Action;
use fouro::tui::testing::app;
use serde_json::json;

/// What the history says of each prompt: status and cost.
fn outcomes(data: &Path) -> Vec<(String, String, Option<f64>)> {
    let history = History::open_in(data).unwrap();
    let mut rows: Vec<_> = history
        .page(&Query::default(), 0, 100)
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.params.prompt.unwrap_or_default(),
                e.status.as_str().to_owned(),
                e.cost,
            )
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Readies the emulator for the next task: its outcome, and five failed status queries.
async fn next_task(emu: &Emulator, outcome: &str) {
    control(emu, "next-tasks", json!({"count": 1, "outcome": outcome})).await;
    fault(emu, "record-info", 5, "code", json!({"code": 500})).await;
}

const SCENARIO: [(&str, &str); 2] = [("a success", "success"), ("b failure", "fail")];

async fn through_the_cli(emu: &Emulator, data: &Path) {
    for (prompt, outcome) in SCENARIO {
        next_task(emu, outcome).await;
        let out = Fouro::new(data)
            .env("FOURO_BASE_URL", emu.base_url())
            .env("FOURO_API_KEY", KEY)
            .run(&["--retries", "2", "generate", prompt, "--wait"])
            .await;
        let err = stderr(&out);
        let expected = if outcome == "success" { 0 } else { 7 };
        assert_eq!(out.status.code(), Some(expected), "{prompt}: {err}");
        assert!(
            err.contains("status check failed (try 1"),
            "{prompt}: {err}"
        );
    }
}

async fn through_the_app(emu: &Emulator, data: &Path) {
    let (mut worker, mut rx) = common::app::worker(&emu.base_url(), data, KEY, |config| {
        // As `--retries 2`: three attempts a query.
        config.retry = fouro::api::limits::RetryPolicy {
            max_attempts: 3,
            ..fouro::api::limits::RetryPolicy::default()
        };
    });
    let mut a = app(160, 48, Instant::now());
    for (n, (prompt, outcome)) in SCENARIO.into_iter().enumerate() {
        next_task(emu, outcome).await;
        fouro::tui::testing::set_prompt(&mut a, prompt);
        a.update(fouro::tui::testing::ctrl('s'));
        let mut retries_seen = false;
        let within = Duration::from_secs(40);
        run_until(&mut a, &mut worker, &mut rx, within, |a, last| {
            retries_seen |= matches!(last, Some(Action::PollRetry { .. }));
            a.tasks.list.len() == n + 1
                && a.tasks.list[0].status != TaskStatus::Generating
                && (a.tasks.list[0].status != TaskStatus::Success
                    || a.tasks.list[0]
                        .images
                        .iter()
                        .all(|i| matches!(i, fouro::tui::app::tasks::ImageSlot::Saved(_))))
        })
        .await;
        assert!(retries_seen, "{prompt}: the retries reach the app");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_app_record_the_same_costs_and_statuses() {
    let cli_emu = emulator(400).await;
    let cli_data = tempfile::tempdir().unwrap();
    through_the_cli(&cli_emu, cli_data.path()).await;

    let app_emu = emulator(400).await;
    let app_data = tempfile::tempdir().unwrap();
    through_the_app(&app_emu, app_data.path()).await;

    let cli = outcomes(cli_data.path());
    let app = outcomes(app_data.path());
    assert_eq!(
        cli,
        vec![
            ("a success".to_owned(), "SUCCESS".to_owned(), Some(6.0)),
            // Refunded at once: its cost is 0, never the charge that came back.
            (
                "b failure".to_owned(),
                "GENERATE_FAILED".to_owned(),
                Some(0.0)
            ),
        ]
    );
    assert_eq!(app, cli, "the app and the CLI keep the same record");
}
