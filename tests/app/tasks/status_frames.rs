//! Status answers that change nothing drawn ask for no frame.

use fouro::api::{ErrorClass, TaskStatus};
use fouro::tasks::Retry;
use fouro::tui::action::{Action, Failure};
use fouro::tui::testing::record;

use super::{channel, with_task};

#[test]
fn a_status_answer_that_changes_nothing_drawn_costs_no_frame() {
    let (tx, mut rx) = channel();
    let (mut a, generation) = with_task("task_4o_1", &tx, &mut rx);
    let update = |progress: f64| Action::TaskUpdate {
        task_id: "task_4o_1".into(),
        generation,
        record: record("task_4o_1", TaskStatus::Generating, progress, 0, None),
    };
    a.update(update(0.42));
    assert!(a.is_dirty(), "the percentage shown moved");
    a.mark_drawn();

    a.update(update(0.42));
    assert!(!a.is_dirty(), "the same answer again");
    a.update(update(0.4204));
    assert!(!a.is_dirty(), "42 % either way");
    a.update(update(0.43));
    assert!(a.is_dirty(), "43 % is drawn");
    a.mark_drawn();

    let retry = Retry {
        attempt: 1,
        reason: "timed out".into(),
        class: ErrorClass::Unavailable,
        next_in: std::time::Duration::from_secs(2),
    };
    a.update(Action::PollRetry {
        task_id: "task_4o_1".into(),
        generation,
        retry: retry.clone(),
    });
    assert!(a.is_dirty(), "the retry note is shown");
    a.mark_drawn();
    a.update(Action::PollRetry {
        task_id: "task_4o_1".into(),
        generation,
        retry,
    });
    assert!(!a.is_dirty(), "the same note again");

    let failed = || Action::PollFailed {
        task_id: "task_4o_1".into(),
        generation,
        failure: Failure::new(ErrorClass::Unavailable, "connection reset"),
        stopped: false,
    };
    a.update(failed());
    assert!(a.is_dirty(), "a new note");
    a.mark_drawn();
    a.update(failed());
    assert!(!a.is_dirty(), "the same failure again");

    a.update(Action::TaskUpdate {
        task_id: "task_4o_1".into(),
        generation,
        record: record("task_4o_1", TaskStatus::Success, 1.0, 1, None),
    });
    assert!(a.is_dirty(), "the end is drawn");
}
