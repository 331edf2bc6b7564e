//! The task workflow (`fouro::tasks`) against the emulator on 127.0.0.1: a storm of faults,
//! the unreachable service, answers about another task, the in-flight record, and the same
//! scenario through the CLI and the app's worker.

use crate::common;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Duration;

use common::*;
use fouro::api::poll::PollOptions;
use fouro::api::{ApiKey, Size, Variants};
use fouro::store::{History, Status};
use fouro::tasks::settle::sync;
use fouro::tasks::{Progress, Request, Workflow};
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn quick() -> PollOptions {
    PollOptions {
        first_interval: Duration::from_millis(50),
        max_interval: Duration::from_millis(200),
        give_up_after: Duration::from_secs(60),
    }
}

/// A workflow over a new history in a directory of its own.
fn fresh() -> (tempfile::TempDir, History, Workflow) {
    let data = tempfile::tempdir().unwrap();
    let history = History::open_in(data.path()).unwrap();
    let workflow = Workflow::new(history.clone(), data.path().to_owned());
    (data, history, workflow)
}

/// Submits `prompt` for one image, with no callback and nothing to stop it.
async fn submit(
    workflow: &Workflow,
    client: &fouro::api::Client,
    prompt: &str,
) -> fouro::api::Result<fouro::tasks::Submitted> {
    workflow
        .submit(
            client,
            request(prompt, Variants::One),
            None,
            &CancellationToken::new(),
            |_| {},
        )
        .await
}

fn request(prompt: &str, variants: Variants) -> Request {
    Request {
        prompt: Some(prompt.to_owned()),
        refs: Vec::new(),
        mask: None,
        size: Size::Square,
        variants,
        enhance: false,
        fallback: None,
    }
}

/// What became of one task of the storm.
#[derive(Debug)]
enum End {
    Success {
        task_id: String,
        images: usize,
    },
    Failed {
        task_id: String,
        status: String,
    },
    /// The submission was refused (named), no task made.
    Refused(String),
    /// Following or downloading gave up: must never happen here.
    GaveUp(String),
}

