//! The history screen, driven through `App::update` with the pages the worker would send
//! (`Action::HistoryLoaded`, built here from a list of entries standing in for the
//! database): snapshots at 80x24 and 160x48, and what each key asks the worker to do.
//! Times are shown in UTC (`utc_offset_secs` is 0 in tests). `▒` marks the cells left to
//! the inline image.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crossterm::event::KeyCode;
use fouro::api::input::ImageSource;
use fouro::api::{FallbackModel, Size, Variants};
use fouro::store::history::Image;
use fouro::store::{Entry, Params, Query, Reference, Status, StatusFilter};
use fouro::tui::action::{Action, Draft, Effect, Fitted, HistoryPage};
use fouro::tui::app::history::PAGE;
use fouro::tui::app::{App, Focus, Overlay, Screen};
use fouro::tui::preview::{Payload, fit_cells};
use fouro::tui::testing::{app, ctrl, key, screen, typed};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
/// 2026-11-26 08:08 UTC.
const T0_MS: i64 = 1_795_680_480_000;
const DATA: &str = "/home/ana/.local/share/fouro/images/2026-11-26";

fn feed(app: &mut App, actions: impl IntoIterator<Item = Action>) {
    for a in actions {
        app.update(a);
    }
}

fn snapshot(name: &str, build: impl Fn(u16, u16) -> App) {
    for (w, h) in SIZES {
        let app = build(w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&app));
    }
}

fn base(i: usize, status: Status, prompt: Option<&str>) -> Entry {
    let created_at = T0_MS - i as i64 * 37 * 60_000;
    let ended = status.is_final() && status != Status::Expired;
    Entry {
        task_id: format!("task_4o_{i:04}"),
        base_url: "https://api.kie.ai".into(),
        params: Params {
            prompt: prompt.map(str::to_owned),
            ..Params::default()
        },
        status,
        progress: if status == Status::Generating {
            0.4
        } else {
            1.0
        },
        error_code: None,
        error_message: None,
        created_at,
        completed_at: ended.then_some(created_at + 67_000),
        cost: None,
        images: Vec::new(),
    }
}

fn image(task_id: &str, index: usize, saved: bool) -> Image {
    Image {
        index,
        url: format!("https://tempfile.aiquickdraw.com/r/{task_id}-{index}.png"),
        path: saved.then(|| PathBuf::from(format!("{DATA}/{task_id}-{index}.png"))),
        error: None,
        gone: false,
    }
}

fn reference(name: &str) -> Reference {
    Reference {
        origin: format!("/home/ana/pictures/{name}"),
        url: format!("https://kieai.redpandaai.co/uploads/{name}"),
    }
}

/// One entry of each kind: every status, a prompt with control characters, an image not
/// downloaded, an expired one, one made from references only.
fn sample() -> Vec<Entry> {
    let mut out = Vec::new();

    let mut e = base(
        0,
        Status::Success,
        Some("a lighthouse at dusk, oil painting"),
    );
    e.params.size = Size::Landscape;
    e.params.variants = Variants::Four;
    e.params.enhance = true;
    e.params.fallback = Some(FallbackModel::FluxMax);
    e.params.refs = vec![reference("coast.png")];
    e.params.mask = Some(reference("sky-mask.png"));
    e.cost = Some(24.0);
    e.images = (0..4).map(|i| image("task_4o_0000", i, true)).collect();
    out.push(e);

    let mut e = base(1, Status::Generating, Some("a red fox in fresh snow"));
    e.params.variants = Variants::Two;
    out.push(e);

    let mut e = base(
        2,
        Status::GenerateFailed,
        Some("a portrait of a fox, 1920s"),
    );
    e.params.size = Size::Portrait;
    e.error_code = Some(500);
    e.error_message = Some("the model is overloaded".into());
    out.push(e);

    let mut e = base(3, Status::CreateTaskFailed, Some("forbidden things"));
    e.error_code = Some(400);
    e.error_message = Some("the prompt was refused".into());
    out.push(e);

    let mut e = base(4, Status::Expired, Some("a city at night"));
    e.images = vec![Image {
        gone: true,
        ..image("task_4o_0004", 0, false)
    }];
    out.push(e);

    let mut e = base(
        5,
        Status::Success,
        Some("line one\nline two \u{1b}[31mred\u{7}\ttab"),
    );
    e.cost = Some(6.0);
    e.images = vec![Image {
        error: Some("connection reset by peer".into()),
        ..image("task_4o_0005", 0, false)
    }];
    out.push(e);

    let mut e = base(6, Status::Success, None);
    e.params.refs = vec![
        Reference {
            origin: "https://example.com/a.png".into(),
            url: "https://example.com/a.png".into(),
        },
        Reference {
            origin: "https://example.com/b.png".into(),
            url: "https://example.com/b.png".into(),
        },
    ];
    e.cost = Some(6.0);
    e.images = vec![image("task_4o_0006", 0, true)];
    out.push(e);

    for i in 7..12 {
        let mut e = base(i, Status::Success, Some(&format!("study {i} of a fox")));
        e.cost = Some(6.0);
        e.images = vec![image(&format!("task_4o_{i:04}"), 0, true)];
        out.push(e);
    }
    out
}

