//! The welcome screen's behaviour: the key typed is checked, saved, or refused with a reason.

use super::*;

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
fn welcome_letters_are_typed_and_ctrl_d_starts_the_demo() {
    let mut a = welcome_app(80, 24, Instant::now());
    a.take_effects();
    // A key may begin with any letter: d and q with nothing typed are the key's first letters.
    feed(&mut a, typed("dq"));
    assert_eq!(a.welcome.input.text(), "dq", "typed as the key");
    assert!(
        !a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::StartDemo))
    );
    assert!(!a.should_quit());
    feed(&mut a, [ctrl('d')]);
    assert!(
        a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::StartDemo)),
        "Ctrl-D starts the demo"
    );
    feed(&mut a, [ctrl('u')]);
    assert!(a.welcome.input.is_empty(), "Ctrl-U clears");
    feed(&mut a, [key(KeyCode::Esc)]);
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
        result: Err(Failure::from(&fouro::api::Error::Unauthorized {
            msg: "invalid token".into(),
        })),
    });
    assert_eq!(a.screen, Screen::Welcome);
    assert_eq!(a.welcome.input.text(), SECRET, "kept for another try");
    let text = shown(&a).replace(['│', '"'], " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("4oImageApi.io refused this key (401)")
            && text.contains("pasted whole and is one of the service chosen here"),
        "{text}"
    );
    assert!(
        !text.contains("--api-key") && !text.contains("FOURO_API_KEY"),
        "the command line's advice means nothing on this screen: {text}"
    );
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
