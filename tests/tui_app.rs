//! The app's behaviour, driven through the channel the worker and the pollers use: answers
//! are sent on an mpsc sender and pumped into `App::update`, as the runner does. The last
//! test runs the real worker against the in-process emulator.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use fouro::api::poll::PollOptions;
use fouro::api::{ApiKey, ClientConfig, ErrorClass, TaskStatus};
use fouro::emulator::{Emulator, EmulatorConfig};
use fouro::store::History;
use fouro::tui::action::{Action, DirEntry, Effect, Failure, NewTask};
use fouro::tui::app::tasks::ImageSlot;
use fouro::tui::app::{App, Overlay};
use fouro::tui::preview::{Payload, Protocol};
use fouro::tui::testing::{app, ctrl, key, record, set_prompt, typed};
use fouro::tui::worker::Worker;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

mod common;

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

fn feed(app: &mut App, actions: impl IntoIterator<Item = Action>) {
    for a in actions {
        app.update(a);
    }
}

fn find<T>(effects: &[Effect], f: impl Fn(&Effect) -> Option<T>) -> Option<T> {
    effects.iter().find_map(f)
}

fn poll_of(effects: &[Effect]) -> Option<(String, u64)> {
    find(effects, |e| match e {
        Effect::Poll {
            task_id,
            generation,
        } => Some((task_id.clone(), *generation)),
        _ => None,
    })
}

