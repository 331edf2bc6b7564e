//! The worker's account side against the emulator over loopback: results that arrive through
//! the callback listener, costs observed from the balance, keys checked before they are saved,
//! profiles switched, usage read back.

use crate::common;

use std::time::{Duration, Instant};

use fouro::api::{ApiKey, ErrorClass, TaskStatus};
use fouro::emulator::Emulator;
use fouro::store::History;
use fouro::tui::action::{AccountInfo, Action, Draft, Effect, ProfileEdit};
use fouro::tui::app::tasks::ImageSlot;
use fouro::tui::testing::app;
use fouro::tui::worker::{AccountSetup, Callbacks, Worker};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

const WEBHOOK_KEY: &str = "whk-test-5a1f";

fn worker(
    emulator: &Emulator,
    data: &std::path::Path,
    key: &str,
) -> (Worker, UnboundedReceiver<Action>) {
    common::app::worker(&emulator.base_url(), data, key, |_| {})
}

fn draft(prompt: &str) -> Draft {
    common::app::draft(prompt, fouro::api::Size::Square)
}

/// Gives the worker `listener` for callbacks, then submits `prompt` through it; returns the
/// app, holding the submission as if it had sent it.
fn submit_with_callbacks(
    w: &mut Worker,
    listener: fouro::callback::Listener,
    received: UnboundedReceiver<fouro::api::types::CallbackPayload>,
    prompt: &str,
) -> fouro::tui::app::App {
    w.set_account(AccountSetup {
        callbacks: Some((
            Callbacks {
                listener,
                public_url: None,
            },
            received,
        )),
        ..AccountSetup::default()
    });
    let mut a = app(160, 48, Instant::now());
    w.handle(Effect::Submit {
        job: 1,
        draft: draft(prompt),
    });
    a.submission = Some(fouro::tui::app::Submission {
        job: 1,
        stage: None,
        draft: draft(prompt),
    });
    a
}

/// Runs the app and the worker together until `done` holds.
async fn run_until(
    a: &mut fouro::tui::app::App,
    worker: &mut Worker,
    rx: &mut UnboundedReceiver<Action>,
    done: impl Fn(&fouro::tui::app::App) -> bool,
) {
    common::app::run_until(a, worker, rx, Duration::from_secs(30), |a, _| done(a)).await;
}

