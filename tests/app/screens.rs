//! The whole screen, at 80x24 and 160x48, in the states that matter. Every state is reached
//! through `App::update` with the Actions the worker would send; time, folders and file
//! sizes are injected, so the snapshots do not depend on the machine. `▒` marks the cells
//! left to the inline image.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::app::{answer_decode, feed};
use crossterm::event::KeyCode;
use fouro::api::input::ImageSource;
use fouro::api::{ErrorClass, TaskStatus};
use fouro::tui::action::{Action, CheckedRef, Effect, Failure, NewTask};
use fouro::tui::app::App;
use fouro::tui::testing::{app, ctrl, key, record, screen, set_prompt, typed};

mod sizes;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snapshot(name: &str, build: impl Fn(u16, u16) -> App) {
    for (w, h) in SIZES {
        let app = build(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&app));
    }
}

/// An app that has read its balance.
pub(crate) fn fresh(w: u16, h: u16, t0: Instant) -> App {
    let mut a = app(w, h, t0);
    let req = credits_req(&mut a);
    a.update(Action::Credits {
        req,
        result: Ok(100.0),
    });
    a
}

fn credits_req(app: &mut App) -> u64 {
    app.take_effects()
        .into_iter()
        .rev()
        .find_map(|e| match e {
            Effect::RefreshCredits { req } => Some(req),
            _ => None,
        })
        .expect("a balance request")
}

fn checked(path: &str, dims: (u32, u32), bytes: u64) -> CheckedRef {
    CheckedRef {
        source: ImageSource::File(PathBuf::from(path)),
        dims: Some(dims),
        bytes: Some(bytes),
    }
}

/// Adds a reference through the URL/path input and answers its check as the worker would.
fn add_reference(app: &mut App, typed_path: &str, answer: Result<CheckedRef, String>) {
    app.take_effects();
    feed(app, [key(KeyCode::Char('u'))]);
    feed(app, typed(typed_path));
    feed(app, [key(KeyCode::Enter)]);
    let id = app
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::CheckReference { id, .. } => Some(id),
            _ => None,
        })
        .expect("a reference check");
    app.update(Action::ReferenceChecked { id, result: answer });
}

/// Submits `prompt` as task `id` (the service accepted it), returning the poll generation.
pub(crate) fn submit(app: &mut App, prompt: &str, id: &str) -> u64 {
    set_prompt(app, prompt);
    app.take_effects();
    app.update(ctrl('s'));
    let job = app
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Submit { job, .. } => Some(job),
            _ => None,
        })
        .expect("a submission");
    app.update(Action::Submitted {
        job,
        result: Ok(NewTask {
            created_at: 0,
            task_id: id.into(),
            journal_warning: None,
        }),
    });
    app.take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Poll { generation, .. } => Some(generation),
            _ => None,
        })
        .expect("a poll")
}

#[test]
fn empty() {
    snapshot("empty", |w, h| fresh(w, h, Instant::now()));
}

#[test]
fn editing() {
    snapshot("editing", |w, h| {
        let mut a = fresh(w, h, Instant::now());
        feed(&mut a, typed("a lighthouse at dusk"));
        feed(&mut a, [key(KeyCode::Enter)]);
        feed(&mut a, typed("oil painting, warm light"));
        // Options: 3:2, two variants, enhance on; then back to the prompt.
        feed(
            &mut a,
            [
                key(KeyCode::Tab),
                key(KeyCode::Tab),
                key(KeyCode::Right),
                key(KeyCode::Down),
                key(KeyCode::Right),
            ],
        );
        feed(
            &mut a,
            [
                key(KeyCode::Char('e')),
                key(KeyCode::BackTab),
                key(KeyCode::BackTab),
            ],
        );
        a
    });
}

