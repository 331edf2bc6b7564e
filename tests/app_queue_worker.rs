//! The worker's side of the queue, against the emulator over loopback: the kept queue is read
//! at start; an entry whose task exists is out of the kept queue before the app hears of the
//! task (so quitting, which waits for submissions, never leaves one to be sent twice), and a
//! save that crossed it does not bring it back; quitting writes the last changes.

mod common;

use std::time::Duration;

use fouro::api::poll::PollOptions;
use fouro::api::{ApiKey, ClientConfig, Size, Variants};
use fouro::store::History;
use fouro::store::queue::{Queued, Saved};
use fouro::tui::action::{Action, Draft, Effect};
use fouro::tui::preview::Protocol;
use fouro::tui::worker::Worker;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

fn draft(prompt: &str) -> Draft {
    Draft {
        prompt: Some(prompt.into()),
        refs: Vec::new(),
        mask: None,
        size: Size::Landscape,
        variants: Variants::One,
        enhance: false,
        fallback: None,
    }
}

async fn next_action(rx: &mut UnboundedReceiver<Action>, what: impl Fn(&Action) -> bool) -> Action {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("in time")
            .expect("the channel stays open");
        if what(&action) {
            return action;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_entry_leaves_the_kept_queue_before_its_task_is_told() {
    let emulator = common::emulator_with(|c| c.keys = vec!["demo-key".into()]).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let history = History::open_in(data.path()).expect("a history");
    let kept = Saved {
        entries: vec![
            Queued {
                key: 1,
                request: draft("first"),
            },
            Queued {
                key: 2,
                request: draft("second"),
            },
        ],
        paused: false,
    };
    history.save_queue(&kept).expect("the queue is kept");

    let (tx, mut rx) = unbounded_channel();
    let config = ClientConfig {
        base_url: emulator.base_url(),
        api_key: ApiKey::new("demo-key"),
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    let worker = Worker::new(
        tx,
        config,
        data.path().to_path_buf(),
        history.clone(),
        Protocol::Blocks,
        PollOptions::default(),
    )
    .expect("a worker");
    let mut worker = worker;
    let loaded = next_action(&mut rx, |a| matches!(a, Action::QueueLoaded(_))).await;
    match loaded {
        Action::QueueLoaded(Ok(saved)) => assert_eq!(saved, kept),
        other => panic!("{other:?}"),
    }

    worker.handle(Effect::SubmitQueued {
        job: 7,
        key: 1,
        draft: draft("first"),
    });
    let submitted = next_action(&mut rx, |a| matches!(a, Action::Submitted { job: 7, .. })).await;
    assert!(
        matches!(&submitted, Action::Submitted { result: Ok(_), .. }),
        "{submitted:?}"
    );
    // Already out of the kept queue when the app hears of it.
    let left = history.queue().expect("the kept queue");
    assert_eq!(left.entries.iter().map(|q| q.key).collect::<Vec<_>>(), [2]);
    // A save the app made before it heard (still holding entry 1) does not bring it back,
    // and the last change is written when quitting.
    worker.handle(Effect::SaveQueue(Saved {
        paused: true,
        ..kept.clone()
    }));
    worker.flush_queue(Duration::from_secs(5)).await;
    let left = history.queue().expect("the kept queue");
    assert_eq!(left.entries.iter().map(|q| q.key).collect::<Vec<_>>(), [2]);
    assert!(left.paused);
    let tasks = history
        .count(&fouro::store::Query::default())
        .expect("the history");
    assert_eq!(tasks, 1, "one task: the entry was sent once");
    emulator.shutdown().await;
}
