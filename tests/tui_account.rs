//! The welcome screen, the account screen and the low-balance warnings, driven through
//! `App::update` with the answers the worker would send (`Profiles`, `KeyChecked`,
//! `AccountChanged`, `UsageLoaded`): snapshots at 80x24 and 160x48, and what each key asks
//! the worker to do. A key typed anywhere must never reach the screen: every snapshot
//! checks that its text is absent. Times are shown in UTC (`utc_offset_secs` is 0).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use fouro::api::{ErrorClass, Variants};
use fouro::config::{KIE_BASE_URL, KIE_UPLOAD_URL, Preset};
use fouro::store::Status;
use fouro::store::usage::{BalanceReading, DaySpend, TaskCost, Usage};
use fouro::tui::action::{
    AccountInfo, Action, Effect, Failure, ProfileEdit, ProfileSummary, ProfilesView,
};
use fouro::tui::app::low_balance::Shortfall;
use fouro::tui::app::welcome::WelcomeState;
use fouro::tui::app::{App, Focus, Level, Overlay, Screen};
use fouro::tui::testing::{
    BASE_URL, account, app, buffer, ctrl, find, key, screen, set_prompt, typed, welcome_app,
};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
/// 2026-11-26 08:08 UTC.
const T0_MS: i64 = 1_795_680_480_000;
const DAY_MS: i64 = 24 * 3600 * 1000;
const CONFIG: &str = "/home/ana/.config/fouro/config.toml";
/// What the person types as a key: it must never be drawn.
const SECRET: &str = "sk-live-TOPSECRET-0123456789abcdef";

fn feed(app: &mut App, actions: impl IntoIterator<Item = Action>) {
    for a in actions {
        app.update(a);
    }
}

/// The screen, checked to hold no trace of the typed key.
fn shown(app: &App) -> String {
    let text = screen(app);
    assert!(
        !text.contains(SECRET) && !text.contains("TOPSECRET") && !text.contains("0123456789abc"),
        "the key reached the screen:\n{text}"
    );
    assert!(find(&buffer(app), "TOPSECRET").is_none());
    text
}

fn snapshot(name: &str, build: impl Fn(u16, u16) -> App) {
    for (w, h) in SIZES {
        let app = build(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), shown(&app));
    }
}

fn find_effect<T>(effects: &[Effect], f: impl Fn(&Effect) -> Option<T>) -> Option<T> {
    effects.iter().find_map(f)
}

fn credits_req(effects: &[Effect]) -> Option<u64> {
    find_effect(effects, |e| match e {
        Effect::RefreshCredits { req } => Some(*req),
        _ => None,
    })
}

fn usage_req(effects: &[Effect]) -> Option<u64> {
    find_effect(effects, |e| match e {
        Effect::LoadUsage { req } => Some(*req),
        _ => None,
    })
}

fn profiles_req(effects: &[Effect]) -> Option<u64> {
    find_effect(effects, |e| match e {
        Effect::LoadProfiles { req } => Some(*req),
        _ => None,
    })
}

fn check_key(effects: &[Effect]) -> Option<(u64, String, Option<ProfileEdit>, String, bool, bool)> {
    find_effect(effects, |e| match e {
        Effect::CheckKey {
            req,
            profile,
            create,
            key,
            save,
            make_default,
        } => Some((
            *req,
            profile.clone(),
            create.clone(),
            key.expose().to_owned(),
            *save,
            *make_default,
        )),
        _ => None,
    })
}

fn submitted(effects: &[Effect]) -> bool {
    effects.iter().any(|e| matches!(e, Effect::Submit { .. }))
}