fn credits_req(effects: &[Effect]) -> Option<u64> {
    find(effects, |e| match e {
        Effect::RefreshCredits { req } => Some(*req),
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
    let job = find(&a.take_effects(), |e| match e {
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
    let job = find(&a.take_effects(), |e| match e {
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
    let items = find(&effects, |e| match e {
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
    let decode = find(&a.take_effects(), |e| match e {
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
    let key_set = find(&effects, |e| match e {
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
    let job = find(&a.take_effects(), |e| match e {
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
        find(effects, |e| match e {
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
    let entry = find(&a.take_effects(), |e| match e {
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
    let cells = find(&a.take_effects(), |e| match e {
        Effect::Decode { cells, .. } => Some(*cells),
        _ => None,
    });
    assert_eq!(cells, Some((94, 27)), "a new box after a resize");
    assert!(
        a.preview_target().is_none(),
        "the old fit is not drawn in the new box"
    );
}

/// Everything but the terminal: keys into the app, its effects into the real worker, the
/// worker's answers back through the channel, against the emulator over loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_runs_end_to_end_through_the_worker() {
    let emulator = Emulator::start(EmulatorConfig {
        credits: 100,
        cost: 6,
        duration: Duration::from_millis(600),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts");
    let data = tempfile::tempdir().expect("a temp dir");
    let (tx, mut rx) = channel();
    let config = ClientConfig {
        base_url: emulator.base_url(),
        api_key: ApiKey::new("demo-key"),
        ..ClientConfig::default()
    };
    let poll = PollOptions {
        first_interval: Duration::from_millis(100),
        max_interval: Duration::from_millis(400),
        give_up_after: Duration::from_secs(60),
    };
    let history = History::open_in(data.path()).expect("a history");
    let mut worker = Worker::new(
        tx,
        config,
        data.path().to_path_buf(),
        history.clone(),
        Protocol::Blocks,
        poll,
    )
    .expect("a worker");
    let mut a = app(160, 48, Instant::now());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);

    feed(&mut a, typed("a lighthouse at dusk"));
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('u'))]);
    let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/ref-sunset.png");
    feed(&mut a, typed(reference.to_str().expect("a UTF-8 path")));
    feed(
        &mut a,
        [key(KeyCode::Enter), key(KeyCode::Tab), key(KeyCode::Right)],
    );

    let mut submitted = false;
    let mut recorded_before_shown = false;
    loop {
        for effect in a.take_effects() {
            worker.handle(effect);
        }
        let ready = a.refs.entries.first().is_some_and(|e| e.source().is_some());
        if ready && !submitted {
            assert!(a.refs.entries[0].label.contains("ref-sunset.png"));
            a.update(ctrl('s'));
            submitted = true;
            continue;
        }
        let done = a
            .tasks
            .list
            .first()
            .is_some_and(|t| matches!(t.images.first(), Some(ImageSlot::Saved(_))))
            && a.preview_image().is_some()
            && a.credits.value == Some(94.0);
        if done {
            break;
        }
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out; tasks: {:?}, message: {:?}",
                    a.tasks.list, a.message
                )
            })
            .expect("the worker keeps the channel open");
        if let Action::Submitted {
            result: Ok(new), ..
        } = &action
        {
            // A second connection, as another process would see the file.
            let other = History::open_in(data.path()).expect("the history opens");
            recorded_before_shown = other.get(&new.task_id).expect("readable").is_some();
        }
        a.set_now(Instant::now());
        a.update(action);
    }
    assert!(
        recorded_before_shown,
        "the id is in the history before the app shows it"
    );
    let task = &a.tasks.list[0];
    assert_eq!(task.status, TaskStatus::Success);
    assert_eq!(task.size.as_str(), "3:2");
    let Some(ImageSlot::Saved(path)) = task.images.first() else {
        unreachable!()
    };
    assert_eq!(
        path,
        &fouro::store::files::image_path(data.path(), &task.id, task.created_at, 0)
    );
    assert_eq!(image::image_dimensions(path).expect("a PNG"), (1536, 1024));
    assert_eq!(a.preview_image().map(|f| f.source_dims), Some((1536, 1024)));
    // The history has it all: the status, the reference's origin and upload, the file.
    let entry = history
        .get(&task.id)
        .expect("readable")
        .expect("in the history");
    assert_eq!(entry.status, fouro::store::Status::Success);
    assert_eq!(entry.params.prompt.as_deref(), Some("a lighthouse at dusk"));
    assert_eq!(entry.params.refs.len(), 1);
    assert_eq!(entry.params.refs[0].origin, reference.display().to_string());
    assert!(entry.params.refs[0].url.starts_with("http://127.0.0.1:"));
    assert_eq!(entry.images[0].path.as_ref(), Some(path));
    drop(worker);
    emulator.shutdown().await;
}

#[test]
fn a_click_focuses_a_pane_and_picks_what_is_under_it() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    use fouro::tui::app::Focus;
    use fouro::tui::ui::layout;
    let click = |column: u16, row: u16| {
        Action::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    let (tx, mut rx) = channel();
    let (mut a, _) = with_task("task_4o_7", &tx, &mut rx);
    let (second, _) = add_task(&mut a, "task_4o_8", &tx, &mut rx);
    assert_eq!(second, 0, "the newest task is selected, at the top");
    let panes = layout::panes(&a);
    // The 2:3 box, drawn third in the options pane.
    let g = layout::options_geometry(layout::inner(panes.options), panes.compact);
    let (_, portrait, _) = g.boxes[2];
    a.update(click(portrait.x + 1, portrait.y + 1));
    assert_eq!(a.focus, Focus::Options);
    assert_eq!(a.options.size.as_str(), "2:3");
    // The second task's rows (two per task): the older task, task_4o_7.
    let inner = layout::inner(panes.tasks);
    a.update(click(inner.x + 3, inner.y + 2));
    assert_eq!((a.focus, a.tasks.selected), (Focus::Tasks, 1));
    assert_eq!(a.tasks.list[1].id, "task_4o_7");
    a.update(click(inner.x + 3, inner.y + 3));
    assert_eq!(a.tasks.selected, 1, "its second row picks it too");
    a.update(click(inner.x + 3, inner.y));
    assert_eq!(
        a.tasks.selected, 0,
        "and the first task's row picks the first"
    );
    a.update(click(inner.x + 3, inner.y + 6));
    assert_eq!(a.tasks.selected, 0, "a click below the tasks picks nothing");
    a.update(click(panes.prompt.x + 2, panes.prompt.y + 2));
    assert_eq!(a.focus, Focus::Prompt);
}

#[test]
fn a_new_key_repolls_every_generating_task_and_old_401s_ask_nothing() {
    let (tx, mut rx) = channel();
    let (mut a, g_old) = with_task("task_4o_20", &tx, &mut rx);
    let (_, g_new) = add_task(&mut a, "task_4o_21", &tx, &mut rx);
    // The older task's poller stops on a 401; the newer one's is still at work.
    tx.send(Action::PollFailed {
        task_id: "task_4o_20".into(),
        generation: g_old,
        failure: refused(),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(matches!(a.overlay, Some(Overlay::KeyPrompt { .. })));
    feed(&mut a, typed("sk-good-key-0123456789"));
    a.update(key(KeyCode::Enter));
    let effects = a.take_effects();
    let polled: Vec<(String, u64)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Poll {
                task_id,
                generation,
            } => Some((task_id.clone(), *generation)),
            _ => None,
        })
        .collect();
    let ids: Vec<&str> = polled.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        ids,
        ["task_4o_21", "task_4o_20"],
        "both, the running one too"
    );
    let set_key_first = matches!(effects.first(), Some(Effect::SetKey(_)));
    assert!(
        set_key_first,
        "the key changes before the new pollers start"
    );
    // The newer task's old poller, still on the old key, reports a 401: dropped.
    tx.send(Action::PollFailed {
        task_id: "task_4o_21".into(),
        generation: g_new,
        failure: refused(),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(a.overlay.is_none(), "no stale key prompt");
    assert!(a.tasks.list.iter().all(|t| t.polling && t.note.is_none()));
}

#[test]
fn a_stopped_poller_stops_the_timer_and_freezes_its_time() {
    let t0 = Instant::now();
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_22", &tx, &mut rx);
    a.set_now(t0 + Duration::from_secs(5));
    assert!(a.next_wakeup().is_some(), "a polled task counts time");
    tx.send(Action::PollFailed {
        task_id: "task_4o_22".into(),
        generation: g,
        failure: Failure::new(ErrorClass::Unavailable, "still running after 30 minutes"),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(a.next_wakeup().is_none(), "nothing is polled: no timer");
    let task = &a.tasks.list[0];
    let frozen = task.elapsed(t0 + Duration::from_secs(5));
    assert_eq!(task.elapsed(t0 + Duration::from_secs(3600)), frozen);
    assert!(task.note.as_deref().unwrap_or_default().contains("press p"));
    // `p` polls it again, and the clock runs again.
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    a.update(key(KeyCode::Char('p')));
    assert!(poll_of(&a.take_effects()).is_some());
    assert!(a.next_wakeup().is_some());
}

fn submit_effect(a: &mut App) -> Option<u64> {
    find(&a.take_effects(), |e| match e {
        Effect::Submit { job, .. } => Some(*job),
        _ => None,
    })
}

#[test]
fn ctrl_s_submits_from_help_and_full_screen_but_not_while_typing() {
    use fouro::tui::testing::screen;
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_23", &tx, &mut rx);
    a.update(key(KeyCode::F(1)));
    a.update(ctrl('s'));
    assert!(a.overlay.is_none(), "the help closes");
    let job = submit_effect(&mut a).expect("and the prompt is submitted");
    tx.send(Action::Submitted {
        job,
        result: Ok(NewTask {
            task_id: "task_4o_24".into(),
            created_at: 0,
            journal_warning: None,
        }),
    })
    .unwrap();
    // The first task succeeds; show it full screen, then Ctrl-S.
    succeed_with_one_image(&tx, "task_4o_23", g);
    pump(&mut a, &mut rx);
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Char('f'))]);
    assert!(a.fullscreen);
    a.take_effects();
    a.update(ctrl('s'));
    assert!(!a.fullscreen, "full screen closes");
    assert!(
        submit_effect(&mut a).is_some(),
        "and the prompt is submitted"
    );
    // In the URL dialog Ctrl-S does nothing, and the status line says so.
    a.submission = None;
    feed(&mut a, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    a.update(key(KeyCode::Char('u')));
    feed(&mut a, typed("https://x.test/a"));
    a.mark_drawn();
    a.update(ctrl('s'));
    assert!(matches!(a.overlay, Some(Overlay::Url { .. })));
    assert!(submit_effect(&mut a).is_none());
    assert!(!a.is_dirty());
    let text = screen(&a);
    assert!(text.contains("Ctrl-S  off while typing"), "{text}");
}

#[test]
fn question_mark_opens_help_from_an_empty_prompt_only() {
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::Char('?')));
    assert!(matches!(a.overlay, Some(Overlay::Help { .. })));
    a.update(key(KeyCode::Esc));
    feed(&mut a, typed("why?"));
    assert!(a.overlay.is_none());
    assert_eq!(a.prompt_text(), "why?");
    a.update(key(KeyCode::F(1)));
    assert!(matches!(a.overlay, Some(Overlay::Help { .. })), "F1 always");
}

#[test]
fn help_scroll_stays_within_the_help() {
    use fouro::tui::ui::overlays::help_max_scroll;
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::F(1)));
    let max = help_max_scroll(&a.config, a.area);
    assert!(max > 10, "the help is longer than 80x24");
    for _ in 0..(max + 30) {
        a.update(key(KeyCode::Down));
    }
    assert_eq!(a.overlay, Some(Overlay::Help { scroll: max }));
    a.mark_drawn();
    a.update(key(KeyCode::PageDown));
    assert!(!a.is_dirty(), "at the bottom, scrolling on changes nothing");
    a.update(key(KeyCode::Home));
    assert_eq!(a.overlay, Some(Overlay::Help { scroll: 0 }));
    a.update(key(KeyCode::End));
    a.update(Action::Resize(300, 90));
    let max = help_max_scroll(&a.config, a.area);
    assert_eq!(
        a.overlay,
        Some(Overlay::Help { scroll: max }),
        "a resize clamps it"
    );
}

fn dir_entry(name: &str, is_dir: bool) -> DirEntry {
    DirEntry {
        name: name.into(),
        is_dir,
        bytes: 10,
    }
}

fn listing(effects: &[Effect]) -> Option<(u64, PathBuf)> {
    find(effects, |e| match e {
        Effect::ListDir { req, dir } => Some((*req, dir.clone())),
        _ => None,
    })
}

#[test]
fn the_browser_reopens_where_it_last_read_and_tab_types_relative_to_it() {
    let mut a = app(80, 24, Instant::now());
    a.take_effects();
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('a'))]);
    let (req, dir) = listing(&a.take_effects()).unwrap();
    a.update(Action::DirListed {
        req,
        dir,
        result: Ok(vec![dir_entry("trips", true), dir_entry("locked", true)]),
    });
    // An unreadable folder: the next browser does not open there.
    feed(
        &mut a,
        [key(KeyCode::Down), key(KeyCode::Down), key(KeyCode::Enter)],
    );
    let (req, dir) = listing(&a.take_effects()).unwrap();
    assert_eq!(dir, PathBuf::from("/home/ana/pictures/locked"));
    a.update(Action::DirListed {
        req,
        dir,
        result: Err("cannot read /home/ana/pictures/locked: permission denied".into()),
    });
    assert_eq!(a.last_dir, PathBuf::from("/home/ana/pictures"));
    // Up, into trips/, then Tab: a typed path is taken relative to trips/.
    a.update(key(KeyCode::Backspace));
    let (req, dir) = listing(&a.take_effects()).unwrap();
    a.update(Action::DirListed {
        req,
        dir,
        result: Ok(vec![dir_entry("trips", true), dir_entry("locked", true)]),
    });
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Enter)]);
    let (req, dir) = listing(&a.take_effects()).unwrap();
    a.update(Action::DirListed {
        req,
        dir,
        result: Ok(vec![dir_entry("sea.webp", false)]),
    });
    assert_eq!(a.last_dir, PathBuf::from("/home/ana/pictures/trips"));
    a.update(key(KeyCode::Tab));
    feed(&mut a, typed("sea.webp"));
    a.update(key(KeyCode::Enter));
    let entry = find(&a.take_effects(), |e| match e {
        Effect::CheckReference { entry, .. } => Some(entry.clone()),
        _ => None,
    });
    assert_eq!(entry.as_deref(), Some("/home/ana/pictures/trips/sea.webp"));
}

#[test]
fn pasting_several_paths_adds_each_up_to_the_limit() {
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::Tab));
    let pasted = (1..=7)
        .map(|i| format!("'/tmp/shots/ref-{i}.png'"))
        .collect::<Vec<_>>()
        .join("\n");
    // tmux and many terminals end pasted lines with CR.
    a.update(Action::Paste(pasted.replace('\n', "\r") + "\r"));
    let checks: Vec<String> = a
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::CheckReference { entry, .. } => Some(entry),
            _ => None,
        })
        .collect();
    assert_eq!(checks.len(), 5, "five references at most");
    assert_eq!(checks[0], "/tmp/shots/ref-1.png", "quotes are dropped");
    let why = a.refs.refusal.clone().unwrap_or_default();
    assert!(
        why.contains("added 5 of 7") && why.contains("ref-6.png, ref-7.png"),
        "{why}"
    );
    // In the URL dialog too: two lines, two entries.
    a.update(key(KeyCode::Char('d')));
    a.update(key(KeyCode::Char('d')));
    a.update(key(KeyCode::Char('u')));
    a.update(Action::Paste(
        "https://x.test/a.png\nhttps://x.test/b.png".into(),
    ));
    assert!(a.overlay.is_none());
    assert_eq!(a.refs.entries.len(), 5);
}

