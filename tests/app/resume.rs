//! The app picks up where it left off: at start, the worker reads the history's unsettled
//! tasks, and the app polls those still generating and downloads the images not saved,
//! through the real worker against the emulator over loopback.

use crate::common;

use std::time::{Duration, Instant};

use fouro::api::poll::{PollOptions, wait_for_task};
use fouro::api::{GenerateRequest, TaskStatus};
use fouro::store::{History, Params, Status};
use fouro::tui::action::Action;
use fouro::tui::app::tasks::ImageSlot;
use fouro::tui::testing::app;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn params(prompt: &str) -> Params {
    Params {
        prompt: Some(prompt.into()),
        ..Params::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_resumes_unsettled_tasks_from_the_history() {
    let emulator = common::emulator(1500).await;
    let client = common::client(&emulator);
    let base = emulator.base_url();
    let data = tempfile::tempdir().expect("a temp dir");
    let history = History::open_in(data.path()).expect("a history");
    let now = chrono::Utc::now().timestamp_millis();

    // Generating when the last run ended.
    let request = GenerateRequest {
        prompt: Some("still generating".into()),
        ..GenerateRequest::default()
    };
    let generating = client.generate(&request).await.expect("a task");
    history
        .insert(&generating, &base, &params("still generating"), now)
        .expect("kept");
    // Succeeded, but its image was never saved.
    let request = GenerateRequest {
        prompt: Some("never downloaded".into()),
        ..GenerateRequest::default()
    };
    let finished = client.generate(&request).await.expect("a task");
    history
        .insert(&finished, &base, &params("never downloaded"), now)
        .expect("kept");
    let record = wait_for_task(&client, &finished, &PollOptions::default(), |_| {})
        .await
        .expect("it succeeds");
    history.record(&record, now).expect("recorded");
    // Older than the service keeps tasks, and one of another service: neither is followed.
    history
        .insert("task_4o_old", &base, &params("old"), now - 15 * DAY_MS)
        .expect("kept");
    history
        .insert("task_4o_elsewhere", "http://127.0.0.1:9", &params("x"), now)
        .expect("kept");

    let (mut worker, mut rx) =
        common::app::worker_with(&base, data.path(), common::KEY, history.clone(), |_| {});
    let mut a = app(160, 48, Instant::now());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut resumed = None;
    loop {
        for effect in a.take_effects() {
            worker.handle(effect);
        }
        let settled = [&generating, &finished].iter().all(|id| {
            a.tasks.get(id).is_some_and(|t| {
                t.status == TaskStatus::Success
                    && !t.images.is_empty()
                    && t.images.iter().all(|i| matches!(i, ImageSlot::Saved(_)))
            })
        });
        if settled {
            break;
        }
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out; tasks: {:#?}", a.tasks.list))
            .expect("the worker keeps the channel open");
        if let Action::Resumed { entries, .. } = &action {
            resumed = Some(
                entries
                    .iter()
                    .map(|e| e.task_id.clone())
                    .collect::<Vec<_>>(),
            );
        }
        a.set_now(Instant::now());
        a.update(action);
    }
    let mut resumed = resumed.expect("the worker said what to resume");
    resumed.sort();
    let mut expected = vec![generating.clone(), finished.clone()];
    expected.sort();
    assert_eq!(
        resumed, expected,
        "only this service's recent unsettled tasks"
    );
    assert!(a.tasks.get("task_4o_old").is_none());

    for id in [&generating, &finished] {
        let entry = history.get(id).expect("readable").expect("kept");
        assert_eq!(entry.status, Status::Success, "{id}");
        let path = entry.images[0].path.clone().expect("the image is recorded");
        assert_eq!(
            image::image_dimensions(&path).expect("a PNG on disk"),
            (1024, 1024)
        );
    }
    let old = history.get("task_4o_old").expect("readable").expect("kept");
    assert_eq!(old.status, Status::Expired, "old tasks expire, not retried");
    let elsewhere = history
        .get("task_4o_elsewhere")
        .expect("readable")
        .expect("kept");
    assert_eq!(elsewhere.status, Status::Generating, "left for its service");
    drop(worker);
    emulator.shutdown().await;
}