/// `n` plain entries, newest first.
fn many(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| base(i, Status::Success, Some(&format!("generation {i}"))))
        .collect()
}

/// The entries of `db` a query matches, as the database would list them.
fn matching<'a>(db: &'a [Entry], q: &Query) -> Vec<&'a Entry> {
    let search = q
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    db.iter()
        .filter(|e| {
            search.as_ref().is_none_or(|s| {
                let prompt = e.params.prompt.as_deref().unwrap_or("").to_lowercase();
                prompt.contains(s) || e.task_id.contains(s)
            })
        })
        .filter(|e| {
            q.status.is_none_or(|f| match f {
                StatusFilter::Generating => e.status == Status::Generating,
                StatusFilter::Success => e.status == Status::Success,
                StatusFilter::Failed => e.status.is_failure(),
                StatusFilter::Expired => e.status == Status::Expired,
            })
        })
        .filter(|e| q.size.is_none_or(|s| e.params.size == s))
        .collect()
}

fn reply(db: &[Entry], req: u64, query: &Query, offset: usize, limit: usize) -> Action {
    let m = matching(db, query);
    Action::HistoryLoaded {
        req,
        result: Ok(HistoryPage {
            total: m.len(),
            offset,
            entries: m
                .iter()
                .skip(offset)
                .take(limit)
                .map(|e| (*e).clone())
                .collect(),
        }),
    }
}

/// A history load asked for: (req, query, offset, limit).
type Load = (u64, Query, usize, usize);

fn loads(effects: &[Effect]) -> Vec<Load> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadHistory {
                req,
                query,
                offset,
                limit,
            } => Some((*req, query.clone(), *offset, *limit)),
            _ => None,
        })
        .collect()
}

/// Answers every page asked for from `db`, as the worker would, until none is asked for;
/// returns the other effects and the loads answered.
fn serve(a: &mut App, db: &[Entry]) -> (Vec<Effect>, Vec<Load>) {
    let mut others = Vec::new();
    let mut served = Vec::new();
    loop {
        let effects = a.take_effects();
        if effects.is_empty() {
            return (others, served);
        }
        for e in effects {
            match e {
                Effect::LoadHistory {
                    req,
                    query,
                    offset,
                    limit,
                } => {
                    a.update(reply(db, req, &query, offset, limit));
                    served.push((req, query, offset, limit));
                }
                other => others.push(other),
            }
        }
    }
}

/// An app on the history screen with `db` loaded.
fn opened(w: u16, h: u16, db: &[Entry]) -> App {
    let mut a = app(w, h, Instant::now());
    a.update(key(KeyCode::F(3)));
    serve(&mut a, db);
    a
}

/// Answers the preview's decode as the worker would.
fn decode(a: &mut App) {
    let request = a.preview.requested.clone().expect("a decode request");
    let cells = fit_cells((1536, 1024), request.cells);
    a.update(Action::ImageDecoded {
        req: request.req,
        result: Ok(Fitted {
            cells,
            source_dims: (1536, 1024),
            payload: Arc::new(Payload::Viuer(image::DynamicImage::new_rgb8(1, 1))),
        }),
    });
}