#[test]
fn keys_that_change_nothing_draw_no_frame() {
    let (tx, mut rx) = channel();
    let (mut a, _) = with_task("task_4o_25", &tx, &mut rx);
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    a.mark_drawn();
    for k in [
        KeyCode::F(12),
        KeyCode::Char('x'),
        KeyCode::Up,
        KeyCode::Char('k'),
        KeyCode::Home,
        KeyCode::Right,
        KeyCode::Insert,
    ] {
        a.update(key(k));
        assert!(!a.is_dirty(), "{k:?} changed nothing");
    }
    a.update(key(KeyCode::BackTab));
    assert!(a.is_dirty());
    a.mark_drawn();
    a.update(key(KeyCode::Down));
    assert!(a.is_dirty(), "the next option row");
    feed(&mut a, [key(KeyCode::BackTab), key(KeyCode::BackTab)]);
    a.mark_drawn();
    a.update(key(KeyCode::Right));
    assert!(!a.is_dirty(), "the cursor is at the end already");
    a.update(key(KeyCode::Home));
    assert!(a.is_dirty(), "the cursor moved");
}

/// An app showing task `id`'s image full screen.
fn full_screen(tx: &UnboundedSender<Action>, rx: &mut UnboundedReceiver<Action>) -> App {
    let (mut a, g) = with_task("task_4o_26", tx, rx);
    succeed_with_one_image(tx, "task_4o_26", g);
    pump(&mut a, rx);
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    a.update(key(KeyCode::Enter));
    assert!(a.fullscreen);
    a
}