fn saved(a: &fouro::tui::app::App) -> bool {
    a.tasks.list.first().is_some_and(|t| {
        t.status == TaskStatus::Success && matches!(t.images.first(), Some(ImageSlot::Saved(_)))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_arrives_through_the_signed_callback_before_any_poll() {
    let emulator = common::emulator_with(|c| {
        c.duration = Duration::from_millis(800);
        c.webhook_key = Some(WEBHOOK_KEY.into());
    })
    .await;
    let data = tempfile::tempdir().expect("a temp dir");
    let (mut w, mut rx) = worker(&emulator, data.path(), common::KEY);
    let (events, received) = unbounded_channel();
    let listener = fouro::callback::Listener::start(
        fouro::callback::ListenerConfig {
            webhook_key: Some(WEBHOOK_KEY.into()),
            ..Default::default()
        },
        events,
    )
    .await
    .expect("the listener starts");
    let mut a = submit_with_callbacks(&mut w, listener, received, "a bell");
    run_until(&mut a, &mut w, &mut rx, saved).await;
    let task = &a.tasks.list[0];
    assert!(task.via_callback, "the end came through the callback");
    let stats = common::stats(&emulator).await;
    let polls = common::calls(&emulator, "record-info").await;
    assert_eq!(polls, 0, "no poll was needed: {stats}");
    let history = History::open_in(data.path()).expect("the history");
    let entry = history.get(&task.id).expect("readable").expect("kept");
    assert_eq!(entry.status, fouro::store::Status::Success);
    assert!(
        entry
            .params
            .callback_url
            .as_deref()
            .is_some_and(|u| u.starts_with("http://127.0.0.1:")),
        "the callback URL sent is recorded: {:?}",
        entry.params.callback_url
    );
    drop(w);
    emulator.shutdown().await;
}

/// Without a webhook key, a forged callback that claims the task succeeded settles nothing:
/// the app asks the service, which says the task still runs, and the real result follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_forged_callback_settles_nothing() {
    let emulator = common::emulator(1500).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let (mut w, mut rx) = worker(&emulator, data.path(), common::KEY);
    let (events, received) = unbounded_channel();
    let listener = fouro::callback::Listener::start(Default::default(), events)
        .await
        .expect("the listener starts");
    let url = listener.callback_url(None);
    let mut a = submit_with_callbacks(&mut w, listener, received, "a kite");
    run_until(&mut a, &mut w, &mut rx, |a| !a.tasks.list.is_empty()).await;
    let id = a.tasks.list[0].id.clone();
    let forged = serde_json::json!({"code": 200, "msg": "success",
        "data": {"taskId": id, "info": {"result_urls": ["http://127.0.0.1:9/forged.png"]}}});
    let answer = common::http()
        .post(&url)
        .json(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    run_until(&mut a, &mut w, &mut rx, saved).await;
    let history = History::open_in(data.path()).expect("the history");
    let entry = history.get(&id).expect("readable").expect("kept");
    assert_eq!(entry.status, fouro::store::Status::Success);
    assert!(
        entry.images.iter().all(|i| !i.url.contains("forged")),
        "{:?}",
        entry.images
    );
    drop(w);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tasks_cost_is_observed_and_usage_reads_it_back() {
    let emulator = common::emulator(300).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let (mut w, mut rx) = worker(&emulator, data.path(), common::KEY);
    let mut a = app(160, 48, Instant::now());
    fouro::tui::testing::set_prompt(&mut a, "a kite");
    a.update(fouro::tui::testing::ctrl('s'));
    run_until(&mut a, &mut w, &mut rx, saved).await;
    let id = a.tasks.list[0].id.clone();
    let history = History::open_in(data.path()).expect("the history");
    let entry = history.get(&id).expect("readable").expect("kept");
    assert_eq!(entry.cost, Some(6.0), "100 before, 94 after");

    w.handle(Effect::LoadUsage { req: 7 });
    let usage = loop {
        match rx.recv().await.expect("open") {
            Action::UsageLoaded { req: 7, result } => break result.expect("usage"),
            _ => continue,
        }
    };
    assert_eq!(usage.tasks.len(), 1);
    assert_eq!(usage.tasks[0].cost, Some(6.0));
    assert_eq!(usage.spent, 6.0);
    assert_eq!(usage.latest().map(|r| r.balance), Some(94.0));
    drop(w);
    emulator.shutdown().await;
}

/// The next account answer with this req.
async fn answer(rx: &mut UnboundedReceiver<Action>, req: u64) -> Action {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("in time")
            .expect("open");
        match &action {
            Action::KeyChecked { req: r, .. } | Action::Profiles { req: r, .. } if *r == req => {
                return action;
            }
            Action::AccountChanged(_) => return action,
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_checked_before_it_is_saved_and_the_app_switches_to_it() {
    let emulator = common::emulator(300).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let config = tempfile::tempdir().expect("a config dir");
    let (mut w, mut rx) = worker(&emulator, data.path(), "no-key-yet");
    w.set_account(AccountSetup {
        config_dir: Some(config.path().to_path_buf()),
        info: AccountInfo {
            base_url: emulator.base_url(),
            ..AccountInfo::default()
        },
        ..AccountSetup::default()
    });
    let edit = ProfileEdit {
        name: "local".into(),
        base_url: emulator.base_url(),
        upload_url: None,
        replace: false,
    };
    // A refused key is not saved.
    w.handle(Effect::CheckKey {
        req: 1,
        profile: "local".into(),
        create: Some(edit.clone()),
        key: ApiKey::new("wrong-key-0000000000").expect("a key"),
        save: true,
        make_default: true,
    });
    match answer(&mut rx, 1).await {
        Action::KeyChecked { result: Err(f), .. } => assert_eq!(f.class, ErrorClass::Auth),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!config.path().join("config.toml").exists(), "nothing saved");

    // The right key is checked, saved (0600, masked in what the app gets) and used.
    w.handle(Effect::CheckKey {
        req: 2,
        profile: "local".into(),
        create: Some(edit),
        key: ApiKey::new(common::KEY).expect("a key"),
        save: true,
        make_default: true,
    });
    match answer(&mut rx, 2).await {
        Action::KeyChecked { result: Ok(b), .. } => assert_eq!(b, 100.0),
        other => panic!("expected the balance, got {other:?}"),
    }
    let view = match answer(&mut rx, 2).await {
        Action::Profiles { result: Ok(v), .. } => v,
        other => panic!("expected the profiles, got {other:?}"),
    };
    assert_eq!(view.default.as_deref(), Some("local"));
    let shown = view.profiles[0].masked_key.clone().expect("a key");
    assert!(!shown.contains("0123456789"), "masked: {shown}");
    let info = match answer(&mut rx, 2).await {
        Action::AccountChanged(info) => info,
        other => panic!("expected the switch, got {other:?}"),
    };
    assert_eq!(info.profile.as_deref(), Some("local"));
    assert_eq!(info.masked_key, Some(shown));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(config.path().join("config.toml"))
            .expect("saved")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Work asked for now uses the saved key: the connection test reads the balance.
    w.handle(Effect::TestConnection { req: 3 });
    match answer(&mut rx, 3).await {
        Action::KeyChecked { result: Ok(b), .. } => assert_eq!(b, 100.0),
        other => panic!("expected the balance, got {other:?}"),
    }
    // A profile without a key cannot be switched to.
    w.handle(Effect::SaveProfile {
        req: 4,
        edit: ProfileEdit {
            name: "kie".into(),
            base_url: "https://api.kie.ai".into(),
            upload_url: None,
            replace: false,
        },
    });
    assert!(matches!(
        answer(&mut rx, 4).await,
        Action::Profiles { result: Ok(v), .. } if v.profiles.len() == 2
    ));
    w.handle(Effect::UseProfile {
        req: 5,
        name: "kie".into(),
    });
    match answer(&mut rx, 5).await {
        Action::Profiles {
            result: Err(why), ..
        } => assert!(why.contains("no key"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let text = std::fs::read_to_string(config.path().join("config.toml")).expect("saved");
    assert!(text.contains(common::KEY), "the key is in the private file");
    drop(w);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_credit_endpoint_does_not_hold_a_submission_up() {
    let emulator = common::emulator(300).await;
    // Every balance read hangs far longer than a submission may wait for it.
    common::fault(
        &emulator,
        "credit",
        10,
        "hang",
        serde_json::json!({"ms": 60_000}),
    )
    .await;
    let data = tempfile::tempdir().expect("a temp dir");
    let (mut w, mut rx) = worker(&emulator, data.path(), common::KEY);
    w.handle(Effect::Submit {
        job: 1,
        draft: draft("a slow day"),
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    let new = loop {
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the submission is not held up by the balance")
            .expect("open");
        if let Action::Submitted { result, .. } = action {
            break result.expect("the task was created");
        }
    };
    let history = History::open_in(data.path()).expect("the history");
    let entry = history.get(&new.task_id).expect("readable").expect("kept");
    assert_eq!(
        entry.cost, None,
        "no balance before it: its cost stays unknown"
    );
    drop(w);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_short_key_is_saved() {
    // Keys this short are shown as bullets alone: two of them look the same masked.
    let emulator = common::emulator_with(|c| c.keys = vec!["k-one".into(), "k-two".into()]).await;
    let data = tempfile::tempdir().expect("a temp dir");
    let config = tempfile::tempdir().expect("a config dir");
    let (mut w, mut rx) = worker(&emulator, data.path(), "k-one");
    w.set_account(AccountSetup {
        config_dir: Some(config.path().to_path_buf()),
        info: AccountInfo {
            base_url: emulator.base_url(),
            ..AccountInfo::default()
        },
        ..AccountSetup::default()
    });
    let file = config.path().join("config.toml");
    for (req, key) in [(1, "k-one"), (2, "k-two")] {
        w.handle(Effect::CheckKey {
            req,
            profile: "local".into(),
            create: Some(ProfileEdit {
                name: "local".into(),
                base_url: emulator.base_url(),
                upload_url: None,
                replace: false,
            }),
            key: ApiKey::new(key).expect("a key"),
            save: true,
            make_default: false,
        });
        assert!(matches!(
            answer(&mut rx, req).await,
            Action::KeyChecked { result: Ok(_), .. }
        ));
        assert!(matches!(
            answer(&mut rx, req).await,
            Action::Profiles { result: Ok(_), .. }
        ));
        let text = std::fs::read_to_string(&file).expect("saved");
        assert!(text.contains(&format!("\"{key}\"")), "{key} saved:\n{text}");
    }
    drop(w);
    emulator.shutdown().await;
}
