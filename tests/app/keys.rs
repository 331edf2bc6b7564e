//! Credits are spent only on purpose in the app: every way it submits (Ctrl-S from each place
//! it works, the history's re-run, a remix, the low-balance questions) shows what the images
//! should cost on the screen where the person decides, before anything is sent. And the
//! check before a submit uses a balance read just then, not only the one read at the start.

use std::time::Instant;

use crossterm::event::KeyCode;
use fouro::api::{Size, Variants};
use fouro::store::usage::{TaskCost, Usage};
use fouro::store::{History, Params, Query, Status};
use fouro::tasks::policy::Shortfall;
use fouro::tui::action::{Action, Draft, Effect, HistoryPage};
use fouro::tui::app::{App, Focus, Overlay, Screen};
use fouro::tui::testing::{app, ctrl, key, screen, set_prompt};

/// The usage the app reads at start, with one task of `per_image` credits if given.
fn usage(per_image: Option<f64>) -> Usage {
    Usage {
        tasks: per_image
            .map(|cost| TaskCost {
                task_id: "task_old".into(),
                created_at: 0,
                prompt: Some("an old prompt".into()),
                status: Status::Success,
                variants: 1,
                cost: Some(cost),
            })
            .into_iter()
            .collect(),
        ..Usage::default()
    }
}

/// An app that read a balance of `balance` and the usage at start.
fn started(balance: f64, per_image: Option<f64>) -> App {
    let mut a = app(80, 24, Instant::now());
    for effect in a.take_effects() {
        match effect {
            Effect::RefreshCredits { req } => a.update(Action::Credits {
                req,
                result: Ok(balance),
            }),
            Effect::LoadUsage { req } => a.update(Action::UsageLoaded {
                req,
                result: Ok(usage(per_image)),
            }),
            _ => {}
        }
    }
    a
}

/// Presses `k`; if it sent a submission, returns its draft and the screen shown just before
/// the key (where the person decided).
fn press(a: &mut App, k: Action) -> Option<(Draft, String)> {
    let before = screen(a);
    a.take_effects();
    a.update(k);
    a.take_effects().into_iter().find_map(|e| match e {
        Effect::Submit { draft, .. } => Some((draft, before.clone())),
        _ => None,
    })
}

/// Asserts that `k` submits, with `shown` on the screen before it.
fn submits_after_seeing(a: &mut App, k: Action, shown: &str) -> Draft {
    let (draft, before) = press(a, k).expect("a submission");
    assert!(
        before.contains(shown),
        "{shown:?} was not on the screen before the submit:\n{before}"
    );
    draft
}

/// Lets the submission on its way be accepted, so that another may go.
fn accepted(a: &mut App) {
    let job = a.submission.as_ref().map(|s| s.job).expect("a submission");
    a.update(Action::Submitted {
        job,
        result: Err(fouro::tui::action::Failure::new(
            fouro::api::ErrorClass::Rejected,
            "not needed here",
        )),
    });
    a.update(key(KeyCode::Esc));
}

#[test]
fn ctrl_s_from_every_place_shows_the_estimate_first() {
    let mut a = started(100.0, Some(6.0));
    a.options.variants = Variants::Two;
    set_prompt(&mut a, "a red fox");
    // The prompt: the line under it.
    submits_after_seeing(&mut a, ctrl('s'), "Ctrl-S: 2 images, ~12 credits");
    accepted(&mut a);
    // Another pane: the prompt's line is on screen too.
    a.update(key(KeyCode::Tab));
    assert_ne!(a.focus, Focus::Prompt);
    submits_after_seeing(&mut a, ctrl('s'), "2 images, ~12 credits");
    accepted(&mut a);
    // The help over the panes: its status line.
    a.update(key(KeyCode::F(1)));
    assert!(matches!(a.overlay, Some(Overlay::Help { .. })));
    submits_after_seeing(&mut a, ctrl('s'), "submit: 2 images, ~12 credits");
    accepted(&mut a);
    // The history and the account screens: their status lines.
    a.update(key(KeyCode::F(3)));
    assert_eq!(a.screen, Screen::History);
    submits_after_seeing(&mut a, ctrl('s'), "submit: 2 images, ~12 credits");
    accepted(&mut a);
    a.update(key(KeyCode::F(4)));
    assert_eq!(a.screen, Screen::Account);
    submits_after_seeing(&mut a, ctrl('s'), "submit: 2 images, ~12 credits");
}

