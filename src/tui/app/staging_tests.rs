//! The queue through `App::update`: staging a matrix, the start question and the balance
//! read before anything is sent, the pace of `parallel`, reordering, undo, editing, pausing,
//! and what is kept.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api::{Size, TaskStatus};
use crate::store::queue::Saved;
use crate::tui::action::{Action, Effect, NewTask};
use crate::tui::app::{App, Focus, Overlay};
use crate::tui::testing::{app, key, record, screen, set_prompt};

fn alt(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT))
}

fn loaded(parallel: usize) -> App {
    let mut app = app(100, 30, Instant::now());
    app.queue.parallel = parallel;
    app.update(Action::QueueLoaded(Ok(Saved::default())));
    app.take_effects();
    app
}

fn queued(app: &App) -> Vec<(String, Size)> {
    app.queue
        .entries
        .iter()
        .map(|e| (e.draft.prompt.clone().unwrap_or_default(), e.draft.size))
        .collect()
}

/// Stages the prompt in all three aspects, one variant.
fn stage_three(app: &mut App, prompt: &str) {
    set_prompt(app, prompt);
    app.update(alt('s'));
    assert!(matches!(app.overlay, Some(Overlay::Stage(_))));
    // The square box is ticked from the options; tick 3:2 and 2:3.
    for k in [
        KeyCode::Right,
        KeyCode::Char(' '),
        KeyCode::Right,
        KeyCode::Char(' '),
    ] {
        app.update(key(k));
    }
    assert!(
        screen(app).contains("3 entries: 3 images"),
        "{}",
        screen(app)
    );
    app.update(key(KeyCode::Enter));
}

fn saved(effects: &[Effect]) -> Option<&Saved> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SaveQueue(s) => Some(s),
        _ => None,
    })
}

fn submits(effects: &[Effect]) -> Vec<(u64, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SubmitQueued { job, draft, .. } => {
                Some((*job, draft.prompt.clone().unwrap_or_default()))
            }
            Effect::Submit { .. } => panic!("a queued entry goes out as SubmitQueued"),
            _ => None,
        })
        .collect()
}

#[test]
fn staging_spends_nothing_and_is_kept() {
    let mut app = loaded(4);
    stage_three(&mut app, "a fox");
    let effects = app.take_effects();
    assert!(submits(&effects).is_empty());
    let kept = saved(&effects).expect("the queue is kept");
    assert_eq!(kept.entries.len(), 3);
    assert!(kept.paused, "a queue nobody started is kept paused");
    assert_eq!(
        queued(&app),
        [
            ("a fox".into(), Size::Square),
            ("a fox".into(), Size::Landscape),
            ("a fox".into(), Size::Portrait)
        ]
    );
    assert!(
        screen(&app).contains("queue 3 ⏸ paused"),
        "{}",
        screen(&app)
    );
}

#[test]
fn starting_asks_reads_the_balance_then_keeps_to_parallel() {
    let mut app = loaded(2);
    stage_three(&mut app, "a fox");
    app.take_effects();
    app.set_focus(Focus::Tasks);
    app.update(key(KeyCode::Char('P')));
    assert!(matches!(app.overlay, Some(Overlay::ConfirmQueue { .. })));
    assert!(screen(&app).contains("3 images, cost not known yet"));
    app.update(key(KeyCode::Char('y')));
    let effects = app.take_effects();
    let job = effects
        .iter()
        .find_map(|e| match e {
            Effect::CheckQueue { job, images: 3 } => Some(*job),
            _ => None,
        })
        .expect("the balance is read first");
    assert!(submits(&effects).is_empty(), "nothing before the balance");
    app.update(Action::QueueChecked { job });
    // One on its way at a time, in the queue's order.
    let mut sent = Vec::new();
    for n in 1..=2 {
        let out = submits(&app.take_effects());
        assert_eq!(out.len(), 1, "one submission on its way at a time");
        app.update(Action::Submitted {
            job: out[0].0,
            result: Ok(NewTask {
                task_id: format!("t{n}"),
                created_at: n,
                journal_warning: None,
            }),
        });
        sent.extend(out);
    }
    // Two generate: nothing more goes out.
    assert!(
        submits(&app.take_effects()).is_empty(),
        "at most `parallel` at once"
    );
    assert_eq!(app.queue.entries.len(), 1);
    // One ends: the third goes.
    let generation = app.tasks.get("t1").map(|t| t.poll_gen).unwrap_or_default();
    app.update(Action::TaskUpdate {
        task_id: "t1".into(),
        generation,
        record: record("t1", TaskStatus::Success, 1.0, 1, None),
    });
    assert_eq!(submits(&app.take_effects()).len(), 1);
}