fn select(a: &mut App, row: usize) {
    feed(a, [key(KeyCode::Home)]);
    for _ in 0..row {
        a.update(key(KeyCode::Down));
    }
}

#[test]
fn entries_of_every_kind() {
    snapshot("history_entries", |w, h| {
        let db = sample();
        let mut a = opened(w, h, &db);
        decode(&mut a);
        a
    });
}

#[test]
fn an_entry_without_its_file_says_why() {
    snapshot("history_not_downloaded", |w, h| {
        let db = sample();
        let mut a = opened(w, h, &db);
        select(&mut a, 5);
        a
    });
}

#[test]
fn search_with_matches() {
    snapshot("history_search", |w, h| {
        let db = sample();
        let mut a = opened(w, h, &db);
        feed(&mut a, typed("/fox"));
        serve(&mut a, &db);
        a
    });
}

#[test]
fn filters_active() {
    snapshot("history_filters", |w, h| {
        let db = sample();
        let mut a = opened(w, h, &db);
        // Status: generating, success, failed; aspect: 1:1.
        feed(&mut a, typed("sssa"));
        serve(&mut a, &db);
        a
    });
}

#[test]
fn details_overlay() {
    snapshot("history_details", |w, h| {
        let db = sample();
        let mut a = opened(w, h, &db);
        decode(&mut a);
        feed(&mut a, [key(KeyCode::Char('i'))]);
        a
    });
}

#[test]
fn delete_question() {
    snapshot("history_delete", |w, h| {
        let db = sample();
        let mut a = opened(w, h, &db);
        feed(&mut a, [key(KeyCode::Char('d'))]);
        a
    });
}

#[test]
fn empty_history() {
    snapshot("history_empty", |w, h| opened(w, h, &[]));
}

#[test]
fn rows_still_loading() {
    snapshot("history_loading", |w, h| {
        let db = many(10_000);
        let mut a = opened(w, h, &db);
        // The last rows are asked for and not answered yet.
        feed(&mut a, [key(KeyCode::End)]);
        a
    });
}

#[test]
fn full_screen_from_the_history() {
    snapshot("history_full_screen", |w, h| {
        let db = sample();
        let mut a = opened(w, h, &db);
        feed(&mut a, [key(KeyCode::Char('f')), key(KeyCode::Char(']'))]);
        decode(&mut a);
        a
    });
}

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

#[test]
fn remix_loads_every_parameter_into_the_editor() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    a.update(key(KeyCode::Char('r')));
    assert_eq!(a.screen, Screen::Main);
    assert_eq!(a.focus, Focus::Prompt);
    assert_eq!(a.prompt_text(), "a lighthouse at dusk, oil painting");
    let o = &a.options;
    assert_eq!(
        (o.size, o.variants, o.enhance, o.fallback),
        (
            Size::Landscape,
            Variants::Four,
            true,
            Some(FallbackModel::FluxMax)
        )
    );
    let checks: Vec<(u64, String)> = a
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::CheckReference { id, entry } => Some((id, entry)),
            _ => None,
        })
        .collect();
    let entries: Vec<&str> = checks.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        entries,
        [
            "/home/ana/pictures/coast.png",
            "/home/ana/pictures/sky-mask.png"
        ]
    );
    assert_eq!(a.refs.entries[0].label, "coast.png");
    // The reference's file is gone: the copy uploaded then is used. The mask is still there.
    a.update(Action::ReferenceChecked {
        id: checks[0].0,
        result: Err("cannot use \"/home/ana/pictures/coast.png\": No such file or directory (os error 2): check the path".into()),
    });
    a.update(Action::ReferenceChecked {
        id: checks[1].0,
        result: Ok(fouro::tui::action::CheckedRef {
            source: ImageSource::File("/home/ana/pictures/sky-mask.png".into()),
            dims: Some((1536, 1024)),
            bytes: Some(2048),
        }),
    });
    assert_eq!(
        a.refs.entries[0].source(),
        Some(&ImageSource::Url(
            "https://kieai.redpandaai.co/uploads/coast.png".into()
        ))
    );
    assert!(
        a.refs
            .refusal
            .as_deref()
            .is_some_and(|r| r.contains("using the copy uploaded"))
    );
    a.update(ctrl('s'));
    let draft = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Submit { draft, .. } => Some(draft),
            _ => None,
        })
        .expect("the remix submits");
    assert_eq!(
        draft.mask,
        Some(ImageSource::File("/home/ana/pictures/sky-mask.png".into()))
    );
    assert_eq!(draft.size, Size::Landscape);
}