/// The usage of 30 days: readings every day going down with two top-ups, spending on most
/// days, and tasks with and without an observed cost.
fn usage(cost: Option<f64>) -> Usage {
    let first_day = T0_MS - 29 * DAY_MS;
    let mut balances = Vec::new();
    let mut b = 400.0;
    for i in 0..30 {
        for h in 0..2 {
            balances.push(BalanceReading {
                at: first_day + i * DAY_MS + h * 6 * 3600 * 1000,
                balance: b,
            });
            b -= ((i * 7 + h * 3) % 11) as f64;
        }
        if i == 12 || i == 24 {
            b += 150.0;
        }
    }
    let days = (0..30)
        .map(|i| DaySpend {
            day: format!(
                "2026-{}",
                match i {
                    0 => "10-28".to_owned(),
                    1..=3 => format!("10-{}", 28 + i),
                    _ => format!("11-{:02}", i - 3),
                }
            ),
            spent: ((i * 7) % 11) as f64 + ((i * 7 + 3) % 11) as f64,
            tasks: (i % 3) as usize,
        })
        .collect::<Vec<_>>();
    let spent = days.iter().map(|d| d.spent).sum();
    let task = |i: i64, prompt: Option<&str>, status, variants, cost| TaskCost {
        task_id: format!("task_4o_{i:04}"),
        created_at: T0_MS - i * 5 * 3600 * 1000,
        prompt: prompt.map(str::to_owned),
        status,
        variants,
        cost,
    };
    Usage {
        balances,
        days,
        tasks: vec![
            task(
                1,
                Some("a lighthouse at dusk, oil painting"),
                Status::Success,
                2,
                cost.map(|c| c * 2.0),
            ),
            task(2, Some("a red fox in snow"), Status::Success, 1, cost),
            task(3, None, Status::GenerateFailed, 1, None),
            task(4, Some("isometric city at night"), Status::Success, 4, None),
        ],
        spent,
    }
}

fn profile(name: &str, base: &str, upload: Option<&str>, key: Option<&str>) -> ProfileSummary {
    ProfileSummary {
        name: name.into(),
        base_url: base.into(),
        upload_url: upload.map(str::to_owned),
        masked_key: key.map(str::to_owned),
        has_webhook_key: false,
    }
}

fn profiles() -> ProfilesView {
    let mut kie = profile("kie", KIE_BASE_URL, Some(KIE_UPLOAD_URL), Some("3f9…c0de"));
    kie.has_webhook_key = true;
    ProfilesView {
        path: PathBuf::from(CONFIG),
        default: Some("main".into()),
        profiles: vec![
            profile("main", BASE_URL, None, Some("sk-…1234")),
            kie,
            profile("spare", Preset::FourOImageApi.base_url(), None, None),
        ],
        warnings: vec!["config.toml could be read by others: its mode was set to 600".into()],
    }
}

/// An app that has read its balance (`balance`) and its usage.
fn fresh(w: u16, h: u16, t0: Instant, balance: f64, cost: Option<f64>) -> App {
    let mut a = app(w, h, t0);
    let effects = a.take_effects();
    let req = credits_req(&effects).expect("a balance request at start");
    let ureq = usage_req(&effects).expect("a usage request at start");
    feed(
        &mut a,
        [
            Action::Credits {
                req,
                result: Ok(balance),
            },
            Action::UsageLoaded {
                req: ureq,
                result: Ok(usage(cost)),
            },
        ],
    );
    a
}

/// The account screen, opened with F4 and answered.
fn account_screen(w: u16, h: u16) -> App {
    let t0 = Instant::now();
    let mut a = fresh(w, h, t0, 182.0, Some(6.0));
    a.config.account.low_balance = Some(50.0);
    a.config.account.callback_url = Some("https://fox.trycloudflare.com/fouro/callback".into());
    feed(&mut a, [key(KeyCode::F(4))]);
    let effects = a.take_effects();
    let p = profiles_req(&effects).expect("profiles asked for");
    let u = usage_req(&effects).expect("usage asked for");
    a.set_now(t0 + Duration::from_secs(150));
    feed(
        &mut a,
        [
            Action::Profiles {
                req: p,
                result: Ok(profiles()),
            },
            Action::UsageLoaded {
                req: u,
                result: Ok(usage(Some(6.0))),
            },
        ],
    );
    a
}

// ---- Snapshots: the welcome screen ----

#[test]
fn welcome_empty() {
    snapshot("welcome_empty", |w, h| {
        let mut a = welcome_app(w, h, Instant::now());
        let req = profiles_req(&a.take_effects()).expect("where the key will be saved");
        a.update(Action::Profiles {
            req,
            result: Ok(ProfilesView {
                path: PathBuf::from(CONFIG),
                ..ProfilesView::default()
            }),
        });
        a
    });
}

#[test]
fn welcome_typed_key_shows_bullets_only() {
    snapshot("welcome_typed", |w, h| {
        let mut a = welcome_app(w, h, Instant::now());
        feed(&mut a, [key(KeyCode::Down)]);
        a.update(Action::Paste(format!("  {SECRET}\n")));
        a
    });
}

#[test]
fn welcome_checking() {
    snapshot("welcome_checking", |w, h| {
        let mut a = welcome_app(w, h, Instant::now());
        feed(&mut a, typed(SECRET));
        feed(&mut a, [key(KeyCode::Enter)]);
        a
    });
}

