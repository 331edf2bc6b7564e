//! A search's count stops a little past what is shown, so that a word found in most entries
//! costs as little to count as a rare one; without a search text the count is exact.

use crate::search;
use fouro::store::{History, Query, StatusFilter};

#[test]
fn a_search_is_counted_no_further_than_asked() {
    let data = tempfile::tempdir().unwrap();
    let h = History::open_in(data.path()).unwrap();
    for i in 0..30 {
        let prompt = if i % 10 == 0 {
            format!("{i}: a grey wolf")
        } else {
            format!("{i}: a red fox")
        };
        h.insert(
            &format!("task_4o_{i:03}"),
            "http://127.0.0.1:9",
            &crate::prompt(&prompt),
            i,
        )
        .unwrap();
    }

    assert_eq!(
        h.count_upto(&search("red fox"), 10).unwrap(),
        11,
        "10 and more"
    );
    assert_eq!(h.count_upto(&search("red fox"), 100).unwrap(), 27);
    assert_eq!(
        h.count_shown(&search("red fox"), 0, 10).unwrap(),
        (10, true),
        "10+ from the top"
    );
    assert_eq!(
        h.count_shown(&search("red fox"), 10, 10).unwrap(),
        (20, true),
        "reading further counts further"
    );
    assert_eq!(
        h.count_shown(&search("red fox"), 20, 10).unwrap(),
        (27, false)
    );
    assert_eq!(h.count_shown(&search("wolf"), 0, 10).unwrap(), (3, false));
    assert_eq!(
        h.count_shown(&search("fo"), 0, 5).unwrap(),
        (5, true),
        "a text too short for the index is capped too"
    );
    let filtered = |status| Query {
        status: Some(status),
        ..search("red fox")
    };
    assert_eq!(
        h.count_shown(&filtered(StatusFilter::Generating), 0, 10)
            .unwrap(),
        (10, true),
        "a search with a filter"
    );
    assert_eq!(
        h.count_shown(&filtered(StatusFilter::Success), 0, 10)
            .unwrap(),
        (0, false)
    );
    assert_eq!(
        h.count_shown(&Query::default(), 0, 10).unwrap(),
        (30, false),
        "without a search text, exact"
    );
    // The pages keep their order, newest first, whatever the count.
    let page = h.page(&search("red fox"), 0, 3).unwrap();
    let ids: Vec<&str> = page.iter().map(|e| e.task_id.as_str()).collect();
    assert_eq!(ids, ["task_4o_029", "task_4o_028", "task_4o_027"]);
}

#[test]
fn the_page_past_any_history_counts_every_match_and_lists_none() {
    let data = tempfile::tempdir().unwrap();
    let h = History::open_in(data.path()).unwrap();
    for i in 0..40 {
        h.insert(
            &format!("task_4o_{i:03}"),
            "http://127.0.0.1:9",
            &crate::prompt(&format!("{i}: a red fox")),
            i,
        )
        .unwrap();
    }
    for text in ["red fox", "fo"] {
        assert_eq!(
            h.count_shown(&search(text), usize::MAX, 10).unwrap(),
            (40, false),
            "{text}"
        );
        assert!(h.page(&search(text), usize::MAX, 100).unwrap().is_empty());
    }
}

#[test]
fn a_search_scoped_to_the_newest_entries_reads_and_counts_only_them() {
    let data = tempfile::tempdir().unwrap();
    let h = History::open_in(data.path()).unwrap();
    for i in 0..30 {
        let prompt = if i < 25 { "a red fox" } else { "a grey wolf" };
        h.insert(
            &format!("task_4o_{i:03}"),
            "http://127.0.0.1:9",
            &crate::prompt(prompt),
            i,
        )
        .unwrap();
    }
    let scoped = |text, newest| Query {
        newest: Some(newest),
        ..search(text)
    };
    let ids = |q: &Query| -> Vec<String> {
        h.page(q, 0, 100)
            .unwrap()
            .into_iter()
            .map(|e| e.task_id)
            .collect()
    };
    // The newest 10 are entries 29..=20: five wolves, then five foxes.
    assert_eq!(
        ids(&scoped("fo", 10)),
        (20..25)
            .rev()
            .map(|i| format!("task_4o_{i:03}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        h.count_shown(&scoped("fo", 10), 0, 100).unwrap(),
        (5, false)
    );
    assert_eq!(
        h.count_shown(&scoped("wo", 10), 0, 100).unwrap(),
        (5, false)
    );
    assert_eq!(h.count_shown(&scoped("fo", 3), 0, 100).unwrap(), (0, false));
    // A scope wider than the history is the whole history.
    assert_eq!(
        h.count_shown(&scoped("fo", 1_000), 0, 100).unwrap(),
        (25, false)
    );
    assert!(h.holds_more_than(29).unwrap());
    assert!(!h.holds_more_than(30).unwrap());
}