#[test]
fn with_no_cost_observed_the_estimate_says_so() {
    let mut a = started(100.0, None);
    set_prompt(&mut a, "a red fox");
    submits_after_seeing(&mut a, ctrl('s'), "1 image, cost not known yet");
}

/// The history screen, its one entry answered from a real history database.
fn history_with_one_entry(a: &mut App) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let h = History::open_in(dir.path()).expect("a history");
    let params = Params {
        prompt: Some("a lighthouse at dusk".into()),
        size: Size::Landscape,
        variants: Variants::Four,
        ..Params::default()
    };
    h.insert("task_1", "http://127.0.0.1:1", &params, 1_000)
        .expect("inserted");
    let entries = h.page(&Query::default(), 0, 50).expect("a page");
    a.take_effects();
    a.update(key(KeyCode::F(3)));
    let req = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::LoadHistory { req, .. } => Some(req),
            _ => None,
        })
        .expect("the history is read");
    a.update(Action::HistoryLoaded {
        req,
        result: Ok(HistoryPage {
            total: entries.len(),
            more: false,
            offset: 0,
            entries,
            scoped: false,
        }),
    });
}

#[test]
fn rerun_asks_first_with_the_estimate() {
    let mut a = started(100.0, Some(6.0));
    history_with_one_entry(&mut a);
    assert!(
        press(&mut a, key(KeyCode::Char('R'))).is_none(),
        "no spend yet"
    );
    assert!(matches!(a.overlay, Some(Overlay::ConfirmRerun { .. })));
    // Anything but y or Enter cancels.
    assert!(press(&mut a, key(KeyCode::Char('n'))).is_none());
    assert_eq!(a.overlay, None);
    assert_eq!(a.screen, Screen::History);
    a.update(key(KeyCode::Esc));
    press(&mut a, key(KeyCode::Char('R')));
    let draft = submits_after_seeing(&mut a, key(KeyCode::Char('y')), "4 images, ~24 credits");
    assert_eq!(draft.prompt.as_deref(), Some("a lighthouse at dusk"));
    assert_eq!(a.screen, Screen::Main, "back to follow it");
}

#[test]
fn a_remix_is_submitted_from_the_editor_with_its_estimate() {
    let mut a = started(100.0, Some(6.0));
    history_with_one_entry(&mut a);
    assert!(press(&mut a, key(KeyCode::Char('r'))).is_none());
    assert_eq!(a.screen, Screen::Main);
    assert_eq!(a.prompt_text(), "a lighthouse at dusk");
    submits_after_seeing(&mut a, ctrl('s'), "Ctrl-S: 4 images, ~24 credits");
}

#[test]
fn the_low_balance_questions_show_the_estimate() {
    // The balance shown cannot cover 4 images at 6: the question says so, y submits.
    let mut a = started(12.0, Some(6.0));
    a.options.variants = Variants::Four;
    set_prompt(&mut a, "a red fox");
    assert!(press(&mut a, ctrl('s')).is_none());
    assert!(matches!(a.overlay, Some(Overlay::ConfirmSubmit { .. })));
    submits_after_seeing(&mut a, key(KeyCode::Char('y')), "~24 credits");
}