#[test]
fn welcome_error() {
    snapshot("welcome_error", |w, h| {
        let mut a = welcome_app(w, h, Instant::now());
        a.update(Action::Paste(SECRET.into()));
        feed(&mut a, [key(KeyCode::Enter)]);
        let (req, ..) = check_key(&a.take_effects()).expect("a check");
        a.update(Action::KeyChecked {
            req,
            result: Err(Failure::new(
                ErrorClass::Auth,
                "the API key was refused (401: invalid token): check it on the service's API key page",
            )),
        });
        a
    });
}

// ---- Snapshots: the account screen ----

#[test]
fn account_with_profiles_and_usage() {
    snapshot("account", account_screen);
}

#[test]
fn add_profile_form() {
    snapshot("add_profile_form", |w, h| {
        let mut a = account_screen(w, h);
        feed(&mut a, [key(KeyCode::Char('a'))]);
        feed(&mut a, typed("work"));
        feed(
            &mut a,
            [key(KeyCode::Tab), key(KeyCode::Right), key(KeyCode::Tab)],
        );
        feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Tab)]);
        a.update(Action::Paste(SECRET.into()));
        a
    });
}

#[test]
fn remove_confirmation() {
    snapshot("remove_confirmation", |w, h| {
        let mut a = account_screen(w, h);
        feed(&mut a, [key(KeyCode::Down), key(KeyCode::Char('x'))]);
        a
    });
}

// ---- Snapshots: low balance ----

#[test]
fn low_balance_credits_pane() {
    snapshot("low_balance_credits", |w, h| {
        let mut a = fresh(w, h, Instant::now(), 4.0, Some(6.0));
        a.config.account.low_balance = Some(50.0);
        a
    });
}

#[test]
fn low_balance_submit_question() {
    snapshot("low_balance_question", |w, h| {
        let mut a = fresh(w, h, Instant::now(), 4.0, Some(6.0));
        a.config.account.low_balance = Some(50.0);
        a.options.variants = Variants::Two;
        set_prompt(&mut a, "a lighthouse at dusk");
        feed(&mut a, [ctrl('s')]);
        a
    });
}

// ---- The welcome screen's behaviour ----

#[test]
fn welcome_enter_checks_the_typed_key_with_the_chosen_service() {
    let mut a = welcome_app(80, 24, Instant::now());
    assert_eq!(a.screen, Screen::Welcome);
    let start = a.take_effects();
    assert!(credits_req(&start).is_none(), "no key: nothing read yet");
    assert!(usage_req(&start).is_none());
    feed(&mut a, [key(KeyCode::Down)]);
    assert_eq!(a.welcome.preset, Preset::Kie);
    feed(&mut a, typed(SECRET));
    feed(&mut a, [ctrl('s')]);
    assert!(!submitted(&a.take_effects()), "nothing is submitted here");
    feed(&mut a, [key(KeyCode::Enter)]);
    let (_, profile, create, key_text, save, make_default) =
        check_key(&a.take_effects()).expect("the key is checked");
    assert_eq!(profile, "kie");
    assert_eq!(
        create,
        Some(ProfileEdit {
            name: "kie".into(),
            base_url: KIE_BASE_URL.into(),
            upload_url: Some(KIE_UPLOAD_URL.into()),
            replace: false,
        })
    );
    assert_eq!(key_text, SECRET);
    assert!(save && make_default);
    assert!(matches!(a.welcome.state, WelcomeState::Checking { .. }));
    assert!(shown(&a).contains("checking the key with kie.ai"));
    // While checking, typing does nothing.
    feed(&mut a, typed("zz"));
    assert_eq!(a.welcome.input.text(), SECRET);
}

#[test]
fn welcome_enter_with_nothing_typed_asks_for_the_key() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.take_effects();
    feed(&mut a, [key(KeyCode::Enter)]);
    assert!(check_key(&a.take_effects()).is_none());
    assert!(shown(&a).contains("paste the key first"));
}

