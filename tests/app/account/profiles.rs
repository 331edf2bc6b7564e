//! The account screen's behaviour: profiles chosen, added, edited and removed, keys checked first.

use super::*;

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