#[test]
fn full_screen_keeps_its_image_when_a_new_task_arrives() {
    let (tx, mut rx) = channel();
    let mut a = full_screen(&tx, &mut rx);
    a.fullscreen = false;
    a.update(ctrl('s'));
    let job = submit_effect(&mut a).expect("a submission");
    a.update(key(KeyCode::Enter));
    assert!(a.fullscreen);
    let shown = a.preview.requested.clone().map(|r| r.task_id);
    tx.send(Action::Submitted {
        job,
        result: Ok(NewTask {
            task_id: "task_4o_27".into(),
            created_at: 0,
            journal_warning: None,
        }),
    })
    .unwrap();
    pump(&mut a, &mut rx);
    assert!(a.fullscreen, "still full screen");
    assert_eq!(
        a.tasks.list[0].id, "task_4o_27",
        "the new task is listed first"
    );
    assert_eq!(a.preview.requested.map(|r| r.task_id), shown, "same image");
    assert_eq!(
        a.tasks.selected().map(|t| t.id.as_str()),
        Some("task_4o_26")
    );
}

#[test]
fn messages_show_in_full_screen_and_esc_dismisses_them_first() {
    use fouro::tui::testing::screen;
    let (tx, mut rx) = channel();
    let mut a = full_screen(&tx, &mut rx);
    a.update(key(KeyCode::Char('x')));
    a.show(
        fouro::tui::app::Level::Error,
        "the journal could not be written",
    );
    let text = screen(&a);
    assert!(
        text.contains("Error: the journal could not be written"),
        "{text}"
    );
    a.update(key(KeyCode::Esc));
    assert!(a.message.is_none() && a.fullscreen);
    a.update(key(KeyCode::Esc));
    assert!(!a.fullscreen);
}

