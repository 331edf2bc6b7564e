//! The history view's paging, counting and filters.

use super::*;
use crate::store::Params;
use crate::store::Status;

fn entry(i: usize) -> Entry {
    Entry {
        task_id: format!("t{i}"),
        base_url: "http://x".into(),
        params: Params::default(),
        status: Status::Success,
        progress: 1.0,
        error_code: None,
        error_message: None,
        created_at: 0,
        completed_at: None,
        cost: None,
        images: Vec::new(),
    }
}

fn page(total: usize, offset: usize) -> HistoryPage {
    HistoryPage {
        total,
        more: false,
        offset,
        entries: (offset..(offset + PAGE).min(total)).map(entry).collect(),
        scoped: false,
    }
}

#[test]
fn pages_are_read_around_the_view_only() {
    let mut v = HistoryView::default();
    let mut id = 0;
    let asks = v.fetch(20, || {
        id += 1;
        id
    });
    assert_eq!(asks, vec![(1, 0)]);
    assert!(v.take(1, Ok(page(10_000, 0))));
    v.select(5_000);
    let asks = v.fetch(20, || {
        id += 1;
        id
    });
    let offsets: Vec<usize> = asks.iter().map(|a| a.1).collect();
    assert_eq!(offsets, vec![4_900, 5_000]);
    for (req, offset) in asks {
        assert!(v.take(req, Ok(page(10_000, offset))));
    }
    assert_eq!(v.cached_pages(), 2, "page 0 was dropped");
    assert_eq!(
        v.selected_entry().map(|e| e.task_id.as_str()),
        Some("t5000")
    );
    assert!(!v.take(1, Ok(page(10_000, 0))), "answered already");
}

#[test]
fn a_search_counted_so_far_grows_as_the_list_is_read_down() {
    let mut v = HistoryView::default();
    let capped = |total, offset| HistoryPage {
        more: true,
        ..page(total, offset)
    };
    assert_eq!(v.fetch(20, || 1), vec![(1, 0)]);
    assert!(v.take(1, Ok(capped(10_000, 0))));
    assert_eq!((v.total, v.more), (Some(10_000), true));
    v.select(9_990);
    let asks = v.fetch(20, || 2);
    assert!(asks.contains(&(2, 9_900)), "{asks:?}");
    assert!(v.take(2, Ok(capped(19_900, 9_900))));
    assert_eq!((v.total, v.more), (Some(19_900), true), "counted further");
    // A page nearer the top, counted less far, says nothing of fewer matches.
    v.reload();
    v.select(9_800);
    let asks = v.fetch(20, || 3);
    assert!(asks.contains(&(3, 9_800)), "{asks:?}");
    assert!(v.take(3, Ok(capped(19_800, 9_800))));
    assert_eq!((v.total, v.more), (Some(19_900), true));
    // The end reached: an exact count.
    v.select(19_899);
    let asks = v.fetch(20, || 4);
    let (req, offset) = *asks.last().expect("a page further down");
    assert!(v.take(req, Ok(page(19_950, offset))));
    assert_eq!((v.total, v.more), (Some(19_950), false));
}

#[test]
fn a_failed_page_is_not_asked_for_again_by_itself() {
    let mut v = HistoryView::default();
    let asks = v.fetch(20, || 7);
    assert_eq!(asks.len(), 1);
    assert!(v.take(7, Err("locked".into())));
    assert!(v.fetch(20, || 8).is_empty());
    v.error = None;
    assert_eq!(v.fetch(20, || 9), vec![(9, 0)]);
}

#[test]
fn filters_cycle_through_every_value_and_back_to_none() {
    let mut f = None;
    let mut seen = Vec::new();
    for _ in 0..5 {
        f = cycle_filter(&StatusFilter::ALL, f);
        seen.push(f);
    }
    assert_eq!(seen.last(), Some(&None));
    assert_eq!(seen[0], Some(StatusFilter::Generating));
}

#[test]
fn an_answer_that_repeats_an_entry_loaded_is_no_news() {
    use crate::api::TaskStatus;
    let mut v = HistoryView::default();
    assert_eq!(v.fetch(20, || 1), vec![(1, 0)]);
    let mut first = page(3, 0);
    first.entries[0].status = Status::Generating;
    first.entries[0].progress = 0.25;
    assert!(v.take(1, Ok(first)));
    let answer = |id: &str, status, progress| TaskRecord {
        task_id: id.into(),
        status,
        progress,
        result_urls: Vec::new(),
        error_code: None,
        error_message: None,
        create_time: None,
        complete_time: None,
        param_json: None,
    };
    assert!(!v.is_news(&answer("t0", TaskStatus::Generating, 0.25)));
    assert!(v.is_news(&answer("t0", TaskStatus::Generating, 0.5)));
    assert!(
        !v.is_news(&answer("t7", TaskStatus::Generating, 0.5)),
        "not loaded"
    );
    assert!(!v.is_news(&answer("t1", TaskStatus::Success, 1.0)));
    assert!(
        !v.is_news(&answer("t1", TaskStatus::Generating, 0.9)),
        "a late reply"
    );
    let urls = TaskRecord {
        result_urls: vec!["https://r/1.png".into()],
        ..answer("t1", TaskStatus::Success, 1.0)
    };
    assert!(v.is_news(&urls));
}

#[test]
fn the_end_of_a_search_counted_so_far_is_reached_by_counting_every_match() {
    let mut v = HistoryView::default();
    assert_eq!(v.fetch(20, || 1), vec![(1, 0)]);
    let capped = HistoryPage {
        more: true,
        ..page(10_000, 0)
    };
    assert!(v.take(1, Ok(capped)));
    v.select_last();
    let asks = v.fetch(20, || 2);
    assert!(asks.contains(&(2, END)), "{asks:?}");
    assert_eq!(v.fetch(20, || 3), vec![], "asked once");
    let counted = HistoryPage {
        total: 123_456,
        more: false,
        offset: END,
        entries: Vec::new(),
        scoped: false,
    };
    assert!(v.take(2, Ok(counted)));
    assert_eq!(
        (v.total, v.more, v.selected),
        (Some(123_456), false, 123_455)
    );
    let asks = v.fetch(20, || 4);
    assert_eq!(asks.last().map(|a| a.1), Some(123_400), "{asks:?}");

    // Without a capped count, the end is where the count says.
    let mut v = HistoryView::default();
    assert_eq!(v.fetch(20, || 1), vec![(1, 0)]);
    assert!(v.take(1, Ok(page(250, 0))));
    v.select_last();
    assert_eq!(v.selected, 249);
    assert!(!v.fetch(20, || 2).iter().any(|a| a.1 == END));
}