#[test]
fn welcome_d_starts_the_demo_only_with_nothing_typed() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.take_effects();
    feed(&mut a, [key(KeyCode::Char('d'))]);
    assert!(
        a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::StartDemo))
    );
    feed(&mut a, typed("abc"));
    feed(&mut a, [key(KeyCode::Char('d'))]);
    assert_eq!(a.welcome.input.text(), "abcd", "d is part of the key here");
    assert!(
        !a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::StartDemo))
    );
    feed(&mut a, [ctrl('d')]);
    assert!(
        a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::StartDemo)),
        "Ctrl-D always does"
    );
    feed(&mut a, [ctrl('u')]);
    assert!(a.welcome.input.is_empty(), "Ctrl-U clears");
    feed(&mut a, [key(KeyCode::Char('q'))]);
    assert!(a.should_quit());
}

#[test]
fn welcome_failed_check_keeps_the_input_and_says_why() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.update(Action::Paste(SECRET.into()));
    feed(&mut a, [key(KeyCode::Enter)]);
    let (req, ..) = check_key(&a.take_effects()).expect("a check");
    // An answer to another request changes nothing.
    a.update(Action::KeyChecked {
        req: req + 100,
        result: Ok(1.0),
    });
    assert!(matches!(a.welcome.state, WelcomeState::Checking { .. }));
    a.update(Action::KeyChecked {
        req,
        result: Err(Failure::new(
            ErrorClass::Auth,
            "the API key was refused (401: invalid token)",
        )),
    });
    assert_eq!(a.screen, Screen::Welcome);
    assert_eq!(a.welcome.input.text(), SECRET, "kept for another try");
    assert!(shown(&a).contains("refused (401: invalid token)"));
    // Another try.
    feed(&mut a, [key(KeyCode::Backspace), key(KeyCode::Char('X'))]);
    feed(&mut a, [key(KeyCode::Enter)]);
    let (_, _, _, again, ..) = check_key(&a.take_effects()).expect("checked again");
    assert!(again.ends_with("cdeX"));
}

#[test]
fn welcome_ok_goes_on_to_the_main_screen_once_the_account_changed() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.take_effects();
    a.update(Action::Paste(SECRET.into()));
    feed(&mut a, [key(KeyCode::Enter)]);
    let (req, ..) = check_key(&a.take_effects()).expect("a check");
    a.update(Action::KeyChecked {
        req,
        result: Ok(250.0),
    });
    assert_eq!(a.screen, Screen::Welcome, "not before the client switched");
    a.update(Action::Profiles {
        req,
        result: Ok(profiles()),
    });
    assert!(shown(&a).contains("key works: 250 credits — saved to"));
    a.update(Action::AccountChanged(AccountInfo {
        profile: Some("4oimageapi".into()),
        base_url: Preset::FourOImageApi.base_url().into(),
        masked_key: Some("sk-…cdef".into()),
        key_source: "profile \"4oimageapi\"".into(),
        low_balance: None,
        callback_url: None,
    }));
    assert_eq!(a.screen, Screen::Main);
    assert!(!a.config.welcome);
    assert!(a.welcome.input.is_empty(), "the key typed is forgotten");
    let msg = a.message.clone().expect("a message");
    assert_eq!(msg.level, Level::Info);
    assert_eq!(
        msg.text,
        format!("key works: 250 credits — saved to {CONFIG}")
    );
    let effects = a.take_effects();
    assert!(credits_req(&effects).is_some(), "the balance is read");
    assert!(usage_req(&effects).is_some(), "and the usage");
    assert_eq!(a.config.endpoint, "4oimageapiio.erweima.ai");
    shown(&a);
}

#[test]
fn welcome_key_that_works_but_cannot_be_saved_stays() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.update(Action::Paste(SECRET.into()));
    feed(&mut a, [key(KeyCode::Enter)]);
    let (req, ..) = check_key(&a.take_effects()).expect("a check");
    a.update(Action::KeyChecked {
        req,
        result: Ok(250.0),
    });
    a.update(Action::Profiles {
        req,
        result: Err("config.toml is read-only".into()),
    });
    assert_eq!(a.screen, Screen::Welcome);
    assert!(matches!(&a.welcome.state, WelcomeState::Failed(why) if why.contains("read-only")));
    assert_eq!(a.welcome.input.text(), SECRET);
}