#[test]
fn a_401_waits_for_the_open_dialog_and_the_quit_question_gives_it_back() {
    let (tx, mut rx) = channel();
    let (mut a, g) = with_task("task_4o_28", &tx, &mut rx);
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('u'))]);
    feed(&mut a, typed("https://x.test/half-typed"));
    tx.send(Action::PollFailed {
        task_id: "task_4o_28".into(),
        generation: g,
        failure: refused(),
        stopped: true,
    })
    .unwrap();
    pump(&mut a, &mut rx);
    let Some(Overlay::Url { input, .. }) = &a.overlay else {
        panic!("the URL dialog stays: {:?}", a.overlay)
    };
    assert_eq!(input.text(), "https://x.test/half-typed");
    a.update(key(KeyCode::Esc));
    assert!(
        matches!(a.overlay, Some(Overlay::KeyPrompt { .. })),
        "the key prompt opens once the dialog closed"
    );
    // Ctrl-C over the key prompt asks; "stay" brings the prompt back with what was typed.
    feed(&mut a, typed("sk-partial"));
    a.update(ctrl('c'));
    assert_eq!(a.overlay, Some(Overlay::ConfirmQuit));
    a.update(key(KeyCode::Char('n')));
    let Some(Overlay::KeyPrompt { input, .. }) = &a.overlay else {
        panic!("the key prompt is back: {:?}", a.overlay)
    };
    assert_eq!(input.text(), "sk-partial");
    assert!(!a.should_quit());
}