pub(crate) fn with_five_references(w: u16, h: u16) -> App {
    let mut a = fresh(w, h, Instant::now());
    a.update(key(KeyCode::Tab));
    add_reference(
        &mut a,
        "sunset.png",
        Ok(checked("/home/ana/pictures/sunset.png", (256, 256), 2134)),
    );
    add_reference(
        &mut a,
        "trips/leaf.jpg",
        Ok(checked(
            "/home/ana/pictures/trips/leaf.jpg",
            (192, 256),
            964,
        )),
    );
    add_reference(
        &mut a,
        "checker.webp",
        Ok(checked(
            "/home/ana/pictures/checker.webp",
            (1536, 1024),
            3_400_000,
        )),
    );
    feed(&mut a, [key(KeyCode::Char('u'))]);
    feed(&mut a, typed("https://example.com/ref/harbour.png"));
    feed(&mut a, [key(KeyCode::Enter)]);
    add_reference(
        &mut a,
        "old/portrait.jpeg",
        Ok(checked(
            "/home/ana/pictures/old/portrait.jpeg",
            (1024, 1536),
            880_000,
        )),
    );
    a
}

#[test]
fn five_references() {
    snapshot("five_references", |w, h| {
        let mut a = with_five_references(w, h);
        // Move the URL up one place.
        feed(&mut a, [key(KeyCode::Up), key(KeyCode::Char('K'))]);
        assert_eq!(a.refs.entries.len(), 5);
        a
    });
}

#[test]
fn refused_reference() {
    snapshot("refused_reference", |w, h| {
        let mut a = fresh(w, h, Instant::now());
        a.update(key(KeyCode::Tab));
        add_reference(
            &mut a,
            "sunset.png",
            Ok(checked("/home/ana/pictures/sunset.png", (256, 256), 2134)),
        );
        add_reference(
            &mut a,
            "huge.png",
            Err("\"/home/ana/pictures/huge.png\" is 30.0 MB; the service takes at most 25 MB: scale it down first".into()),
        );
        assert_eq!(a.refs.entries.len(), 1);
        a
    });
}

#[test]
fn sixth_reference_is_refused_in_place() {
    snapshot("sixth_reference", |w, h| {
        let mut a = with_five_references(w, h);
        feed(&mut a, [key(KeyCode::Char('a'))]);
        assert!(a.overlay.is_none(), "no browser for a sixth entry");
        a
    });
}

/// Four tasks, newest first: generating, failed (twice, both words), succeeded (3:2, as its
/// 1536x1024 images are) and shown.
fn with_tasks(w: u16, h: u16) -> App {
    let t0 = Instant::now();
    let mut a = fresh(w, h, t0);
    let g1 = submit(&mut a, "a castle made of glass", "task_4o_0001");
    a.set_now(t0 + Duration::from_secs(2));
    a.update(Action::TaskUpdate {
        task_id: "task_4o_0001".into(),
        generation: g1,
        record: record(
            "task_4o_0001",
            TaskStatus::CreateTaskFailed,
            0.0,
            0,
            Some("the prompt was refused by the content policy"),
        ),
    });
    a.set_now(t0 + Duration::from_secs(5));
    // 3:2 for this one (`a` in the options pane), then back to 1:1.
    feed(
        &mut a,
        [
            key(KeyCode::Tab),
            key(KeyCode::Tab),
            key(KeyCode::Char('a')),
        ],
    );
    let g2 = submit(&mut a, "a red fox in the snow, watercolour", "task_4o_0002");
    feed(&mut a, [key(KeyCode::Char('a')), key(KeyCode::Char('a'))]);
    a.set_now(t0 + Duration::from_secs(41));
    a.update(Action::TaskUpdate {
        task_id: "task_4o_0002".into(),
        generation: g2,
        record: record("task_4o_0002", TaskStatus::Success, 1.0, 2, None),
    });
    a.update(Action::ImageSaved {
        task_id: "task_4o_0002".into(),
        index: 0,
        result: Ok(PathBuf::from("/data/images/task_4o_0002-1.png")),
    });
    a.update(Action::ImageSaved {
        task_id: "task_4o_0002".into(),
        index: 1,
        result: Ok(PathBuf::from("/data/images/task_4o_0002-2.png")),
    });
    a.set_now(t0 + Duration::from_secs(50));
    let g3 = submit(&mut a, "a cat", "task_4o_0003");
    a.update(Action::TaskUpdate {
        task_id: "task_4o_0003".into(),
        generation: g3,
        record: record(
            "task_4o_0003",
            TaskStatus::GenerateFailed,
            0.3,
            0,
            Some("failed to generate image"),
        ),
    });
    a.set_now(t0 + Duration::from_secs(60));
    let g4 = submit(
        &mut a,
        "a lighthouse at dusk, oil painting, warm light over a calm sea",
        "task_4o_0004",
    );
    a.set_now(t0 + Duration::from_secs(72));
    a.update(Action::TaskUpdate {
        task_id: "task_4o_0004".into(),
        generation: g4,
        record: record("task_4o_0004", TaskStatus::Generating, 0.45, 0, None),
    });
    // Select the succeeded task, its second image, and answer the decode the app asks for.
    feed(&mut a, [key(KeyCode::Tab)]);
    feed(
        &mut a,
        [key(KeyCode::Down), key(KeyCode::Down), key(KeyCode::Right)],
    );
    a.take_effects();
    decode_selected(&mut a);
    a
}