#[test]
fn welcome_key_saved_but_not_usable_says_why() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.update(Action::Paste(SECRET.into()));
    feed(&mut a, [key(KeyCode::Enter)]);
    let (req, ..) = check_key(&a.take_effects()).expect("a check");
    a.update(Action::KeyChecked {
        req,
        result: Ok(250.0),
    });
    a.update(Action::Profiles {
        req,
        result: Ok(profiles()),
    });
    a.update(Action::KeyRejected(
        "profile \"4oimageapi\" could not be used (bad TLS setup); the previous one stays".into(),
    ));
    assert_eq!(a.screen, Screen::Welcome);
    assert_eq!(a.overlay, None, "no key prompt over the welcome screen");
    assert!(shown(&a).contains("could not be used"));
    assert_eq!(a.welcome.input.text(), SECRET);
    feed(&mut a, [key(KeyCode::Enter)]);
    assert!(check_key(&a.take_effects()).is_some(), "another try");
}

// ---- The account screen's behaviour ----

#[test]
fn account_opens_with_f4_or_a_and_reads_profiles_and_usage() {
    let t0 = Instant::now();
    let mut a = fresh(80, 24, t0, 100.0, None);
    assert_eq!(a.focus, Focus::Prompt);
    feed(&mut a, [key(KeyCode::Char('A'))]);
    assert_eq!(a.screen, Screen::Main, "A is text in the prompt");
    assert_eq!(a.prompt_text(), "A");
    a.take_effects();
    feed(&mut a, [key(KeyCode::F(4))]);
    assert_eq!(a.screen, Screen::Account);
    let effects = a.take_effects();
    assert!(profiles_req(&effects).is_some());
    assert!(usage_req(&effects).is_some());
    feed(&mut a, [key(KeyCode::Esc)]);
    assert_eq!(a.screen, Screen::Main);
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Char('A'))]);
    assert_eq!(a.screen, Screen::Account);
    assert!(profiles_req(&a.take_effects()).is_some());
    feed(&mut a, [key(KeyCode::Char('q'))]);
    assert_eq!(a.screen, Screen::Main);
    assert!(!a.should_quit(), "q goes back, it does not quit");
    // From the history too.
    feed(&mut a, [key(KeyCode::F(3)), key(KeyCode::F(4))]);
    assert_eq!(a.screen, Screen::Account);
}

#[test]
fn account_selects_the_profile_in_use_and_switches_with_enter() {
    let mut a = account_screen(80, 24);
    assert_eq!(
        a.account.selected_profile().map(|p| p.name.as_str()),
        Some("main")
    );
    feed(&mut a, [key(KeyCode::Enter)]);
    assert!(
        !a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::UseProfile { .. })),
        "already in use"
    );
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Char('u'))]);
    let name = find_effect(&a.take_effects(), |e| match e {
        Effect::UseProfile { name, .. } => Some(name.clone()),
        _ => None,
    });
    assert_eq!(name.as_deref(), Some("kie"));
    a.update(Action::AccountChanged(AccountInfo {
        profile: Some("kie".into()),
        base_url: KIE_BASE_URL.into(),
        masked_key: Some("3f9…c0de".into()),
        key_source: "profile \"kie\"".into(),
        low_balance: None,
        callback_url: None,
    }));
    assert_eq!(a.config.account.profile.as_deref(), Some("kie"));
    assert_eq!(a.config.endpoint, "api.kie.ai");
    assert!(
        a.message
            .as_ref()
            .is_some_and(|m| m.text == "now using profile \"kie\"")
    );
    let effects = a.take_effects();
    assert!(profiles_req(&effects).is_some(), "the default changed");
    assert!(credits_req(&effects).is_some());
    assert!(usage_req(&effects).is_some());
    assert_eq!(a.credits.value, None, "the old account's balance is gone");
}

#[test]
fn a_switch_the_worker_cannot_make_is_not_waited_for() {
    let mut a = account_screen(80, 24);
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Enter)]);
    let req = find_effect(&a.take_effects(), |e| match e {
        Effect::UseProfile { req, .. } => Some(*req),
        _ => None,
    })
    .expect("a switch");
    a.update(Action::Profiles {
        req,
        result: Ok(profiles()),
    });
    assert!(a.account.op.is_some(), "waiting for the account to change");
    assert!(shown(&a).contains("switching to \"kie\""));
    a.update(Action::KeyRejected(
        "profile \"kie\" could not be used".into(),
    ));
    assert!(a.account.op.is_none());
}

#[test]
fn a_failed_switch_says_why() {
    let mut a = account_screen(80, 24);
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Enter)]);
    let req = find_effect(&a.take_effects(), |e| match e {
        Effect::UseProfile { req, .. } => Some(*req),
        _ => None,
    })
    .expect("a switch");
    a.update(Action::Profiles {
        req,
        result: Err("profile \"kie\" has no key".into()),
    });
    let msg = a.message.clone().expect("a message");
    assert_eq!(msg.level, Level::Error);
    assert!(msg.text.contains("could not switch to \"kie\""));
}