#[test]
fn remix_takes_url_references_as_they_are_and_keeps_prompt_lines() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    select(&mut a, 6);
    a.take_effects();
    a.update(key(KeyCode::Char('r')));
    assert_eq!(a.prompt_text(), "", "references only");
    let sources: Vec<_> = a.refs.entries.iter().map(|e| e.source().cloned()).collect();
    assert_eq!(
        sources,
        [
            Some(ImageSource::Url("https://example.com/a.png".into())),
            Some(ImageSource::Url("https://example.com/b.png".into())),
        ]
    );
    assert!(a.take_effects().is_empty(), "URLs need no check");

    // A prompt with control characters keeps its lines and loses the rest.
    a.update(key(KeyCode::F(3)));
    serve(&mut a, &db);
    select(&mut a, 5);
    a.update(key(KeyCode::Char('r')));
    assert_eq!(a.prompt_text(), "line one\nline two [31mred\ttab");
    assert!(
        a.refs.entries.is_empty(),
        "the last remix's references are replaced"
    );
}

#[test]
fn rerun_asks_then_submits_the_recorded_parameters() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    a.update(key(KeyCode::Char('R')));
    assert!(a.take_effects().is_empty(), "nothing before the answer");
    assert!(screen(&a).contains("4 images, cost not known yet"));
    a.update(key(KeyCode::Char('y')));
    let draft = a
        .take_effects()
        .into_iter()
        .find_map(|e| match e {
            Effect::Submit { draft, .. } => Some(draft),
            _ => None,
        })
        .expect("a submission");
    assert_eq!(
        draft,
        Draft {
            prompt: Some("a lighthouse at dusk, oil painting".into()),
            refs: vec![ImageSource::Url(
                "https://kieai.redpandaai.co/uploads/coast.png".into()
            )],
            mask: Some(ImageSource::Url(
                "https://kieai.redpandaai.co/uploads/sky-mask.png".into()
            )),
            size: Size::Landscape,
            variants: Variants::Four,
            enhance: true,
            fallback: Some(FallbackModel::FluxMax),
        }
    );
    assert_eq!(a.screen, Screen::Main);
    assert!(a.submission.is_some());
    assert_eq!(a.prompt_text(), "", "the editor is left alone");
    // One submission at a time, from the history too.
    a.update(key(KeyCode::F(3)));
    serve(&mut a, &db);
    a.update(key(KeyCode::Char('R')));
    assert!(a.take_effects().is_empty());
    assert_eq!(a.screen, Screen::History);
    assert!(screen(&a).contains("already on its way"));
}

