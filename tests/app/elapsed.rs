//! Elapsed time counts from the task's creation, as the history or the service has it, not
//! from when this run of the app noticed the task: a task resumed after a restart shows its
//! true age, and a task that ended while no fouro watched shows how long it ran.

use std::time::{Duration, Instant};

use crate::common::app::find_effect;
use fouro::api::TaskStatus;
use fouro::store::{Entry, Params, Status};
use fouro::tui::action::{Action, Effect};
use fouro::tui::app::App;
use fouro::tui::testing::{app, record, screen};

/// 2026-11-26 08:08 UTC: when the task was created.
const CREATED_MS: i64 = 1_795_680_480_000;

fn entry(id: &str, status: Status, completed_at: Option<i64>) -> Entry {
    Entry {
        task_id: id.into(),
        base_url: "http://127.0.0.1:9".into(),
        params: Params {
            prompt: Some(format!("prompt of {id}")),
            ..Params::default()
        },
        status,
        progress: 0.4,
        error_code: None,
        error_message: None,
        created_at: CREATED_MS,
        completed_at,
        cost: None,
        images: Vec::new(),
    }
}

/// An app started at `t0`, that resumed `entry` from the history `age` after its creation.
fn resumed(entry: Entry, t0: Instant, age: Duration) -> App {
    let mut a = app(80, 24, t0);
    a.take_effects();
    let now_ms = CREATED_MS + i64::try_from(age.as_millis()).expect("a small age");
    a.update(Action::Resumed {
        entries: vec![entry],
        now: now_ms,
    });
    a
}

fn elapsed(a: &App, id: &str) -> Duration {
    a.tasks.get(id).expect("the task is listed").elapsed(a.now)
}

#[test]
fn a_resumed_task_counts_from_its_creation() {
    let t0 = Instant::now();
    let mut a = resumed(
        entry("task_8s", Status::Generating, None),
        t0,
        Duration::from_secs(8),
    );
    assert_eq!(elapsed(&a, "task_8s"), Duration::from_secs(8));
    assert!(screen(&a).contains("0:08"), "{}", screen(&a));
    // And it goes on counting from there.
    a.set_now(t0 + Duration::from_secs(5));
    assert_eq!(elapsed(&a, "task_8s"), Duration::from_secs(13));
    assert!(screen(&a).contains("0:13"), "{}", screen(&a));
}

#[test]
fn a_task_older_than_the_machines_clock_still_shows_its_age() {
    // The monotonic clock may not reach back that far (it starts at boot): the age must not
    // fall back to 0:00.
    let three_days = Duration::from_secs(3 * 24 * 3600);
    let a = resumed(
        entry("task_old", Status::Generating, None),
        Instant::now(),
        three_days,
    );
    assert_eq!(elapsed(&a, "task_old"), three_days);
}

#[test]
fn a_task_that_ended_while_no_one_watched_shows_how_long_it_ran() {
    // Done 8 s after its creation on the service; this run notices it 22 s after.
    let t0 = Instant::now();
    let mut a = resumed(
        entry("task_done", Status::Generating, None),
        t0,
        Duration::from_secs(20),
    );
    let generation = find_effect(&a.take_effects(), |e| match e {
        Effect::Poll {
            task_id,
            generation,
        } if task_id == "task_done" => Some(*generation),
        _ => None,
    })
    .expect("the resumed task is polled");
    a.set_now(t0 + Duration::from_secs(2));
    let mut done = record("task_done", TaskStatus::Success, 1.0, 1, None);
    done.create_time = Some(CREATED_MS);
    done.complete_time = Some(CREATED_MS + 8_000);
    a.update(Action::TaskUpdate {
        task_id: "task_done".into(),
        generation,
        record: done,
    });
    assert_eq!(
        a.tasks.get("task_done").map(|t| t.status),
        Some(TaskStatus::Success)
    );
    assert_eq!(elapsed(&a, "task_done"), Duration::from_secs(8));
    a.set_now(t0 + Duration::from_secs(60));
    assert_eq!(elapsed(&a, "task_done"), Duration::from_secs(8), "it stays");
    assert!(screen(&a).contains("0:08"), "{}", screen(&a));
    assert!(!screen(&a).contains("0:22"), "{}", screen(&a));
}

#[test]
fn a_finished_task_resumed_for_its_images_shows_how_long_it_ran() {
    let a = resumed(
        entry("task_saved", Status::Success, Some(CREATED_MS + 8_000)),
        Instant::now(),
        Duration::from_secs(22),
    );
    assert_eq!(elapsed(&a, "task_saved"), Duration::from_secs(8));
    assert!(screen(&a).contains("0:08"), "{}", screen(&a));
}