#[test]
fn remove_asks_first_and_only_y_removes() {
    let mut a = account_screen(80, 24);
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Char('x'))]);
    assert_eq!(
        a.overlay,
        Some(Overlay::ConfirmRemove { name: "kie".into() })
    );
    feed(&mut a, [key(KeyCode::Char('n'))]);
    assert_eq!(a.overlay, None);
    assert!(
        !a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::RemoveProfile { .. }))
    );
    feed(&mut a, [key(KeyCode::Char('d')), key(KeyCode::Enter)]);
    assert!(
        !a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::RemoveProfile { .. })),
        "Enter is not yes"
    );
    feed(&mut a, [key(KeyCode::Char('x')), key(KeyCode::Char('y'))]);
    let (req, name) = find_effect(&a.take_effects(), |e| match e {
        Effect::RemoveProfile { req, name } => Some((*req, name.clone())),
        _ => None,
    })
    .expect("removed after y");
    assert_eq!(name, "kie");
    let mut view = profiles();
    view.profiles.remove(1);
    a.update(Action::Profiles {
        req,
        result: Ok(view),
    });
    assert_eq!(
        a.account.profiles.as_ref().map(|v| v.profiles.len()),
        Some(2)
    );
    assert!(
        a.message
            .as_ref()
            .is_some_and(|m| m.text == "profile \"kie\" removed")
    );
}

#[test]
fn adding_a_profile_checks_its_key_before_saving_it() {
    let mut a = account_screen(80, 24);
    feed(&mut a, [key(KeyCode::Char('a'))]);
    assert!(matches!(a.overlay, Some(Overlay::ProfileForm(_))));
    feed(&mut a, typed("work"));
    // Service: kie.ai.
    feed(&mut a, [key(KeyCode::Tab), key(KeyCode::Right)]);
    feed(
        &mut a,
        [key(KeyCode::Tab), key(KeyCode::Tab), key(KeyCode::Tab)],
    );
    a.update(Action::Paste(SECRET.into()));
    feed(&mut a, [key(KeyCode::Enter)]);
    let (req, profile, create, key_text, save, make_default) =
        check_key(&a.take_effects()).expect("the key is checked");
    assert_eq!(profile, "work");
    assert_eq!(
        create,
        Some(ProfileEdit {
            name: "work".into(),
            base_url: KIE_BASE_URL.into(),
            upload_url: Some(KIE_UPLOAD_URL.into()),
            replace: false,
        })
    );
    assert_eq!(key_text, SECRET);
    assert!(save && !make_default);
    shown(&a);
    // Refused: the form stays, with the reason, for another try.
    a.update(Action::KeyChecked {
        req,
        result: Err(Failure::new(
            ErrorClass::Auth,
            "the API key was refused (401)",
        )),
    });
    match &a.overlay {
        Some(Overlay::ProfileForm(f)) => {
            assert_eq!(
                f.error.as_deref(),
                Some("the key for \"work\" was not saved: the API key was refused (401)")
            );
            assert_eq!(f.key.text(), SECRET);
            assert_eq!(f.waiting, None);
        }
        other => panic!("the form stays open: {other:?}"),
    }
    assert!(shown(&a).contains("refused (401)"));
    feed(&mut a, [key(KeyCode::Enter)]);
    let (req, ..) = check_key(&a.take_effects()).expect("checked again");
    a.update(Action::KeyChecked {
        req,
        result: Ok(75.0),
    });
    assert!(shown(&a).contains("key works: 75 credits — saving"));
    let mut view = profiles();
    view.profiles.push(profile_with("work"));
    a.update(Action::Profiles {
        req,
        result: Ok(view),
    });
    assert_eq!(a.overlay, None, "the form closes once saved");
    assert_eq!(
        a.message.as_ref().map(|m| m.text.clone()),
        Some(format!(
            "key works: 75 credits — saved in profile \"work\" ({CONFIG})"
        ))
    );
}

fn profile_with(name: &str) -> ProfileSummary {
    profile(name, KIE_BASE_URL, Some(KIE_UPLOAD_URL), Some("sk-…cdef"))
}