#[test]
fn delete_asks_first_and_removes_files_only_when_told() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    let deletes = |a: &mut App| -> Vec<(String, bool)> {
        a.take_effects()
            .into_iter()
            .filter_map(|e| match e {
                Effect::DeleteEntry { task_id, files } => Some((task_id, files)),
                _ => None,
            })
            .collect()
    };
    a.update(key(KeyCode::Char('d')));
    assert!(matches!(
        a.overlay,
        Some(Overlay::ConfirmDelete { files: 4, .. })
    ));
    assert!(deletes(&mut a).is_empty(), "nothing before the answer");
    a.update(key(KeyCode::Char('x')));
    assert!(a.overlay.is_some(), "another key leaves the question open");
    a.update(key(KeyCode::Esc));
    assert!(a.overlay.is_none());
    assert!(deletes(&mut a).is_empty(), "cancelled");

    feed(&mut a, typed("de"));
    assert_eq!(deletes(&mut a), [("task_4o_0000".to_owned(), false)]);
    feed(&mut a, typed("df"));
    assert_eq!(deletes(&mut a), [("task_4o_0000".to_owned(), true)]);
    a.update(Action::EntryDeleted {
        task_id: "task_4o_0000".into(),
        result: Ok(4),
    });
    let text = a
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(text.contains("removed 4 image files"), "{text}");
    let reload = loads(&a.take_effects());
    assert!(
        reload.iter().any(|l| l.2 == 0),
        "the page is read again: {reload:?}"
    );

    // An entry with no file offers no file to delete.
    a.update(key(KeyCode::Esc));
    select(&mut a, 2);
    feed(&mut a, typed("df"));
    assert!(a.overlay.is_some());
    assert!(deletes(&mut a).is_empty());
    a.update(key(KeyCode::Char('e')));
    assert_eq!(deletes(&mut a), [("task_4o_0002".to_owned(), false)]);
    a.update(Action::EntryDeleted {
        task_id: "task_4o_0002".into(),
        result: Err("the database is locked".into()),
    });
    assert!(screen(&a).contains("could not delete task_4o_0002"));
}

#[test]
fn copy_and_open_use_the_image_shown() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    // Each copy says so in a message, which Esc dismisses.
    feed(
        &mut a,
        [
            key(KeyCode::Char(']')),
            key(KeyCode::Char('y')),
            key(KeyCode::Esc),
            key(KeyCode::Char('Y')),
            key(KeyCode::Esc),
            key(KeyCode::Char('o')),
        ],
    );
    let done: Vec<Effect> = a
        .take_effects()
        .into_iter()
        .filter(|e| matches!(e, Effect::Copy(_) | Effect::Open(_)))
        .collect();
    let path = format!("{DATA}/task_4o_0000-1.png");
    assert!(
        matches!(&done[..], [Effect::Copy(p), Effect::Copy(u), Effect::Open(o)]
            if *p == path
            && u == "https://tempfile.aiquickdraw.com/r/task_4o_0000-1.png"
            && o.as_path() == std::path::Path::new(&path)),
        "{done:?}"
    );
    // Not downloaded: no path to copy or open, and it says why; the URL still copies.
    select(&mut a, 5);
    a.take_effects();
    a.update(key(KeyCode::Char('y')));
    assert!(a.take_effects().is_empty());
    let text = a
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default();
    assert!(
        text.contains("not downloaded: connection reset by peer"),
        "{text}"
    );
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('o')));
    assert!(a.take_effects().is_empty());
    a.update(key(KeyCode::Esc));
    a.update(key(KeyCode::Char('Y')));
    assert!(
        matches!(&a.take_effects()[..], [Effect::Copy(u)] if u.ends_with("task_4o_0005-0.png"))
    );
}

#[test]
fn the_preview_decodes_the_selected_entrys_saved_image() {
    let db = sample();
    let mut a = app(160, 48, Instant::now());
    a.update(key(KeyCode::F(3)));
    let (effects, _) = serve(&mut a, &db);
    let decoded = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::Decode { path, .. } => Some(path.clone()),
            _ => None,
        })
    };
    assert_eq!(
        decoded(&effects),
        Some(PathBuf::from(format!("{DATA}/task_4o_0000-0.png")))
    );
    a.update(key(KeyCode::Char(']')));
    assert_eq!(
        decoded(&a.take_effects()),
        Some(PathBuf::from(format!("{DATA}/task_4o_0000-1.png")))
    );
    decode(&mut a);
    assert!(a.preview_target().is_some());
    assert!(screen(&a).contains('▒'));
    // Hidden under a window.
    a.update(key(KeyCode::Char('i')));
    assert!(a.preview_target().is_none());
    a.update(key(KeyCode::Esc));
    // An expired entry has no file: no decode, and the pane says so.
    select(&mut a, 4);
    assert_eq!(decoded(&a.take_effects()), None);
    assert!(a.preview_target().is_none());
    assert!(screen(&a).contains("expired"));
    // Back on the main screen, the history's image is not asked for any more.
    a.update(key(KeyCode::Esc));
    assert!(a.preview.requested.is_none());
}

