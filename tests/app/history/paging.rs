//! Reading the history a page at a time, stale pages dropped, search and filters shaping the query.

use super::*;

#[test]
fn opening_asks_for_the_first_page_and_the_keys_go_back() {
    let mut a = app(80, 24, Instant::now());
    a.take_effects();
    a.update(key(KeyCode::F(3)));
    assert_eq!(a.screen, Screen::History);
    let asked = loads(&a.take_effects());
    assert_eq!(asked.len(), 1, "{asked:?}");
    let (_, query, offset, limit) = &asked[0];
    assert_eq!((query, *offset, *limit), (&Query::default(), 0, PAGE));
    for back in [
        KeyCode::Esc,
        KeyCode::Char('q'),
        KeyCode::F(3),
        KeyCode::Char('H'),
    ] {
        a.update(key(back));
        assert_eq!(a.screen, Screen::Main, "{back:?} goes back");
        a.update(key(KeyCode::Esc));
        a.update(key(KeyCode::Char('H')));
        assert_eq!(a.screen, Screen::History, "H outside the prompt opens it");
    }
    // In the prompt, H is text; F3 opens the history from there too.
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::BackTab));
    a.update(key(KeyCode::BackTab));
    a.update(key(KeyCode::BackTab));
    assert_eq!(a.focus, Focus::Prompt);
    a.update(key(KeyCode::Char('H')));
    assert_eq!((a.screen, a.prompt_text().as_str()), (Screen::Main, "H"));
    a.update(key(KeyCode::F(3)));
    assert_eq!(a.screen, Screen::History);
}

#[test]
fn a_long_history_is_read_a_page_at_a_time() {
    let db = many(10_000);
    let mut a = opened(80, 24, &db);
    assert_eq!(a.history.total, Some(10_000));
    // Down to row 5,000 a page of the screen at a time, the worker answering as it goes.
    let mut asked = Vec::new();
    while a.history.selected < 5_000 {
        a.update(key(KeyCode::PageDown));
        asked.extend(serve(&mut a, &db).1);
    }
    assert!(asked.iter().all(|l| l.3 == PAGE && PAGE <= 200));
    let mut offsets: Vec<usize> = asked.iter().map(|l| l.2).collect();
    offsets.dedup();
    assert_eq!(offsets.len(), asked.len(), "no page asked for twice");
    assert!(asked.len() <= 5_000 / PAGE + 2, "{} pages", asked.len());
    assert!(
        a.history.cached_pages() <= 4,
        "{} kept",
        a.history.cached_pages()
    );
    let shown = a.history.selected;
    assert!(screen(&a).contains(&format!("generation {shown}")));

    // A jump to the end asks only for the pages there, and not for those in between.
    a.update(key(KeyCode::End));
    let asked = loads(&a.take_effects());
    let offsets: Vec<usize> = asked.iter().map(|l| l.2).collect();
    assert!(!offsets.is_empty() && offsets.len() <= 2, "{offsets:?}");
    assert!(offsets.iter().all(|o| *o >= 9_800), "{offsets:?}");
    assert!(screen(&a).contains("loading…"));
    for (req, query, offset, limit) in asked {
        a.update(reply(&db, req, &query, offset, limit));
    }
    serve(&mut a, &db);
    assert_eq!(a.history.selected, 9_999);
    assert!(screen(&a).contains("generation 9999"));
}

#[test]
fn pages_left_behind_unanswered_are_dropped_when_they_come() {
    let db = many(10_000);
    let mut a = opened(160, 48, &db);
    // Down to row 5,000 without any answer: each page passed is asked for once at most.
    let mut asked = Vec::new();
    while a.history.selected < 5_000 {
        a.update(key(KeyCode::PageDown));
        asked.extend(loads(&a.take_effects()));
    }
    assert!(asked.len() <= 5_000 / PAGE + 2, "{} loads", asked.len());
    // The answers arrive late, all of them: only those around the view are kept.
    a.mark_drawn();
    for (req, query, offset, limit) in asked.iter().take(10).cloned() {
        a.update(reply(&db, req, &query, offset, limit));
        assert!(!a.is_dirty(), "page {offset} was left behind: dropped");
    }
    for (req, query, offset, limit) in asked.into_iter().skip(10) {
        a.update(reply(&db, req, &query, offset, limit));
    }
    assert!(a.history.cached_pages() <= 4);
    assert!(a.history.selected_entry().is_some());
}

#[test]
fn a_stale_page_is_dropped() {
    let db = sample();
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::F(3)));
    let first = loads(&a.take_effects());
    // A search starts before the first page came back.
    feed(&mut a, typed("/fox"));
    let searches = loads(&a.take_effects());
    assert_eq!(searches.len(), 3, "one query per keystroke");
    a.mark_drawn();
    for (req, query, offset, limit) in first.iter().chain(&searches[..2]).cloned() {
        a.update(reply(&db, req, &query, offset, limit));
        assert!(!a.is_dirty(), "an older query's page is dropped");
    }
    assert_eq!(a.history.total, None);
    let (req, query, offset, limit) = searches[2].clone();
    assert_eq!(query.search.as_deref(), Some("fox"));
    a.update(reply(&db, req, &query, offset, limit));
    assert_eq!(a.history.total, Some(matching(&db, &query).len()));
    assert!(screen(&a).contains("7 matches"));
    // The same answer twice, or one never asked for, is dropped too.
    a.mark_drawn();
    a.update(reply(&db, req, &query, offset, limit));
    a.update(reply(&db, 9_999, &query, offset, limit));
    assert!(!a.is_dirty());
}

#[test]
fn search_and_filters_shape_the_query() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    let last_query = |a: &mut App| loads(&a.take_effects()).last().map(|l| l.1.clone());
    feed(&mut a, typed("/fo"));
    assert_eq!(last_query(&mut a).and_then(|q| q.search), Some("fo".into()));
    a.update(key(KeyCode::Char('x')));
    assert_eq!(
        last_query(&mut a).and_then(|q| q.search),
        Some("fox".into())
    );
    a.update(key(KeyCode::Backspace));
    assert_eq!(last_query(&mut a).and_then(|q| q.search), Some("fo".into()));
    // Enter keeps the search; the letters are keys again.
    a.update(key(KeyCode::Enter));
    assert!(a.history.search.is_none());
    a.update(key(KeyCode::Char('s')));
    let q = last_query(&mut a).expect("a new query");
    assert_eq!(
        (q.search.as_deref(), q.status, q.size),
        (Some("fo"), Some(StatusFilter::Generating), None)
    );
    feed(&mut a, typed("sa"));
    let q = last_query(&mut a).expect("a new query");
    assert_eq!(
        (q.status, q.size),
        (Some(StatusFilter::Success), Some(Size::Square))
    );
    feed(&mut a, typed("aaa"));
    assert_eq!(last_query(&mut a).and_then(|q| q.size), None, "back to all");
    // Esc in the search line clears the search (the filters stay).
    feed(&mut a, [key(KeyCode::Char('/')), key(KeyCode::Esc)]);
    let q = last_query(&mut a).expect("a new query");
    assert_eq!((q.search, q.status), (None, Some(StatusFilter::Success)));
    assert!(a.history.search.is_none());
    // Pasting into the search line searches too.
    a.update(key(KeyCode::Char('/')));
    a.update(Action::Paste("lighthouse\n".into()));
    assert_eq!(
        last_query(&mut a).and_then(|q| q.search),
        Some("lighthouse".into())
    );
    // Ctrl-S does nothing while typing here.
    a.update(ctrl('s'));
    assert!(a.take_effects().is_empty());
    assert_eq!(a.screen, Screen::History);
}
