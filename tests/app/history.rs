//! The history screen, driven through `App::update` with the pages the worker would send
//! (`Action::HistoryLoaded`, built here from a list of entries standing in for the
//! database): snapshots at 80x24 and 160x48, and what each key asks the worker to do.
//! Times are shown in UTC (`utc_offset_secs` is 0 in tests). `▒` marks the cells left to
//! the inline image.

use std::path::PathBuf;
use std::time::Instant;

use crate::common::app::{answer_decode, feed};
use crossterm::event::KeyCode;
use fouro::api::input::ImageSource;
use fouro::api::{FallbackModel, Size, Variants};
use fouro::store::history::Image;
use fouro::store::{Entry, Params, Query, Reference, Status, StatusFilter};
use fouro::tui::action::{Action, Draft, Effect, HistoryPage};
use fouro::tui::app::history::PAGE;
use fouro::tui::app::{App, Focus, Overlay, Screen};
use fouro::tui::testing::{app, ctrl, key, screen, typed};

mod actions;
mod paging;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
/// 2026-11-26 08:08 UTC.
const T0_MS: i64 = 1_795_680_480_000;
const DATA: &str = "/home/ana/.local/share/fouro/images/2026-11-26";

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
pub(crate) fn sample() -> Vec<Entry> {
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
            more: false,
            offset,
            entries: m
                .iter()
                .skip(offset)
                .take(limit)
                .map(|e| (*e).clone())
                .collect(),
            scoped: false,
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
pub(crate) fn opened(w: u16, h: u16, db: &[Entry]) -> App {
    let mut a = app(w, h, Instant::now());
    a.update(key(KeyCode::F(3)));
    serve(&mut a, db);
    a
}

/// Answers the preview's decode as the worker would.
fn decode(a: &mut App) {
    assert!(answer_decode(a), "a decode request");
}

pub(crate) fn select(a: &mut App, row: usize) {
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
fn a_short_search_looks_among_the_newest_entries_and_says_so() {
    let db = sample();
    let mut a = opened(120, 30, &db);
    feed(&mut a, typed("/fo"));
    let asked = loads(&a.take_effects());
    let (req, query, offset, limit) = asked.last().cloned().expect("a page of \"fo\"");
    assert_eq!(query.newest, Some(fouro::store::SHORT_SEARCH_SCOPE));
    let Action::HistoryLoaded {
        result: Ok(page), ..
    } = reply(&db, req, &query, offset, limit)
    else {
        panic!("a page")
    };
    a.update(Action::HistoryLoaded {
        req,
        result: Ok(HistoryPage {
            scoped: true,
            ..page
        }),
    });
    let shown = fouro::tui::testing::screen(&a);
    assert!(
        shown.contains("in the newest 20,000 · a 3rd character searches all"),
        "{shown}"
    );
    // A third character searches every entry.
    feed(&mut a, typed("x"));
    let asked = loads(&a.take_effects());
    let (req, query, offset, limit) = asked.last().cloned().expect("a page of \"fox\"");
    assert_eq!(query.newest, None);
    a.update(reply(&db, req, &query, offset, limit));
    assert!(!fouro::tui::testing::screen(&a).contains("in the newest"));
}