/// Submits, follows and downloads one task, as the app and the CLI do; `follower` asks for
/// the status (with no quick retries of its own, so that the workflow's patience is what is
/// tested).
async fn one_task(
    workflow: &Workflow,
    client: &fouro::api::Client,
    follower: &fouro::api::Client,
    n: usize,
    retries: &std::sync::atomic::AtomicUsize,
) -> End {
    let variants = if n.is_multiple_of(3) {
        Variants::Two
    } else {
        Variants::One
    };
    let submitted = match workflow
        .submit(
            client,
            request(&format!("storm {n}"), variants),
            None,
            &CancellationToken::new(),
            |_| {},
        )
        .await
    {
        Ok(s) => s,
        Err(e) => return End::Refused(e.to_string()),
    };
    assert!(submitted.warning.is_none(), "{:?}", submitted.warning);
    let task_id = submitted.task_id;
    let followed = workflow
        .follow(
            follower,
            &task_id,
            &quick(),
            &CancellationToken::new(),
            |p| {
                if let Progress::Retry(_) = p {
                    retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                ControlFlow::Continue(())
            },
        )
        .await;
    let record = match followed {
        Ok(r) => r,
        Err(e) => {
            return End::GaveUp(format!("{task_id}: {e}"));
        }
    };
    workflow
        .observe_cost(client, &task_id, !record.status.is_failure())
        .await;
    if record.status.is_failure() {
        return End::Failed {
            task_id,
            status: record.status.as_str().to_owned(),
        };
    }
    for (index, url) in record.result_urls.iter().enumerate() {
        // A download is safe to repeat: what the app's `p` and `fouro sync` do.
        let mut tries = 0;
        loop {
            tries += 1;
            match workflow
                .download(client, &task_id, submitted.created_at, index, url)
                .await
            {
                Ok(_) => break,
                Err(e) if tries < 10 => {
                    let _ = e;
                }
                Err(e) => {
                    return End::GaveUp(format!("{task_id}: download: {e}"));
                }
            }
        }
    }
    End::Success {
        task_id,
        images: record.result_urls.len(),
    }
}

/// 100 tasks, ten at a time, while about 30 % of the calls fail (5xx, resets, HTML pages,
/// slow answers, bursts of five status errors): every task ends SUCCESS or a named failure,
/// none is given up on, every id is in the history and every image on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_storm_loses_nothing_and_gives_up_on_nothing() {
    const LANES: usize = 10;
    const TASKS: usize = 100;
    let keys: Vec<String> = (0..LANES)
        .map(|i| format!("storm-key-{i:02}-abcdef"))
        .collect();
    let emu = emulator_with(|c| {
        c.keys = keys.clone();
        c.credits = 1_000_000;
        c.duration = Duration::from_millis(300);
        c.fail_rate = 0.1;
    })
    .await;
    // About 30 % of the calls of every endpoint fail; generates only in the ways that say
    // for sure that no task was made (otherwise a task would exist that no client knows).
    for (endpoint, kind, extra) in [
        ("record-info", "code", json!({"code": 500, "rate": 0.12})),
        ("record-info", "reset", json!({"rate": 0.06})),
        ("record-info", "html", json!({"rate": 0.06})),
        ("record-info", "hang", json!({"ms": 300, "rate": 0.06})),
        ("credit", "code", json!({"code": 503, "rate": 0.3})),
        ("download-url", "code", json!({"code": 455, "rate": 0.15})),
        ("download-url", "empty", json!({"rate": 0.15})),
        ("files", "reset", json!({"rate": 0.3})),
        ("generate", "code", json!({"code": 550, "rate": 0.15})),
        ("generate", "code", json!({"code": 429, "rate": 0.15})),
    ] {
        let mut body = json!({"endpoint": endpoint, "kind": kind});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        control(&emu, "faults", body).await;
    }
    let (_data, history, workflow) = fresh();
    let retries = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();

    let lanes = keys.iter().enumerate().map(|(lane, key)| {
        let client = client_with(&emu, |c| c.api_key = ApiKey::new(key));
        let follower = client_with(&emu, |c| {
            c.api_key = ApiKey::new(key);
            c.retry = fouro::api::limits::RetryPolicy::none();
        });
        let (workflow, emu, retries) = (&workflow, &emu, &retries);
        async move {
            let mut ends = Vec::new();
            for i in 0..TASKS / LANES {
                let n = lane * (TASKS / LANES) + i;
                if n % 25 == 12 {
                    // A burst: five status errors in a row, whoever asks.
                    fault(emu, "record-info", 5, "code", json!({"code": 500})).await;
                }
                ends.push(one_task(workflow, &client, &follower, n, retries).await);
            }
            ends
        }
    });
    let ends: Vec<End> = futures::stream::iter(lanes)
        .buffer_unordered(LANES)
        .flat_map(futures::stream::iter)
        .collect()
        .await;
    let elapsed = started.elapsed();

    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in &ends {
        let k = match e {
            End::Success { .. } => "success",
            End::Failed { .. } => "failed",
            End::Refused(_) => "refused",
            End::GaveUp(_) => "gave up",
        };
        *counts.entry(k).or_default() += 1;
    }
    let stats = stats(&emu).await;
    let left: serde_json::Value = http()
        .get(format!("{}/emulator/faults", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    eprintln!("faults: {left}");
    eprintln!(
        "fault storm: {counts:?}, {} retries shown, {:.1} s, emulator: {}",
        retries.load(std::sync::atomic::Ordering::Relaxed),
        elapsed.as_secs_f64(),
        stats["calls"]
    );
    let gave_up: Vec<&str> = ends
        .iter()
        .filter_map(|e| match e {
            End::GaveUp(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    assert!(gave_up.is_empty(), "{gave_up:?}");
    assert_eq!(ends.len(), TASKS);
    assert!(
        counts.get("success").copied().unwrap_or(0) > 50,
        "{counts:?}"
    );
    assert!(
        retries.load(std::sync::atomic::Ordering::Relaxed) > 20,
        "the storm made too few status queries fail to test the follower's patience"
    );
    // Every task the service made is in the history, as it ended, with its images on disk.
    assert_eq!(
        stats["tasks"].as_u64(),
        Some((TASKS - counts.get("refused").copied().unwrap_or(0)) as u64),
        "{stats}"
    );
    for e in &ends {
        match e {
            End::Success { task_id, images } => {
                let entry = history.get(task_id).unwrap().expect("in the history");
                assert_eq!(entry.status, Status::Success, "{task_id}");
                assert_eq!(entry.images.len(), *images);
                for image in &entry.images {
                    let path = image.path.as_ref().expect("saved");
                    assert!(path.is_file(), "{}", path.display());
                }
            }
            End::Failed { task_id, status } => {
                let entry = history.get(task_id).unwrap().expect("in the history");
                assert_eq!(entry.status.as_str(), status);
                assert!(entry.cost.is_none_or(|c| c == 0.0), "refunded: {entry:?}");
            }
            End::Refused(why) => assert!(!why.is_empty()),
            End::GaveUp(_) => unreachable!(),
        }
    }
    assert!(history.in_flight().unwrap().is_empty());
    assert!(elapsed < Duration::from_secs(50), "{elapsed:?}");
}

/// A status answer that names another task is the service's error: it is never recorded
/// (for either task), the follower says so and asks again, and the task asked for ends.
#[tokio::test]
async fn an_answer_about_another_task_is_refused() {
    let emu = emulator(200).await;
    let client = client(&emu);
    let (_data, history, workflow) = fresh();
    let submitted = submit(&workflow, &client, "asked").await.unwrap();
    until_ended(&emu, &submitted.task_id).await;
    control(&emu, "quirks", json!({"wrong_task_ids": 2})).await;
    let mut refused = Vec::new();
    let record = workflow
        .follow(
            &client,
            &submitted.task_id,
            &quick(),
            &CancellationToken::new(),
            |p| {
                if let Progress::Retry(r) = p {
                    refused.push(r.reason.clone());
                }
                ControlFlow::Continue(())
            },
        )
        .await
        .unwrap();
    assert_eq!(record.task_id, submitted.task_id);
    assert_eq!(record.status, fouro::api::TaskStatus::Success);
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].contains("_someone_else"), "{refused:?}");
    let other = format!("{}_someone_else", submitted.task_id);
    assert!(history.get(&other).unwrap().is_none());
    assert_eq!(
        history.get(&submitted.task_id).unwrap().unwrap().status,
        Status::Success
    );
}

/// With the service unreachable for every task, a sync ends (it does not wait out each
/// task's limit) and says what is left.
#[tokio::test]
async fn sync_stops_when_the_service_answers_no_task() {
    let emu = emulator(60_000).await;
    let client = client(&emu);
    let (_data, history, workflow) = fresh();
    let mut ids = Vec::new();
    for n in 0..3 {
        let s = submit(&workflow, &client, &format!("down {n}"))
            .await
            .unwrap();
        ids.push(s.task_id);
    }
    control(&emu, "mode", json!({"mode": "maintenance"})).await;
    let started = std::time::Instant::now();
    let report = sync(&workflow, &client, &quick(), |_| {}).await.unwrap();
    assert!(report.unreachable, "{report:?}");
    assert!(!report.is_complete());
    assert_eq!(report.tasks.len(), 3);
    assert!(report.tasks.iter().all(|t| t.error.is_some()), "{report:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    for id in &ids {
        assert_eq!(history.get(id).unwrap().unwrap().status, Status::Generating);
    }
}

/// The in-flight record: written before the generate call, ended with the id; a call the
/// service surely refused leaves none; one whose answer was lost stays, for the history to
/// show as "submitted, id unknown".
#[tokio::test]
async fn a_generate_call_is_recorded_before_it_is_made() {
    let emu = emulator(200).await;
    let client = client(&emu);
    let (_data, history, workflow) = fresh();
    let seen = std::sync::Mutex::new(Vec::new());
    let submitted = workflow
        .submit(
            &client,
            request("flight", Variants::One),
            None,
            &CancellationToken::new(),
            |stage| {
                if let fouro::tasks::Stage::Created { .. } = stage {
                    // The id has arrived but is not kept yet: the record is still there.
                    seen.lock()
                        .unwrap()
                        .push(history.in_flight().unwrap().len());
                }
            },
        )
        .await
        .unwrap();
    assert_eq!(*seen.lock().unwrap(), [1]);
    assert!(history.in_flight().unwrap().is_empty());
    assert!(history.get(&submitted.task_id).unwrap().is_some());

    // Refused for sure (422): nothing in flight.
    fault(&emu, "generate", 1, "code", json!({"code": 422})).await;
    let refused = submit(&workflow, &client, "refused").await;
    assert!(refused.is_err());
    assert!(history.in_flight().unwrap().is_empty());

    // The connection drops after the request went out: a task may exist.
    fault(&emu, "generate", 1, "reset", json!({})).await;
    let lost = submit(&workflow, &client, "lost answer").await;
    assert!(lost.is_err());
    let flying = history.in_flight().unwrap();
    assert_eq!(flying.len(), 1, "{flying:?}");
    assert_eq!(flying[0].params.prompt.as_deref(), Some("lost answer"));
}

/// An answer for a task that only the journal holds takes the journal in first, instead of
/// being dropped.
#[tokio::test]
async fn an_update_to_a_journal_only_task_takes_the_journal_in() {
    let emu = emulator(200).await;
    let client = client(&emu);
    let data = tempfile::tempdir().unwrap();
    let history = History::open_in(data.path()).unwrap();
    let params = request("journal", Variants::One);
    let id = client
        .generate(
            &fouro::store::Params {
                prompt: params.prompt.clone(),
                ..fouro::store::Params::default()
            }
            .request(),
        )
        .await
        .unwrap();
    // The database could not take it: the journal did.
    let journal = fouro::store::journal::Journal::in_dir(data.path());
    journal
        .append(&fouro::store::journal::JournalEntry {
            task_id: id.clone(),
            base_url: emu.base_url(),
            submitted_at: chrono::Utc::now().timestamp_millis(),
            request: fouro::store::Params::default().request(),
            submission: None,
        })
        .unwrap();
    let workflow = Workflow::new(history.clone(), data.path().to_owned());
    let record = workflow
        .follow(&client, &id, &quick(), &CancellationToken::new(), |_| {
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    assert_eq!(record.status, fouro::api::TaskStatus::Success);
    let entry = history
        .get(&id)
        .unwrap()
        .expect("taken in from the journal");
    assert_eq!(entry.status, Status::Success);
    assert_eq!(entry.images.len(), 1);
}

/// A disk that takes nothing when the id arrives (the database refuses the row, the journal
/// cannot be written): the id is said, kept in memory, and written with the next answer once
/// the disk takes writes again.
#[tokio::test]
async fn an_id_the_disk_refused_is_kept_once_it_can_be() {
    let emu = emulator(300).await;
    let client = client(&emu);
    let (data, history, workflow) = fresh();
    // The database refuses new tasks, as a full disk would; the journal cannot be opened.
    let db = rusqlite::Connection::open(data.path().join("history.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER full BEFORE INSERT ON tasks BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
    )
    .unwrap();
    let journal = data.path().join("tasks.jsonl");
    std::fs::create_dir(&journal).unwrap();

    let submitted = submit(&workflow, &client, "no room").await.unwrap();
    let warning = submitted.warning.clone().unwrap_or_default();
    assert!(warning.contains(&submitted.task_id), "{warning}");
    assert!(warning.contains("note the id down"), "{warning}");
    assert_eq!(workflow.unkept(), std::slice::from_ref(&submitted.task_id));
    assert!(history.get(&submitted.task_id).unwrap().is_none());

    // Room again: the next answer written keeps the id first.
    db.execute_batch("DROP TRIGGER full;").unwrap();
    std::fs::remove_dir(&journal).unwrap();
    let record = workflow
        .follow(
            &client,
            &submitted.task_id,
            &quick(),
            &CancellationToken::new(),
            |_| ControlFlow::Continue(()),
        )
        .await
        .unwrap();
    assert_eq!(record.status, fouro::api::TaskStatus::Success);
    assert!(workflow.unkept().is_empty());
    let entry = history
        .get(&submitted.task_id)
        .unwrap()
        .expect("kept at last");
    assert_eq!(entry.status, Status::Success);
    assert_eq!(entry.params.prompt.as_deref(), Some("no room"));
    assert!(
        history.in_flight().unwrap().is_empty(),
        "the call's record ended"
    );
}
