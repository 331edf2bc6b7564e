//! Low balance: the credits pane's warning and the question before a submit.

use super::*;

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