#[test]
fn adding_a_profile_whose_name_exists_is_refused_in_the_form() {
    let mut a = account_screen(80, 24);
    feed(&mut a, [key(KeyCode::Char('a'))]);
    feed(&mut a, typed("kie"));
    feed(&mut a, [key(KeyCode::Enter)]);
    assert!(a.take_effects().is_empty(), "nothing asked");
    assert!(shown(&a).contains("exists already"));
    feed(&mut a, [key(KeyCode::Esc)]);
    assert_eq!(a.overlay, None);
}

#[test]
fn a_new_key_is_checked_before_it_replaces_the_old_one() {
    let mut a = account_screen(80, 24);
    feed(&mut a, [key(KeyCode::Down), key(KeyCode::Char('k'))]);
    feed(&mut a, typed(SECRET));
    shown(&a);
    feed(&mut a, [key(KeyCode::Enter)]);
    let (_, profile, create, key_text, save, make_default) =
        check_key(&a.take_effects()).expect("the key is checked");
    assert_eq!(profile, "kie");
    assert_eq!(create, None);
    assert_eq!(key_text, SECRET);
    assert!(save && !make_default);
}

#[test]
fn editing_a_profile_saves_its_urls() {
    let mut a = account_screen(80, 24);
    feed(
        &mut a,
        [
            key(KeyCode::Down),
            key(KeyCode::Down),
            key(KeyCode::Char('e')),
        ],
    );
    // Service row first: on to kie.ai.
    feed(&mut a, [key(KeyCode::Right), key(KeyCode::Enter)]);
    let (req, edit) = find_effect(&a.take_effects(), |e| match e {
        Effect::SaveProfile { req, edit } => Some((*req, edit.clone())),
        _ => None,
    })
    .expect("saved");
    assert_eq!(
        edit,
        ProfileEdit {
            name: "spare".into(),
            base_url: KIE_BASE_URL.into(),
            upload_url: Some(KIE_UPLOAD_URL.into()),
            replace: true,
        }
    );
    a.update(Action::Profiles {
        req,
        result: Err("the file changed on disk".into()),
    });
    match &a.overlay {
        Some(Overlay::ProfileForm(f)) => {
            assert!(
                f.error
                    .as_deref()
                    .is_some_and(|e| e.contains("changed on disk"))
            )
        }
        other => panic!("the form stays open: {other:?}"),
    }
}

#[test]
fn the_connection_test_shows_the_balance_or_the_error() {
    let mut a = account_screen(80, 24);
    feed(&mut a, [key(KeyCode::Char('t'))]);
    let req = find_effect(&a.take_effects(), |e| match e {
        Effect::TestConnection { req } => Some(*req),
        _ => None,
    })
    .expect("a test");
    assert!(shown(&a).contains("testing the connection…"));
    a.update(Action::KeyChecked {
        req,
        result: Ok(181.0),
    });
    assert!(
        a.message
            .as_ref()
            .is_some_and(|m| m.text.contains("connection works") && m.text.contains("181"))
    );
    feed(&mut a, [key(KeyCode::Esc), key(KeyCode::Char('t'))]);
    let req = find_effect(&a.take_effects(), |e| match e {
        Effect::TestConnection { req } => Some(*req),
        _ => None,
    })
    .expect("a test");
    a.update(Action::KeyChecked {
        req,
        result: Err(Failure::new(ErrorClass::Unavailable, "could not connect")),
    });
    let msg = a.message.clone().expect("a message");
    assert_eq!(msg.level, Level::Error);
    assert!(msg.text.contains("could not connect"));
}

#[test]
fn stale_replies_are_dropped() {
    let mut a = account_screen(80, 24);
    let before = a.account.profiles.clone();
    feed(&mut a, [key(KeyCode::Char('r'))]);
    let old = a.take_effects();
    let (p1, u1) = (profiles_req(&old).unwrap(), usage_req(&old).unwrap());
    feed(&mut a, [key(KeyCode::Char('r'))]);
    let new = a.take_effects();
    let (p2, u2) = (profiles_req(&new).unwrap(), usage_req(&new).unwrap());
    assert!(p2 > p1 && u2 > u1);
    a.update(Action::Profiles {
        req: p1,
        result: Ok(ProfilesView::default()),
    });
    assert_eq!(a.account.profiles, before, "the older read is dropped");
    a.update(Action::UsageLoaded {
        req: u1,
        result: Ok(Usage::default()),
    });
    assert_eq!(a.usage.data, Some(usage(Some(6.0))));
    a.mark_drawn();
    a.update(Action::KeyChecked {
        req: 9_999,
        result: Ok(1.0),
    });
    a.update(Action::Profiles {
        req: 9_998,
        result: Err("nobody asked".into()),
    });
    assert!(!a.is_dirty(), "unasked answers change nothing");
    assert!(a.message.is_none());
    a.update(Action::Profiles {
        req: p2,
        result: Ok(profiles()),
    });
    a.update(Action::UsageLoaded {
        req: u2,
        result: Ok(usage(None)),
    });
    assert_eq!(a.usage.data, Some(usage(None)));
}