#[test]
fn a_short_balance_asks_again_and_a_failed_submit_pauses() {
    let mut app = loaded(4);
    stage_three(&mut app, "a fox");
    app.set_focus(Focus::Tasks);
    app.update(key(KeyCode::Char('P')));
    app.update(key(KeyCode::Char('y')));
    let job = app.queue.check.expect("a balance check");
    app.update(Action::SubmitHeld {
        job,
        balance: 1.0,
        per_image: None,
        shortfall: crate::tasks::policy::Shortfall::Threshold {
            balance: 1.0,
            threshold: 5.0,
        },
    });
    assert!(matches!(
        app.overlay,
        Some(Overlay::ConfirmQueue { shortfall: Some(_) })
    ));
    app.take_effects();
    app.update(key(KeyCode::Char('y')));
    let sent = submits(&app.take_effects());
    assert_eq!(sent.len(), 1);
    app.update(Action::Submitted {
        job: sent[0].0,
        result: Err(crate::tui::action::Failure::new(
            crate::api::ErrorClass::Other,
            "refused",
        )),
    });
    assert!(!app.queue.running, "a failure pauses the queue");
    assert_eq!(app.queue.waiting().count(), 3);
    assert!(saved(&app.take_effects()).is_some_and(|s| s.paused));
}

#[test]
fn the_queue_is_reordered_edited_removed_and_undone_from_the_tasks_pane() {
    let mut app = loaded(4);
    stage_three(&mut app, "a fox");
    app.set_focus(Focus::Tasks);
    app.update(key(KeyCode::Down));
    assert_eq!(app.queue.cursor, Some(0));
    app.update(key(KeyCode::Char('J')));
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Down,
        KeyModifiers::SHIFT,
    )));
    assert_eq!(app.queue.cursor, Some(2));
    assert_eq!(
        queued(&app).iter().map(|q| q.1).collect::<Vec<_>>(),
        [Size::Landscape, Size::Portrait, Size::Square]
    );
    app.update(Action::Key(KeyEvent::new(KeyCode::Up, KeyModifiers::ALT)));
    assert_eq!(app.queue.cursor, Some(1));
    app.update(key(KeyCode::Char('d')));
    assert_eq!(app.queue.entries.len(), 2);
    app.update(key(KeyCode::Char('u')));
    assert_eq!(
        queued(&app).iter().map(|q| q.1).collect::<Vec<_>>(),
        [Size::Landscape, Size::Square, Size::Portrait]
    );
    let kept = app.take_effects();
    assert_eq!(saved(&kept).map(|s| s.entries.len()), Some(3));
    app.update(key(KeyCode::Char('-')));
    app.update(key(KeyCode::Char('-')));
    app.update(key(KeyCode::Char('-')));
    app.update(key(KeyCode::Char('-')));
    assert_eq!(app.queue.parallel, 1, "never fewer than one");
    app.update(key(KeyCode::Char('+')));
    assert_eq!(app.queue.parallel, 2);
    app.update(key(KeyCode::Char('e')));
    assert_eq!(app.focus, Focus::Prompt);
    assert_eq!(app.prompt_text(), "a fox");
    assert_eq!(app.options.size, Size::Square);
    assert_eq!(app.queue.entries.len(), 2);
}

#[test]
fn a_queue_that_ran_at_quit_asks_before_going_on_and_a_paused_one_waits() {
    let mut app = app(100, 30, Instant::now());
    let mut staged = loaded(4);
    stage_three(&mut staged, "a fox");
    let running = staged.queue.saved(false);
    app.update(Action::QueueLoaded(Ok(running)));
    assert!(matches!(app.overlay, Some(Overlay::ConfirmQueue { .. })));
    assert!(submits(&app.take_effects()).is_empty());

    let mut app = loaded(4);
    let paused = staged.queue.saved(true);
    app.update(Action::QueueLoaded(Ok(paused)));
    assert!(app.overlay.is_none());
    assert!(!app.queue.running);
    assert!(screen(&app).contains("⏸ paused"));
}