#[test]
fn a_submit_held_back_by_a_fresh_balance_asks_first() {
    // At start the balance covered it; when the submit goes, the worker reads 10 and holds
    // it back: the question comes, with the balance just read.
    let mut a = started(100.0, Some(6.0));
    a.options.variants = Variants::Two;
    set_prompt(&mut a, "a red fox");
    let (draft, _) = press(&mut a, ctrl('s')).expect("sent to the worker, which checks");
    let job = a.submission.as_ref().map(|s| s.job).expect("on its way");
    a.update(Action::SubmitHeld {
        job,
        balance: 10.0,
        per_image: Some(6.0),
        shortfall: fouro::tasks::policy::shortfall(10.0, None, Some(6.0), 2).expect("a shortfall"),
    });
    assert_eq!(a.submission, None, "nothing was sent");
    assert_eq!(
        a.credits.value,
        Some(10.0),
        "the balance just read is shown"
    );
    assert!(matches!(
        a.overlay,
        Some(Overlay::ConfirmSubmit {
            shortfall: Shortfall::Estimate { .. },
            ..
        })
    ));
    let before = screen(&a);
    assert!(before.contains("~12 credits"), "{before}");
    a.take_effects();
    a.update(key(KeyCode::Char('y')));
    let effects = a.take_effects();
    let allowed = effects
        .iter()
        .position(|e| matches!(e, Effect::AllowShortfall { .. }));
    let sent = effects
        .iter()
        .position(|e| matches!(e, Effect::Submit { .. }));
    assert!(
        matches!((allowed, sent), (Some(x), Some(y)) if x < y),
        "y tells the worker not to ask again, then sends: {effects:?}"
    );
    let resent = effects.into_iter().find_map(|e| match e {
        Effect::Submit { draft, .. } => Some(draft),
        _ => None,
    });
    assert_eq!(resent, Some(draft));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_holds_back_a_submit_the_balance_read_then_cannot_cover() {
    use fouro::tui::worker::AccountSetup;
    let emulator = crate::common::emulator_with(|c| c.credits = 5).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (mut worker, mut rx) =
        crate::common::app::worker(&emulator.base_url(), dir.path(), crate::common::KEY, |_| {});
    let mut setup = AccountSetup::default();
    setup.info.base_url = emulator.base_url();
    setup.info.low_balance = Some(20.0);
    worker.set_account(setup);
    let draft = Draft {
        prompt: Some("a red fox".into()),
        refs: Vec::new(),
        mask: None,
        size: Size::Square,
        variants: Variants::One,
        enhance: false,
        fallback: None,
    };
    worker.handle(Effect::Submit {
        job: 7,
        draft: draft.clone(),
    });
    let held = loop {
        match rx.recv().await.expect("an answer") {
            Action::SubmitHeld {
                job,
                balance,
                shortfall,
                ..
            } => break (job, balance, shortfall),
            Action::Submitted { .. } => panic!("sent although the balance is low"),
            _ => {}
        }
    };
    assert_eq!(held.0, 7);
    assert_eq!(held.1, 5.0);
    assert!(matches!(held.2, Shortfall::Threshold { threshold, .. } if threshold == 20.0));

    // Told to go on anyway, it sends (and the service, with 5 credits, refuses).
    worker.handle(Effect::AllowShortfall { job: 8 });
    worker.handle(Effect::Submit { job: 8, draft });
    loop {
        match rx.recv().await.expect("an answer") {
            Action::Submitted { job, result } => {
                // It reached the service, which refused it for the balance.
                assert_eq!(job, 8);
                assert!(
                    matches!(&result, Err(f) if f.code == Some(402)),
                    "{result:?}"
                );
                break;
            }
            Action::SubmitHeld { .. } => panic!("asked again after the answer"),
            _ => {}
        }
    }
    emulator.shutdown().await;
}

/// The low-balance question was missed on the first submits and came only after the account
/// screen had been opened: a task ended by the service's callback is done before the worker
/// observes its cost, so the usage read at that moment had no cost yet, and only the account
/// screen read it again. The usage is now read again when the poller's last answer (which
/// comes after the cost was kept) arrives.
#[test]
fn the_estimate_follows_a_cost_observed_after_a_callback_ended_the_task() {
    use fouro::api::TaskStatus;
    use fouro::tui::action::NewTask;
    use fouro::tui::testing::record;
    let mut a = started(100.0, None);
    set_prompt(&mut a, "a red fox");
    press(&mut a, ctrl('s')).expect("sent");
    let job = a.submission.as_ref().map(|s| s.job).expect("on its way");
    a.update(Action::Submitted {
        job,
        result: Ok(NewTask {
            task_id: "task_1".into(),
            created_at: 0,
            journal_warning: None,
        }),
    });
    let generation = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Poll { generation, .. } => Some(generation),
            _ => None,
        })
        .expect("polled");
    let done = record("task_1", TaskStatus::Success, 1.0, 1, None);
    a.update(Action::CallbackReceived(done.clone()));
    a.take_effects();
    // The poller's answer, after the cost was kept: the usage is read again.
    a.update(Action::TaskUpdate {
        task_id: "task_1".into(),
        generation,
        record: done,
    });
    let req = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::LoadUsage { req } => Some(req),
            _ => None,
        })
        .expect("the usage is read again");
    a.update(Action::UsageLoaded {
        req,
        result: Ok(usage(Some(6.0))),
    });
    assert!(screen(&a).contains("Ctrl-S: 1 image, ~6 credits"));
    // And the balance that can no longer cover it is asked about before the next submit.
    a.options.variants = Variants::Four;
    a.update(Action::Credits {
        req: a.credits.req,
        result: Ok(20.0),
    });
    assert!(press(&mut a, ctrl('s')).is_none());
    assert!(matches!(a.overlay, Some(Overlay::ConfirmSubmit { .. })));
}
