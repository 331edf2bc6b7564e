//! Quitting while a submission is on its way, and work asked for after a new key.

use super::*;
use crate::common::app::next_action;

fn demo_worker(
    emulator: &Emulator,
    key: &str,
    data: &std::path::Path,
) -> (Worker, UnboundedReceiver<Action>) {
    common::app::worker(&emulator.base_url(), data, key, |_| {})
}

fn draft(refs: Vec<fouro::api::input::ImageSource>) -> fouro::tui::action::Draft {
    fouro::tui::action::Draft {
        prompt: Some("a lighthouse".into()),
        refs,
        mask: None,
        size: fouro::api::Size::Square,
        variants: fouro::api::Variants::One,
        enhance: false,
        fallback: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_waits_for_a_submission_that_reached_the_service() {
    let emulator = common::emulator_with(|c| c.keys = vec!["demo-key".into()]).await;
    // The service takes its time to answer the generate call.
    common::fault(
        &emulator,
        "generate",
        1,
        "hang",
        serde_json::json!({"ms": 800}),
    )
    .await;
    let data = tempfile::tempdir().expect("a temp dir");
    let (mut worker, mut rx) = demo_worker(&emulator, "demo-key", data.path());
    worker.handle(Effect::Submit {
        job: 1,
        draft: draft(Vec::new()),
    });
    next_action(&mut rx, |a| {
        matches!(
            a,
            Action::SubmitProgress {
                stage: fouro::tui::action::SubmitStage::Creating,
                ..
            }
        )
    })
    .await;
    assert_eq!(worker.submissions_in_flight(), 1);
    // Quitting now: the runner waits (bounded) for this.
    tokio::time::timeout(worker.submission_grace(), worker.finish_submissions())
        .await
        .expect("the submission finishes within the grace time");
    let Action::Submitted {
        result: Ok(new), ..
    } = next_action(&mut rx, |a| matches!(a, Action::Submitted { .. })).await
    else {
        panic!("the task was created")
    };
    let history = History::open_in(data.path()).expect("the history opens");
    assert!(
        history.get(&new.task_id).expect("readable").is_some(),
        "the paid task is in the history"
    );
    drop(worker);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_cancels_a_submission_still_uploading() {
    let emulator = common::emulator_with(|c| c.keys = vec!["demo-key".into()]).await;
    common::fault(
        &emulator,
        "upload",
        1,
        "hang",
        serde_json::json!({"ms": 20_000}),
    )
    .await;
    let data = tempfile::tempdir().expect("a temp dir");
    let (mut worker, mut rx) = demo_worker(&emulator, "demo-key", data.path());
    let reference = fouro::api::input::ImageSource::File(common::asset("ref-sunset.png"));
    worker.handle(Effect::Submit {
        job: 1,
        draft: draft(vec![reference]),
    });
    next_action(&mut rx, |a| {
        matches!(
            a,
            Action::SubmitProgress {
                stage: fouro::tui::action::SubmitStage::Uploading { .. },
                ..
            }
        )
    })
    .await;
    tokio::time::timeout(Duration::from_secs(5), worker.finish_submissions())
        .await
        .expect("an upload is not waited for");
    let Action::Submitted { result: Err(f), .. } =
        next_action(&mut rx, |a| matches!(a, Action::Submitted { .. })).await
    else {
        panic!("the submission was cancelled")
    };
    assert!(f.message.contains("cancelled"), "{}", f.message);
    assert_eq!(
        common::calls(&emulator, "generate").await,
        0,
        "no task was created"
    );
    drop(worker);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_asked_for_after_a_new_key_uses_it() {
    let emulator = common::emulator_with(|c| c.keys = vec!["good-key-0123".into()]).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let (mut worker, mut rx) = demo_worker(&emulator, "bad-key-0123", data.path());
    worker.handle(Effect::RefreshCredits { req: 1 });
    let Action::Credits { result: Err(f), .. } =
        next_action(&mut rx, |a| matches!(a, Action::Credits { .. })).await
    else {
        panic!("the bad key is refused")
    };
    assert_eq!(f.class, ErrorClass::Auth);
    // The new client is built off the render loop; what is asked for right after waits for it.
    worker.handle(Effect::SetKey(ApiKey::new("good-key-0123").expect("a key")));
    worker.handle(Effect::RefreshCredits { req: 2 });
    let Action::Credits { req, result } =
        next_action(&mut rx, |a| matches!(a, Action::Credits { .. })).await
    else {
        unreachable!()
    };
    assert_eq!((req, result.ok()), (2, Some(100.0)));
    drop(worker);
    emulator.shutdown().await;
}

/// The help names how images are drawn and the cell size it was measured with, on lines of
/// their own (at 100 columns, nothing of them is cut).
#[test]
fn the_help_names_the_image_protocol_and_the_cell_size() {
    use fouro::tui::testing::screen;
    let mut a = app(100, 30, Instant::now());
    a.config.protocol = "sixel · cells 8×17 px (reported)".into();
    a.update(key(KeyCode::F(1)));
    a.update(key(KeyCode::End));
    let s = screen(&a);
    assert!(
        s.contains("Images: sixel · cells 8×17 px (reported)"),
        "{s}"
    );
    assert!(s.contains("Task ids are kept in "), "{s}");
}
