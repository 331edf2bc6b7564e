//! The queue on screen, at 80x24 and 160x48: its rows above the tasks (one on its way, one
//! selected, a task generating below), the staging dialog with its estimate, and the start
//! question. Every state is reached through `App::update`, the clock injected.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fouro::store::queue::Saved;
use fouro::tui::action::{Action, Effect, NewTask};
use fouro::tui::app::App;
use fouro::tui::testing::{app, key, screen, set_prompt};

use crate::common::app::credits_req;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn snapshot(name: &str, build: impl Fn(u16, u16) -> App) {
    for (w, h) in SIZES {
        let app = build(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&app));
    }
}

pub(crate) fn alt(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT))
}

/// An app with its balance read and an empty queue loaded.
pub(crate) fn ready(w: u16, h: u16) -> App {
    let mut a = app(w, h, Instant::now());
    let req = credits_req(&a.take_effects()).expect("a balance request");
    a.update(Action::Credits {
        req,
        result: Ok(100.0),
    });
    a.update(Action::QueueLoaded(Ok(Saved::default())));
    a
}

/// The prompt staged in all three aspects.
pub(crate) fn stage_three(a: &mut App, prompt: &str) {
    set_prompt(a, prompt);
    a.update(alt('s'));
    for k in [
        KeyCode::Right,
        KeyCode::Char(' '),
        KeyCode::Right,
        KeyCode::Char(' '),
    ] {
        a.update(key(k));
    }
    a.update(key(KeyCode::Enter));
}

#[test]
fn the_staging_dialog_shows_the_matrix_and_its_estimate() {
    snapshot("queue_stage", |w, h| {
        let mut a = ready(w, h);
        set_prompt(&mut a, "a lighthouse at dusk, oil on canvas");
        a.update(alt('s'));
        for k in [
            KeyCode::Right,
            KeyCode::Char(' '),
            KeyCode::Right,
            KeyCode::Right,
            KeyCode::Right,
            KeyCode::Char(' '),
        ] {
            a.update(key(k));
        }
        let shown = screen(&a);
        assert!(shown.contains("4 entries: 6 images"), "{shown}");
        a
    });
}

#[test]
fn queued_entries_sit_above_the_tasks_and_the_title_says_running() {
    snapshot("queue_running", |w, h| {
        let t0 = Instant::now();
        let mut a = ready(w, h);
        stage_three(&mut a, "alpha fox");
        stage_three(&mut a, "beta owl");
        a.update(key(KeyCode::Tab));
        a.update(key(KeyCode::Tab));
        a.update(key(KeyCode::Tab));
        a.update(key(KeyCode::Char('P')));
        a.update(key(KeyCode::Char('y')));
        let job = a.queue.check.expect("a balance check");
        a.take_effects();
        a.update(Action::QueueChecked { job });
        let sent = a
            .take_effects()
            .into_iter()
            .find_map(|e| match e {
                Effect::SubmitQueued { job, .. } => Some(job),
                _ => None,
            })
            .expect("the first entry goes");
        a.set_now(t0 + Duration::from_secs(3));
        a.update(Action::Submitted {
            job: sent,
            result: Ok(NewTask {
                task_id: "task_4o_1".into(),
                created_at: 1,
                journal_warning: None,
            }),
        });
        a.update(key(KeyCode::Up));
        a.update(key(KeyCode::Down));
        let shown = screen(&a);
        assert!(shown.contains("queue 5 ▶ running"), "{shown}");
        assert!(shown.contains("SENDING"), "{shown}");
        a
    });
}

#[test]
fn the_start_question_says_what_the_queue_should_cost() {
    snapshot("queue_start", |w, h| {
        let mut a = ready(w, h);
        stage_three(&mut a, "alpha fox");
        a.update(key(KeyCode::F(6)));
        let shown = screen(&a);
        assert!(shown.contains("Start the queue: 3 entries."), "{shown}");
        a
    });
}
