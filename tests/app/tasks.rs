//! The app's behaviour, driven through the channel the worker and the pollers use: answers
//! are sent on an mpsc sender and pumped into `App::update`, as the runner does. The last
//! test runs the real worker against the in-process emulator.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use fouro::api::{ApiKey, ErrorClass, TaskStatus};
use fouro::emulator::Emulator;
use fouro::store::History;
use fouro::tui::action::{Action, DirEntry, Effect, Failure, NewTask};
use fouro::tui::app::tasks::ImageSlot;
use fouro::tui::app::{App, Overlay};
use fouro::tui::preview::Payload;
use fouro::tui::testing::{app, ctrl, key, record, set_prompt, typed};
use fouro::tui::worker::Worker;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use crate::common;
use crate::common::app::{credits_req, feed, find_effect};

mod input;
mod overlays;
mod status_frames;
mod submissions;

/// The channel the worker answers on.
fn channel() -> (UnboundedSender<Action>, UnboundedReceiver<Action>) {
    mpsc::unbounded_channel()
}

/// Takes in everything waiting on the channel, as the runner does between frames.
fn pump(app: &mut App, rx: &mut UnboundedReceiver<Action>) {
    while let Ok(action) = rx.try_recv() {
        app.update(action);
    }
}

fn poll_of(effects: &[Effect]) -> Option<(String, u64)> {
    find_effect(effects, |e| match e {
        Effect::Poll {
            task_id,
            generation,
        } => Some((task_id.clone(), *generation)),
        _ => None,
    })
}

/// An app that read a balance of 100, with one task `id` accepted; returns its generation.
fn with_task(
    id: &str,
    tx: &UnboundedSender<Action>,
    rx: &mut UnboundedReceiver<Action>,
) -> (App, u64) {
    let mut a = app(80, 24, Instant::now());
    let req = credits_req(&a.take_effects()).expect("a balance request at start");
    tx.send(Action::Credits {
        req,
        result: Ok(100.0),
    })
    .unwrap();
    pump(&mut a, rx);
    set_prompt(&mut a, "a red fox");
    a.update(ctrl('s'));
    let job = find_effect(&a.take_effects(), |e| match e {
        Effect::Submit { job, draft } => {
            assert_eq!(draft.prompt.as_deref(), Some("a red fox"));
            Some(*job)
        }
        _ => None,
    })
    .expect("a submission");
    tx.send(Action::Submitted {
        job,
        result: Ok(NewTask {
            task_id: id.into(),
            created_at: 0,
            journal_warning: None,
        }),
    })
    .unwrap();
    pump(&mut a, rx);
    let (polled, generation) = poll_of(&a.take_effects()).expect("polling starts at once");
    assert_eq!(polled, id);
    assert_eq!(a.tasks.list.len(), 1);
    (a, generation)
}

/// Submits one more task `id` in an app that has some; returns its index and generation.
fn add_task(
    a: &mut App,
    id: &str,
    tx: &UnboundedSender<Action>,
    rx: &mut UnboundedReceiver<Action>,
) -> (usize, u64) {
    a.take_effects();
    a.update(ctrl('s'));
    let job = find_effect(&a.take_effects(), |e| match e {
        Effect::Submit { job, .. } => Some(*job),
        _ => None,
    })
    .expect("a submission");
    tx.send(Action::Submitted {
        job,
        result: Ok(NewTask {
            task_id: id.into(),
            created_at: 0,
            journal_warning: None,
        }),
    })
    .unwrap();
    pump(a, rx);
    let (_, generation) = poll_of(&a.take_effects()).expect("polling starts at once");
    let index = a.tasks.list.iter().position(|t| t.id == id).expect("shown");
    (index, generation)
}

/// What the poller and the downloader send when task `id` succeeds with one image.
fn succeed_with_one_image(tx: &UnboundedSender<Action>, id: &str, generation: u64) {
    tx.send(Action::TaskUpdate {
        task_id: id.into(),
        generation,
        record: record(id, TaskStatus::Success, 1.0, 1, None),
    })
    .unwrap();
    tx.send(Action::ImageSaved {
        task_id: id.into(),
        index: 0,
        result: Ok(PathBuf::from(format!("/d/{id}-1.png"))),
    })
    .unwrap();
}