fn decode_selected(a: &mut App) {
    // (A screen too small for a preview asks for none.)
    answer_decode(a);
}

#[test]
fn tasks_side_by_side() {
    snapshot("tasks", |w, h| {
        let a = with_tasks(w, h);
        assert!(a.preview_target().is_some(), "the selected image is shown");
        a
    });
}

#[test]
fn full_screen_image() {
    snapshot("fullscreen", |w, h| {
        let mut a = with_tasks(w, h);
        a.update(key(KeyCode::Char('f')));
        decode_selected(&mut a);
        a
    });
}

#[test]
fn help_overlay_hides_the_image() {
    snapshot("help", |w, h| {
        let mut a = with_tasks(w, h);
        a.update(key(KeyCode::Char('?')));
        assert!(a.preview_target().is_none());
        a
    });
}

#[test]
fn key_prompt_after_401() {
    snapshot("key_prompt", |w, h| {
        let mut a = app(w, h, Instant::now());
        let req = credits_req(&mut a);
        a.update(Action::Credits {
            req,
            result: Err(Failure {
                message: "the API key was refused (401: API key is invalid): set a valid key with --api-key or FOURO_API_KEY".into(),
                class: ErrorClass::Auth,
                code: Some(401),
            }),
        });
        feed(&mut a, typed("sk-secret"));
        let text = screen(&a);
        assert!(
            !text.contains("--api-key") && !text.contains("FOURO_API_KEY"),
            "the command line's advice means nothing in the app: {text}"
        );
        a
    });
}

#[test]
fn stale_balance() {
    snapshot("stale_balance", |w, h| {
        let t0 = Instant::now();
        let mut a = fresh(w, h, t0);
        a.set_now(t0 + Duration::from_secs(185));
        a.update(key(KeyCode::F(5)));
        let req = credits_req(&mut a);
        a.update(Action::Credits {
            req,
            result: Err(Failure::new(
                ErrorClass::Unavailable,
                "could not reach 127.0.0.1:40301: Connection refused: check the network, the base URL or HTTPS_PROXY",
            )),
        });
        a.set_now(t0 + Duration::from_secs(200));
        assert!(a.credits.is_stale());
        a
    });
}

