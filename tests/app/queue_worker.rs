//! The worker's side of the queue, against the emulator over loopback: the kept queue is read
//! at start; an entry whose task exists is out of the kept queue before the app hears of the
//! task (so quitting, which waits for submissions, never leaves one to be sent twice), and a
//! save that crossed it does not bring it back; quitting writes the last changes.

use std::time::Duration;

use fouro::api::Size;
use fouro::store::History;
use fouro::store::queue::{Queued, Saved};
use fouro::tui::action::{Action, Draft, Effect};

use crate::common;
use crate::common::app::next_action;

fn draft(prompt: &str) -> Draft {
    common::app::draft(prompt, Size::Landscape)
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

    let (mut worker, mut rx) = common::app::worker_with(
        &emulator.base_url(),
        data.path(),
        "demo-key",
        history.clone(),
        |_| {},
    );
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