#[test]
fn keys_never_reach_the_screen_in_any_state() {
    // The welcome, at every step.
    let mut a = welcome_app(160, 48, Instant::now());
    for c in SECRET.chars() {
        a.update(key(KeyCode::Char(c)));
        shown(&a);
    }
    feed(&mut a, [key(KeyCode::F(1))]);
    shown(&a);
    // The account's forms.
    let mut a = account_screen(160, 48);
    feed(&mut a, [key(KeyCode::Char('k'))]);
    a.update(Action::Paste(SECRET.into()));
    shown(&a);
    feed(&mut a, [key(KeyCode::Enter)]);
    shown(&a);
}

// ---- Low balance ----

#[test]
fn the_credits_pane_warns_below_the_threshold_only() {
    let mut a = fresh(160, 48, Instant::now(), 40.0, None);
    assert!(!shown(&a).contains("low"));
    a.config.account.low_balance = Some(50.0);
    assert_eq!(a.low_balance(), Some(50.0));
    assert!(shown(&a).contains("40 credits  low · below 50"));
    a.config.account.low_balance = Some(40.0);
    assert_eq!(a.low_balance(), None, "at the threshold is not below it");
}

#[test]
fn the_low_balance_question_comes_only_when_the_balance_cannot_cover() {
    // Enough for 2 images at 6: submitted at once.
    let mut a = fresh(80, 24, Instant::now(), 12.0, Some(6.0));
    a.options.variants = Variants::Two;
    set_prompt(&mut a, "a fox");
    feed(&mut a, [ctrl('s')]);
    assert!(submitted(&a.take_effects()));
    assert_eq!(a.overlay, None);

    // Not enough for 4 images: asked first; anything but y cancels.
    let mut a = fresh(80, 24, Instant::now(), 12.0, Some(6.0));
    a.options.variants = Variants::Four;
    set_prompt(&mut a, "a fox");
    feed(&mut a, [ctrl('s')]);
    assert!(!submitted(&a.take_effects()));
    match &a.overlay {
        Some(Overlay::ConfirmSubmit { shortfall, .. }) => assert_eq!(
            shortfall.question(),
            "balance 12 probably can't cover ~24 credits: submit anyway?"
        ),
        other => panic!("a question: {other:?}"),
    }
    feed(&mut a, [ctrl('s')]);
    assert!(!submitted(&a.take_effects()), "Ctrl-S is not an answer");
    feed(&mut a, [key(KeyCode::Char('n'))]);
    assert_eq!(a.overlay, None);
    assert!(!submitted(&a.take_effects()));
    assert_eq!(a.submission, None);
    feed(&mut a, [ctrl('s'), key(KeyCode::Char('y'))]);
    assert!(submitted(&a.take_effects()), "y submits");
    assert!(a.submission.is_some());

    // No cost observed: the threshold decides.
    let mut a = fresh(80, 24, Instant::now(), 12.0, None);
    set_prompt(&mut a, "a fox");
    feed(&mut a, [ctrl('s')]);
    assert!(submitted(&a.take_effects()), "no threshold: no question");
    let mut a = fresh(80, 24, Instant::now(), 12.0, None);
    a.config.account.low_balance = Some(20.0);
    set_prompt(&mut a, "a fox");
    feed(&mut a, [ctrl('s')]);
    assert!(matches!(
        &a.overlay,
        Some(Overlay::ConfirmSubmit {
            shortfall: Shortfall::Threshold { .. },
            ..
        })
    ));

    // Balance unknown: no question.
    let mut a = app(80, 24, Instant::now());
    a.config.account.low_balance = Some(20.0);
    set_prompt(&mut a, "a fox");
    feed(&mut a, [ctrl('s')]);
    assert!(submitted(&a.take_effects()));
}

#[test]
fn the_sample_account_is_masked() {
    let info = account();
    assert_eq!(info.masked_key.as_deref(), Some("sk-…1234"));
    assert_eq!(info.base_url, BASE_URL);
}