#[test]
fn browser_and_quit_question() {
    let mut a = fresh(80, 24, Instant::now());
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('a'))]);
    let req = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::ListDir { req, .. } => Some(req),
            _ => None,
        })
        .expect("a listing");
    let entry = |name: &str, is_dir: bool, bytes: u64| fouro::tui::action::DirEntry {
        name: name.into(),
        is_dir,
        bytes,
    };
    a.update(Action::DirListed {
        req,
        dir: PathBuf::from("/home/ana/pictures"),
        result: Ok(vec![
            entry("trips", true, 0),
            entry("leaf.jpg", false, 964),
            entry("sunset.png", false, 2134),
            entry("sunrise.webp", false, 30_000_000),
        ]),
    });
    feed(&mut a, typed("sun"));
    insta::assert_snapshot!("browser_80x24", screen(&a));

    let mut b = fresh(80, 24, Instant::now());
    submit(&mut b, "a castle", "task_4o_0001");
    b.update(ctrl('c'));
    insta::assert_snapshot!("quit_question_80x24", screen(&b));
}

/// What `screen()` cannot show: colours and attributes, at both sizes.
#[test]
fn focus_selection_and_status_words_are_styled() {
    use fouro::tui::testing::{buffer, find};
    use ratatui::style::{Color, Modifier};
    for (w, h) in SIZES {
        let a = with_tasks(w, h);
        let buf = buffer(&a);
        let at = |text: &str| find(&buf, text).unwrap_or_else(|| panic!("{text:?} at {w}x{h}"));
        for (word, colour) in [
            ("GENERATING", Color::Yellow),
            ("SUCCESS", Color::Green),
            ("GENERATE_FAILED", Color::Red),
            ("CREATE_TASK_FAILED", Color::Red),
        ] {
            let (x, y) = at(word);
            assert_eq!(buf[(x, y)].fg, colour, "{word} at {w}x{h}");
            assert!(buf[(x, y)].modifier.contains(Modifier::BOLD), "{word}");
        }
        let (x, y) = at("the prompt was refused");
        assert_eq!(buf[(x, y)].fg, Color::Red);

        // The focused pane (tasks): thick accented border and bold title; the others plain.
        let (x, y) = at("Tasks (4)");
        assert_eq!(buf[(x, y)].fg, Color::Cyan, "the focused pane's title");
        assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
        assert_eq!(buf[(x - 2, y)].symbol(), "┏", "a thick corner at {w}x{h}");
        assert_eq!(buf[(x - 2, y)].fg, Color::Cyan);
        let (x, y) = at("Prompt");
        assert_eq!(buf[(x - 2, y)].symbol(), "┌");
        assert_eq!(buf[(x - 2, y)].fg, Color::DarkGray);

        // The selected task's first row is reversed from its marker to the pane's edge; the
        // row below it and the other tasks are not.
        let (x, y) = at("▶ SUCCESS");
        assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
        assert!(!buf[(x, y + 1)].modifier.contains(Modifier::REVERSED));
        let (x, y) = at("GENERATING");
        assert!(!buf[(x, y)].modifier.contains(Modifier::REVERSED));

        // The chosen aspect (1:1 for the next task): its box and label accented, the others dim.
        let panes = fouro::tui::ui::layout::panes(&a);
        let g = fouro::tui::ui::layout::options_geometry(
            fouro::tui::ui::layout::inner(panes.options),
            panes.compact,
        );
        for (size, rect, label) in g.boxes {
            let chosen = size.as_str() == "1:1";
            let colour = if chosen { Color::Cyan } else { Color::DarkGray };
            let corner = &buf[(rect.x, rect.y)];
            // Thick when chosen: visible without colour too.
            let shape = if chosen { "┏" } else { "┌" };
            assert_eq!(
                (corner.symbol(), corner.fg),
                (shape, colour),
                "{size} box at {w}x{h}"
            );
            let first = &buf[(label.x, label.y)];
            assert_eq!(first.fg, colour, "{size} label at {w}x{h}");
            assert_eq!(first.modifier.contains(Modifier::BOLD), chosen);
        }
    }
}