#[test]
fn history_errors_and_viewer_failures_show_as_messages() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.update(Action::OpenFailed(
        "could not open the image in the system viewer".into(),
    ));
    assert!(screen(&a).contains("could not open the image"));
    a.update(key(KeyCode::Esc));
    assert!(a.message.is_none(), "Esc dismisses it first");
    assert_eq!(a.screen, Screen::History);
    // On the main screen too.
    a.update(key(KeyCode::Esc));
    assert_eq!(a.screen, Screen::Main);
    a.update(Action::HistoryError(
        "the history could not be written".into(),
    ));
    assert!(screen(&a).contains("the history could not be written"));

    // A page that cannot be read says so, and a key tries again.
    let mut a = app(80, 24, Instant::now());
    a.update(key(KeyCode::F(3)));
    let (req, ..) = loads(&a.take_effects())[0].clone();
    a.update(Action::HistoryLoaded {
        req,
        result: Err("the database is locked".into()),
    });
    assert!(screen(&a).contains("could not read the history: the database is locked"));
    assert!(a.take_effects().is_empty(), "not asked again by itself");
    a.update(key(KeyCode::Down));
    assert_eq!(loads(&a.take_effects()).len(), 1);
}

#[test]
fn details_scroll_and_close() {
    let db = sample();
    let mut a = opened(80, 24, &db);
    a.update(key(KeyCode::Char('i')));
    let text = screen(&a);
    assert!(text.contains("task_4o_0000") && text.contains("https://api.kie.ai"));
    a.update(key(KeyCode::End));
    let Some(Overlay::Details { scroll, .. }) = &a.overlay else {
        panic!("the details are open");
    };
    assert!(*scroll > 0, "80x24 cannot show every field at once");
    assert!(screen(&a).contains("  file       /home/ana/.local/share/fouro/images"));
    a.update(key(KeyCode::Char('i')));
    assert!(a.overlay.is_none());
}

#[test]
fn a_task_shown_that_changes_is_read_again_without_blanking_the_list() {
    let mut db = sample();
    let mut a = opened(80, 24, &db);
    a.take_effects();
    // The worker recorded a status of task 1 in the database, then told the app.
    db[1].status = Status::Success;
    db[1].images = vec![image("task_4o_0001", 0, true)];
    a.update(Action::TaskUpdate {
        task_id: "task_4o_0001".into(),
        generation: 0,
        record: fouro::tui::testing::record(
            "task_4o_0001",
            fouro::api::TaskStatus::Success,
            1.0,
            1,
            None,
        ),
    });
    let asked = loads(&a.take_effects());
    assert_eq!(asked.len(), 1, "the page shown is read again");
    assert!(!screen(&a).contains("loading…"), "meanwhile the rows stay");
    let (req, query, offset, limit) = asked[0].clone();
    a.update(reply(&db, req, &query, offset, limit));
    select(&mut a, 1);
    assert_eq!(
        a.history.selected_entry().map(|e| e.status),
        Some(Status::Success)
    );
    // A task not on screen asks for nothing.
    a.update(Action::TaskUpdate {
        task_id: "task_elsewhere".into(),
        generation: 0,
        record: fouro::tui::testing::record(
            "task_elsewhere",
            fouro::api::TaskStatus::Success,
            1.0,
            1,
            None,
        ),
    });
    assert!(loads(&a.take_effects()).is_empty());
}

#[test]
fn any_size_renders_without_panicking() {
    let db = sample();
    for (w, h) in [
        (0, 0),
        (1, 1),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 23),
        (300, 90),
    ] {
        let mut a = opened(80, 24, &db);
        a.update(Action::Resize(w, h));
        serve(&mut a, &db);
        screen(&a);
        for k in ['i', 'd'] {
            a.update(key(KeyCode::Char(k)));
            screen(&a);
            a.update(key(KeyCode::Esc));
        }
        feed(&mut a, typed("/fox"));
        serve(&mut a, &db);
        screen(&a);
        feed(&mut a, [key(KeyCode::Enter), key(KeyCode::End)]);
        a.update(key(KeyCode::Char('f')));
        screen(&a);
    }
}