#[test]
fn the_quit_question_tells_what_happens_to_a_submission() {
    use fouro::tui::testing::screen;
    let mut a = app(80, 24, Instant::now());
    set_prompt(&mut a, "a fox");
    a.update(ctrl('s'));
    a.update(ctrl('c'));
    let text = screen(&a);
    assert!(text.contains("waits for its answer"), "{text}");
    a.update(key(KeyCode::Char('y')));
    assert!(a.should_quit());
    let mut b = app(80, 24, Instant::now());
    b.update(Action::Leaving {
        submissions: 1,
        limit: Duration::from_secs(70),
    });
    let msg = b.message.clone().expect("a note while waiting").text;
    assert!(
        msg.contains("up to 70 s") && msg.contains("Ctrl-C"),
        "{msg}"
    );
}

fn demo_worker(
    emulator: &Emulator,
    key: &str,
    data: &std::path::Path,
) -> (Worker, UnboundedReceiver<Action>) {
    let (tx, rx) = channel();
    let config = ClientConfig {
        base_url: emulator.base_url(),
        api_key: ApiKey::new(key),
        request_timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    };
    let worker = Worker::new(
        tx,
        config,
        data.to_path_buf(),
        History::open_in(data).expect("a history"),
        Protocol::Blocks,
        PollOptions::default(),
    )
    .expect("a worker");
    (worker, rx)
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
