//! The welcome screen, the account screen and the low-balance warnings, driven through
//! `App::update` with the answers the worker would send (`Profiles`, `KeyChecked`,
//! `AccountChanged`, `UsageLoaded`): snapshots at 80x24 and 160x48, and what each key asks
//! the worker to do. A key typed anywhere must never reach the screen: every snapshot
//! checks that its text is absent. Times are shown in UTC (`utc_offset_secs` is 0).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::app::{credits_req, feed, find_effect};
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
    welcome_app_at,
};

mod low_balance;
mod profiles;
mod welcome;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
/// 2026-11-26 08:08 UTC.
const T0_MS: i64 = 1_795_680_480_000;
const DAY_MS: i64 = 24 * 3600 * 1000;
const CONFIG: &str = "/home/ana/.config/fouro/config.toml";
/// What the person types as a key: it must never be drawn.
const SECRET: &str = "sk-live-TOPSECRET-0123456789abcdef";

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
pub(crate) fn account_screen(w: u16, h: u16) -> App {
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
            result: Err(Failure::from(&fouro::api::Error::Unauthorized {
                msg: "invalid token".into(),
            })),
        });
        a
    });
}

/// Pointed at another service (`--base-url`): the screen names the profile it saves, "custom",
/// and no known service's key page.
#[test]
fn welcome_custom_service() {
    snapshot("welcome_custom", |w, h| {
        let mut a = welcome_app_at(w, h, Instant::now(), "http://127.0.0.1:9/");
        feed(&mut a, [key(KeyCode::Down)]);
        a.update(Action::Paste(SECRET.into()));
        feed(&mut a, [key(KeyCode::Enter)]);
        let (req, profile, ..) = check_key(&a.take_effects()).expect("a check");
        assert_eq!(profile, "custom", "the profile the screen names");
        a.update(Action::KeyChecked {
            req,
            result: Err(Failure::from(&fouro::api::Error::Unauthorized {
                msg: "invalid token".into(),
            })),
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