fn refused() -> Failure {
    Failure {
        message: "the API key was refused (401: bad key)".into(),
        class: ErrorClass::Auth,
        code: Some(401),
    }
}

#[test]
fn stale_poll_replies_are_dropped_and_cost_no_frame() {
    let (tx, mut rx) = channel();
    let (mut a, g1) = with_task("task_4o_1", &tx, &mut rx);
    // Poll again: the older poller's answers no longer count.
    feed(
        &mut a,
        [
            key(KeyCode::Tab),
            key(KeyCode::Tab),
            key(KeyCode::Tab),
            key(KeyCode::Char('p')),
        ],
    );
    let (_, g2) = poll_of(&a.take_effects()).expect("a new poller");
    assert_ne!(g1, g2);
    a.mark_drawn();
    tx.send(Action::TaskUpdate {
        task_id: "task_4o_1".into(),
        generation: g1,
        record: record("task_4o_1", TaskStatus::Success, 1.0, 1, None),
    })
    .unwrap();
    tx.send(Action::Credits {
        req: 0,
        result: Ok(1.0),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert_eq!(
        a.tasks.list[0].status,
        TaskStatus::Generating,
        "a stale answer changes nothing"
    );
    assert!(!a.is_dirty(), "and asks for no frame");
    tx.send(Action::TaskUpdate {
        task_id: "task_4o_1".into(),
        generation: g2,
        record: record("task_4o_1", TaskStatus::Generating, 0.5, 0, None),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!((a.tasks.list[0].progress - 0.5).abs() < 1e-9);
    assert!(a.is_dirty());
}

#[test]
fn a_task_that_ends_fetches_its_images_and_the_balance() {
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_2", &tx, &mut rx);
    tx.send(Action::TaskUpdate {
        task_id: "task_4o_2".into(),
        generation: g,
        record: record("task_4o_2", TaskStatus::Success, 1.0, 2, None),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    let effects = a.take_effects();
    let items = find_effect(&effects, |e| match e {
        Effect::Download { task_id, items, .. } if task_id == "task_4o_2" => Some(items.clone()),
        _ => None,
    })
    .expect("the images are fetched");
    assert_eq!(
        items.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        vec![0, 1]
    );
    let req = credits_req(&effects).expect("the balance is read again when a task ends");
    tx.send(Action::Credits {
        req,
        result: Ok(88.0),
    })
    .unwrap();
    // Saving the second image first: the preview waits for the first.
    tx.send(Action::ImageSaved {
        task_id: "task_4o_2".into(),
        index: 1,
        result: Ok(PathBuf::from("/d/task_4o_2-2.png")),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert_eq!(a.credits.value, Some(88.0));
    assert!(a.take_effects().is_empty(), "nothing to decode yet");
    tx.send(Action::ImageSaved {
        task_id: "task_4o_2".into(),
        index: 0,
        result: Ok(PathBuf::from("/d/task_4o_2-1.png")),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    let decode = find_effect(&a.take_effects(), |e| match e {
        Effect::Decode { path, cells, .. } => Some((path.clone(), *cells)),
        _ => None,
    });
    let (path, cells) = decode.expect("the first image is decoded for the preview");
    assert_eq!(path, PathBuf::from("/d/task_4o_2-1.png"));
    assert_eq!(cells, (38, 8), "the preview pane's inside at 80x24");
    assert!(
        a.next_wakeup().is_none(),
        "no task generates, the balance is fresh: no timer"
    );
}

#[test]
fn a_401_asks_for_a_key_and_the_new_key_resumes_polling() {
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_3", &tx, &mut rx);
    let refused = Failure {
        message: "the API key was refused (401: bad key)".into(),
        class: ErrorClass::Auth,
        code: Some(401),
    };
    tx.send(Action::PollFailed {
        task_id: "task_4o_3".into(),
        generation: g,
        failure: refused.clone(),
        stopped: true,
    })
    .unwrap();
    tx.send(Action::Credits {
        req: 999,
        result: Err(refused),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(matches!(a.overlay, Some(Overlay::KeyPrompt { .. })));
    assert!(!a.tasks.list[0].polling);
    let secret = "sk-new-secret-key-0123456789";
    feed(&mut a, typed(secret));
    a.update(key(KeyCode::Enter));
    assert!(a.overlay.is_none());
    let effects = a.take_effects();
    let key_set = find_effect(&effects, |e| match e {
        Effect::SetKey(k) => Some(k.clone()),
        _ => None,
    });
    assert_eq!(key_set, ApiKey::new(secret));
    assert!(
        !format!("{effects:?}").contains("secret-key"),
        "the key never shows in debug output"
    );
    let (task, g2) = poll_of(&effects).expect("the stopped poller restarts");
    assert_eq!(task, "task_4o_3");
    assert_ne!(g2, g);
    assert!(credits_req(&effects).is_some());
}

#[test]
fn a_402_shows_the_balance() {
    let (tx, mut rx) = channel();
    let (mut a, _) = with_task("task_4o_4", &tx, &mut rx);
    a.update(ctrl('s'));
    let job = find_effect(&a.take_effects(), |e| match e {
        Effect::Submit { job, .. } => Some(*job),
        _ => None,
    })
    .expect("a second submission");
    let refused = Failure {
        message: "insufficient credits (402: not enough)".into(),
        class: ErrorClass::Credits,
        code: Some(402),
    };
    tx.send(Action::Submitted {
        job,
        result: Err(refused),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    let msg = a.message.clone().expect("a message");
    assert!(
        msg.text.contains("402") && msg.text.contains("balance: 100 credits"),
        "{}",
        msg.text
    );
    assert!(
        credits_req(&a.take_effects()).is_some(),
        "and reads it again"
    );
    assert!(a.submission.is_none());
    a.update(key(KeyCode::Esc));
    assert!(a.message.is_none(), "Esc dismisses it");
}

#[test]
fn quitting_asks_first_while_a_task_generates() {
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_5", &tx, &mut rx);
    a.update(key(KeyCode::Char('q')));
    assert!(!a.should_quit(), "q types in the prompt");
    a.update(ctrl('c'));
    assert_eq!(a.overlay, Some(Overlay::ConfirmQuit));
    a.update(key(KeyCode::Char('n')));
    assert!(a.overlay.is_none() && !a.should_quit());
    assert!(
        a.next_wakeup().is_some(),
        "elapsed time counts while the task generates"
    );
    tx.send(Action::TaskUpdate {
        task_id: "task_4o_5".into(),
        generation: g,
        record: record(
            "task_4o_5",
            TaskStatus::GenerateFailed,
            0.2,
            0,
            Some("failed"),
        ),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(a.next_wakeup().is_none(), "nothing counts time any more");
    a.update(ctrl('c'));
    assert!(a.should_quit(), "nothing generates: quit at once");
}

#[test]
fn a_stale_balance_wakes_once_a_minute() {
    let t0 = Instant::now();
    let mut a = app(80, 24, t0);
    let req = credits_req(&a.take_effects()).unwrap();
    a.update(Action::Credits {
        req,
        result: Ok(50.0),
    });
    a.set_now(t0 + Duration::from_secs(70));
    a.update(key(KeyCode::F(5)));
    let req = credits_req(&a.take_effects()).unwrap();
    a.update(Action::Credits {
        req,
        result: Err(Failure::new(
            ErrorClass::Unavailable,
            "could not reach the service",
        )),
    });
    assert!(a.credits.is_stale());
    assert_eq!(a.credits.value, Some(50.0), "the last balance stays shown");
    assert_eq!(a.next_wakeup(), Some(t0 + Duration::from_secs(120)));
}

#[test]
fn references_follow_the_services_rules() {
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::Tab));
    for url in ["https://x.test/a.png", "https://x.test/b.png"] {
        feed(&mut a, [key(KeyCode::Char('u'))]);
        feed(&mut a, typed(url));
        a.update(key(KeyCode::Enter));
    }
    assert_eq!(a.refs.entries.len(), 2);
    a.update(key(KeyCode::Char('m')));
    assert!(a.overlay.is_none(), "no mask with two references");
    assert!(
        a.refs
            .refusal
            .as_deref()
            .unwrap_or_default()
            .contains("mask")
    );
    feed(&mut a, [key(KeyCode::Char('u'))]);
    feed(&mut a, typed("https://x.test/c.bmp"));
    a.update(key(KeyCode::Enter));
    assert_eq!(
        a.refs.entries.len(),
        2,
        "a format the service refuses is refused here"
    );
    assert!(
        a.refs
            .refusal
            .as_deref()
            .unwrap_or_default()
            .contains("not an allowed image format")
    );
}

#[test]
fn the_browser_lists_off_the_render_path_and_drops_old_listings() {
    let (tx, mut rx) = channel();
    let mut a = app(80, 24, Instant::now());
    a.take_effects();
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('a'))]);
    let listing = |effects: &[Effect]| {
        find_effect(effects, |e| match e {
            Effect::ListDir { req, dir } => Some((*req, dir.clone())),
            _ => None,
        })
    };
    let (req1, dir1) = listing(&a.take_effects()).expect("the folder is read by the worker");
    assert_eq!(dir1, PathBuf::from("/home/ana/pictures"));
    let dir = |name: &str| DirEntry {
        name: name.into(),
        is_dir: true,
        bytes: 0,
    };
    let file = |name: &str| DirEntry {
        name: name.into(),
        is_dir: false,
        bytes: 10,
    };
    tx.send(Action::DirListed {
        req: req1,
        dir: dir1.clone(),
        result: Ok(vec![dir("trips"), file("a.png")]),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    // `..` first, then trips/: open it.
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Enter)]);
    let (req2, dir2) = listing(&a.take_effects()).expect("the sub-folder is read");
    assert_eq!(dir2, PathBuf::from("/home/ana/pictures/trips"));
    // The old listing arriving late is ignored.
    tx.send(Action::DirListed {
        req: req1,
        dir: dir1,
        result: Ok(vec![file("old.png")]),
    })
    .unwrap();
    tx.send(Action::DirListed {
        req: req2,
        dir: dir2,
        result: Ok(vec![file("leaf.jpg"), file("sea.webp")]),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    feed(&mut a, typed("sea"));
    a.update(key(KeyCode::Enter));
    assert!(a.overlay.is_none());
    let entry = find_effect(&a.take_effects(), |e| match e {
        Effect::CheckReference { entry, .. } => Some(entry.clone()),
        _ => None,
    });
    assert_eq!(entry.as_deref(), Some("/home/ana/pictures/trips/sea.webp"));
    assert_eq!(a.refs.entries[0].label, "trips/sea.webp");
}

#[test]
fn the_preview_hides_under_overlays_and_refits_after_a_resize() {
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_6", &tx, &mut rx);
    succeed_with_one_image(&tx, "task_4o_6", g);
    pump(&mut a, &mut rx);
    let req = a
        .preview
        .requested
        .as_ref()
        .map(|r| r.req)
        .expect("a decode");
    let fitted = fouro::tui::action::Fitted {
        cells: (20, 10),
        source_dims: (1024, 1024),
        payload: std::sync::Arc::new(Payload::Viuer(image::DynamicImage::new_rgb8(1, 1))),
    };
    tx.send(Action::ImageDecoded {
        req,
        result: Ok(fitted),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    let rect = a.preview_target().map(|t| t.rect).expect("shown");
    assert_eq!((rect.width, rect.height), (20, 8));
    a.take_effects();
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('?'))]);
    assert!(a.preview_target().is_none(), "never under an overlay");
    a.update(key(KeyCode::Esc));
    assert!(a.preview_target().is_some());
    assert!(
        a.take_effects().is_empty(),
        "same image, same box: no new decode"
    );
    a.update(Action::Resize(160, 48));
    let cells = find_effect(&a.take_effects(), |e| match e {
        Effect::Decode { cells, .. } => Some(*cells),
        _ => None,
    });
    assert_eq!(cells, Some((94, 27)), "a new box after a resize");
    assert!(
        a.preview_target().is_none(),
        "the old fit is not drawn in the new box"
    );
}

fn submit_effect(a: &mut App) -> Option<u64> {
    find_effect(&a.take_effects(), |e| match e {
        Effect::Submit { job, .. } => Some(*job),
        _ => None,
    })
}
